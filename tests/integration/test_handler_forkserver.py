"""`infra.handler_forkserver`: a handler process forked from the warm server behaves as a fresh
`python -m infra.handler_cli`: the same summary, exit code and log lines for the same event and
environment, the environment read at import its own, and a SIGKILL a real one."""

from __future__ import annotations

import signal

from infra import handler_forkserver
from infra.handler_process import HandlerProcess, Outcome

EVENT = {"trigger": "schedule", "unknown": 1}  # rejected by the function: exit 1, a summary


def messages(outcome: Outcome) -> list[tuple[str, str]]:
    return [(line["level"], line["message"]) for line in outcome.logs]


def test_a_forked_handler_ends_as_a_fresh_process_does():
    env = {"POWERTOOLS_SERVICE_NAME": "forked-service"}
    fresh = HandlerProcess(EVENT, env).wait()
    with handler_forkserver.running():
        forked = HandlerProcess(EVENT, env).wait()
    assert (forked.returncode, forked.summary) == (fresh.returncode, fresh.summary) == (
        1, {"status": "rejected_event", "error": "unknown: unknown field"})
    assert messages(forked) == messages(fresh) != []
    # read at import by handler.app: the child's own environment, not the server's
    assert {line["service"] for line in forked.logs} == {"forked-service"}


def test_a_forked_handler_dies_of_a_real_sigkill():
    with handler_forkserver.running():
        process = HandlerProcess(EVENT, {})
        process.kill()
        outcome = process.wait()
    assert outcome.returncode == -signal.SIGKILL and outcome.killed
    assert outcome.summary is None
