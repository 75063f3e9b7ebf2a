"""`make artifact-test`: one real morning from the built Lambda artifact, under python3.13 with
nothing on its path but the artifact and the SDK the Lambda runtime ships.

The Makefile builds the artifact with the recipe of `make build` (the one sam build calls), for
this machine's architecture instead of arm64, into DIR/task, and the older boto3 the runtime may
ship (requirements-lambda-runtime.txt) into DIR/runtime. This runs EVENT (default
events/scheduled.json, the 09:20 schedule of 2026-11-24) the way `make invoke` does without
Docker: the stand-ins of `infra.invoke.stand_ins` (paper broker and DynamoDB Local on free
loopback ports, run by this virtualenv's Python, stopped afterwards), the function's environment
from `infra.local_lambda.local_env`, one `infra.handler_cli` invocation watched by
`infra.handler_process`. Only the interpreter differs: python3.13 in isolated mode, set up by
`infra/artifact_bootstrap.py`.

It fails (exit 1) unless the morning ends `done` with orders sent, and the handler, the SDK,
urllib3 and tzdata came from the artifact, ahead of the runtime's SDK: so a module left out of
the artifact, missing zoneinfo data and a build that leaves boto3 to the runtime all fail it.
Prints where each came from and the morning's status; writes the summary (summary.json) and the
function's log (handler.log) into DIR.

    python -m infra.artifact_test --python PYTHON3.13 --dir .aws-sam/artifact-test [--event E]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from backtest.arguments import add_seed_argument
from infra.artifact_bootstrap import HANDLER_MODULE, RUNTIME_MESSAGE
from infra.handler_cli import EventFileError, read_event
from infra.handler_process import ROOT, HandlerProcess, Outcome
from infra.invoke import stand_ins

BOOTSTRAP = ROOT / "infra" / "artifact_bootstrap.py"
DEFAULT_EVENT = ROOT / "events" / "scheduled.json"
MORNING_TIMEOUT = 300.0  # seconds; a local morning takes well under a minute


@dataclass(frozen=True)
class Layout:
    """The folders of one artifact test: Lambda's /var/task, the runtime's packages, and the
    folder that lends `infra` to the command line after the function's module is imported."""

    task: Path
    runtime: Path
    tools: Path

    @classmethod
    def under(cls, root: Path) -> Layout:
        root = root.resolve()
        return cls(root / "task", root / "runtime", root / "tools")

    def where(self, origin: str | None) -> str:
        """Which of the folders a module was found in ('task', 'runtime'), else its path."""
        if origin is None:
            return "nowhere"
        path = Path(origin).resolve()
        for name in ("task", "runtime"):
            if path.is_relative_to(getattr(self, name)):
                return name
        return origin


# Where Lambda must find each module: all in the artifact (/var/task), which comes before the
# runtime's packages; the SDK too, so the runtime's own boto3, whatever its version, is unused.
EXPECTED = {HANDLER_MODULE: "task", "boto3": "task", "botocore": "task", "urllib3": "task",
            "tzdata": "task"}


def bootstrap_command(python: str, layout: Layout) -> list[str]:
    """The interpreter command `HandlerProcess` runs `infra.handler_cli`'s options with."""
    folders = (layout.task, layout.runtime, layout.tools)
    return [python, "-I", "-S", "-B", str(BOOTSTRAP), *map(str, folders)]


def runtime_line(outcome: Outcome) -> dict[str, Any] | None:
    return next((log for log in outcome.logs if log.get("message") == RUNTIME_MESSAGE), None)


def problems(outcome: Outcome, layout: Layout) -> list[str]:
    """What is wrong with the morning the artifact ran; empty when nothing is."""
    found = runtime_line(outcome)
    if found is None:
        return [f"the function did not load: {_last_error(outcome.stderr)}"]
    wrong = [
        f"{module} came from {layout.where(found['found'].get(module))}, not {expected}"
        for module, expected in EXPECTED.items()
        if layout.where(found["found"].get(module)) != expected
    ]
    summary = outcome.summary
    if summary is None:
        return [*wrong, f"no summary (exit code {outcome.returncode}): "
                        f"{_last_error(outcome.stderr)}"]
    if summary.get("status") != "done":
        why = summary.get("reason") or summary.get("error") or summary.get("problems")
        return [*wrong, f"the morning ended {summary.get('status')}, not done: {why}"]
    if not summary.get("submitted"):
        return [*wrong, "the morning sent no order"]
    return wrong


def _last_error(stderr: str) -> str:
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    return lines[-1] if lines else "no output"


def describe(found: Mapping[str, Any], layout: Layout) -> str:
    """One line: the interpreter and where the modules came from."""
    places = ", ".join(
        f"{module} from {layout.where(origin)}" for module, origin in found["found"].items()
    )
    return f"python {found['python']}, boto3 {found['boto3']}; {places}"


def status_line(summary: Mapping[str, Any], seconds: float) -> str:
    return (
        f"{summary.get('run_date')} {summary.get('status')}: {summary.get('submitted', 0)} "
        f"orders sent, {summary.get('filled', 0)} filled, {summary.get('refused', 0)} refused, "
        f"{summary.get('rejected', 0)} rejected ({seconds:.0f} s)"
    )


def run(python: str, root: Path, event_path: Path, seed: int) -> int:
    layout = Layout.under(root)
    if not layout.task.is_dir() or not layout.runtime.is_dir():
        print(f"error: no artifact under {root} (task/, runtime/): make artifact-test builds it",
              file=sys.stderr)
        return 2
    event = read_event(event_path)
    layout.tools.mkdir(exist_ok=True)
    lent = layout.tools / "infra"
    if lent.is_symlink():
        lent.unlink()
    lent.symlink_to(ROOT / "infra")
    started = time.monotonic()
    with stand_ins(event, seed=seed) as env:
        process = HandlerProcess(
            event, env, command=bootstrap_command(python, layout), cwd=layout.task
        )
        outcome = process.wait(timeout=MORNING_TIMEOUT)
    seconds = time.monotonic() - started
    (root / "handler.log").write_text(outcome.stderr, encoding="utf-8")
    (root / "summary.json").write_text(json.dumps(outcome.summary, indent=2), encoding="utf-8")
    found = runtime_line(outcome)
    if found is not None:
        print(f"artifact-test: {describe(found, layout)}")
    if outcome.summary is not None:
        print(f"artifact-test: {status_line(outcome.summary, seconds)}")
    wrong = problems(outcome, layout)
    for problem in wrong:
        print(f"artifact-test FAILED: {problem}", file=sys.stderr)
    if wrong:
        print(f"the function's log: {root / 'handler.log'}", file=sys.stderr)
    return 1 if wrong else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m infra.artifact_test", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--python", required=True, help="the python3.13 to run the artifact")
    parser.add_argument("--dir", type=Path, required=True,
                        help="the folder make artifact-test built, with task/ and runtime/")
    parser.add_argument("--event", type=Path, default=DEFAULT_EVENT,
                        help="the event of the morning (default events/scheduled.json)")
    add_seed_argument(parser)
    args = parser.parse_args(argv)
    if not Path(args.python).is_file():
        print(f"error: --python {args.python} does not exist", file=sys.stderr)
        return 2
    try:
        return run(args.python, args.dir, args.event, args.seed)
    except EventFileError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
