"""`make artifact-test`: the artifact it runs is built by the very commands `sam build` runs, for
another platform; its interpreter sees only the artifact's folders; and a morning counts only
when it traded with the handler, the SDK, urllib3 and tzdata from the artifact. The run itself
(a build and a morning, a minute or two) is CI's: .ci/run calls `make artifact-test`."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from infra.artifact_bootstrap import RUNTIME_MESSAGE
from infra.artifact_test import Layout, bootstrap_command, main, problems
from infra.handler_process import Outcome
from tests.conftest import ROOT

needs_make = pytest.mark.skipif(shutil.which("make") is None, reason="make not installed")
STAMPS = (".venv/.stamp-dev", "node_modules/.stamp", ".venv-sam/.stamp")
FAKE_PYTHON = "/opt/fake/python3.13"


def dry_run(target: str, *knobs: str) -> list[str]:
    """The commands `make target` would run (prerequisites taken as made), one per line."""
    old = [arg for stamp in STAMPS for arg in ("-o", stamp)]
    done = subprocess.run(
        ["make", "-s", "-n", "--no-print-directory", *old, target, *knobs],
        cwd=ROOT, capture_output=True, text=True, timeout=60, check=True,
    )
    return [" ".join(line.split()) for line in done.stdout.replace("\\\n", " ").splitlines()]


@pytest.mark.process
@needs_make
def test_artifact_test_builds_with_the_recipe_sam_build_runs(tmp_path):
    sam_dir, test_dir = tmp_path / "sam", tmp_path / "artifact-test"
    python = f"LAMBDA_PYTHON={FAKE_PYTHON}"
    sam = dry_run("build-TradingFunction", f"ARTIFACTS_DIR={sam_dir}", python)
    test = dry_run("artifact-morning", f"ARTIFACT_TEST_DIR={test_dir}", "ARTIFACT_ARCH=x86_64",
                   python)
    assert len(sam) >= 5 and any("pip install" in line for line in sam)
    # The same commands, line for line, with only the folder and the platform swapped.
    swapped = [
        line.replace(str(sam_dir), f"{test_dir}/task").replace("aarch64", "x86_64")
        for line in sam
    ]
    start = test.index(swapped[0])
    assert test[start:start + len(swapped)] == swapped
    assert "manylinux2014_aarch64" in sam[1] and "x86_64" not in " ".join(sam)
    # ... for the template's runtime, boto3 included (AWS fixes no runtime SDK version), and the
    # runtime's older boto3 beside it for that platform, which the artifact's must shadow.
    runtime = re.search(r"TradingFunction:.*?Runtime: python(\d+\.\d+)",
                        (ROOT / "template.yaml").read_text(), re.S)
    assert f"--python-version {runtime.group(1)}" in sam[1]
    assert sam[1].endswith("-r requirements.txt") and "boto" not in " ".join(sam)
    assert re.search(r"^boto3==", (ROOT / "requirements.txt").read_text(), re.M)
    pip_runtime = next(line for line in test if "requirements-lambda-runtime.txt" in line)
    assert f"--target {test_dir}/runtime" in pip_runtime and "manylinux2014_x86_64" in pip_runtime
    assert test[-1].endswith(f"--python {FAKE_PYTHON} --dir {test_dir}")


def artifact_test_without_python313(ci: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["make", "-s", "--no-print-directory", "artifact-test", "LAMBDA_PYTHON="],
        cwd=ROOT, capture_output=True, text=True, timeout=60, check=False,
        env={**os.environ, "CI": ci},
    )


@pytest.mark.process
@needs_make
def test_artifact_test_without_python313_says_so_and_succeeds():
    done = artifact_test_without_python313(ci="")
    assert done.returncode == 0
    assert "artifact-test skipped: no python3.13" in done.stdout


@pytest.mark.process
@needs_make
def test_artifact_test_without_python313_fails_in_ci():
    done = artifact_test_without_python313(ci="true")
    assert done.returncode != 0
    assert "error: artifact-test under CI=true: no python3.13 here" in done.stderr
    assert "pyenv install 3.13" in done.stderr


@pytest.mark.process
def test_bootstrap_sees_only_the_artifact_folders(tmp_path):
    # Run from the repository, whose handler/ would import: isolated, the interpreter finds no
    # `handler` but the (empty) artifact's, as Lambda would.
    layout = Layout.under(tmp_path)
    for folder in (layout.task, layout.runtime, layout.tools):
        folder.mkdir()
    done = subprocess.run(
        [*bootstrap_command(sys.executable, layout), "--event", "events/scheduled.json"],
        cwd=ROOT, capture_output=True, text=True, timeout=60, check=False,
    )
    assert done.returncode != 0
    assert "No module named 'handler'" in done.stderr
    assert RUNTIME_MESSAGE not in done.stderr


def _outcome(layout: Layout, summary: dict | None, **found: str | None) -> Outcome:
    origins = {
        "handler.app": str(layout.task / "handler" / "app.py"),
        "boto3": str(layout.task / "boto3" / "__init__.py"),
        "botocore": str(layout.task / "botocore" / "__init__.py"),
        "urllib3": str(layout.task / "urllib3" / "__init__.py"),
        "tzdata": str(layout.task / "tzdata" / "__init__.py"),
        **found,
    }
    line = {"message": RUNTIME_MESSAGE, "python": "3.13.0", "boto3": "1.35.58", "found": origins}
    return Outcome(0 if summary else 1, summary, [line], stderr="Traceback ...\nKeyError: 'x'\n")


DONE = {"status": "done", "run_date": "2026-11-24", "submitted": 5, "filled": 5}


def test_a_traded_morning_from_the_right_places_passes(tmp_path):
    layout = Layout.under(tmp_path)
    assert problems(_outcome(layout, DONE), layout) == []


@pytest.mark.parametrize(
    ("summary", "found", "expected"),
    [
        (DONE, {"boto3": "/somewhere/site-packages/boto3/__init__.py"},
         "boto3 came from /somewhere/site-packages/boto3/__init__.py, not task"),
        (DONE, {"botocore": "RUNTIME/botocore/__init__.py"},
         "botocore came from runtime, not task"),
        (DONE, {"urllib3": "RUNTIME/urllib3/__init__.py"},
         "urllib3 came from runtime, not task"),
        (DONE, {"tzdata": None}, "tzdata came from nowhere, not task"),
        ({"status": "skipped", "reason": "not a trading session"}, {},
         "ended skipped, not done: not a trading session"),
        ({**DONE, "submitted": 0}, {}, "sent no order"),
        (None, {}, "no summary (exit code 1): KeyError: 'x'"),
    ],
)
def test_a_morning_that_did_not_trade_or_found_a_module_elsewhere_fails(
    tmp_path, summary, found, expected
):
    layout = Layout.under(tmp_path)
    found = {k: v.replace("RUNTIME", str(layout.runtime)) if v else v for k, v in found.items()}
    assert any(expected in p for p in problems(_outcome(layout, summary, **found), layout))


def test_a_function_that_did_not_load_names_the_error(tmp_path):
    layout = Layout.under(tmp_path)
    outcome = Outcome(1, None, [], stderr="Traceback\nModuleNotFoundError: No module named 'x'\n")
    assert problems(outcome, layout) == [
        "the function did not load: ModuleNotFoundError: No module named 'x'"
    ]


def test_a_missing_interpreter_or_artifact_is_one_clear_line(tmp_path, capsys):
    assert main(["--python", str(tmp_path / "python3.13"), "--dir", str(tmp_path)]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert main(["--python", sys.executable, "--dir", str(Path(tmp_path))]) == 2
    assert "make artifact-test builds it" in capsys.readouterr().err
