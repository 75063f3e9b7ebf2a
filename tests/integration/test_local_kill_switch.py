"""`make run`'s kill switch and daily summaries: a pause set with `make pause ENDPOINT=...`
while the run goes reaches the next morning, a resume the one after, and OUT/summaries.txt holds
each morning's message as the SNS stand-in received it."""

from __future__ import annotations

from datetime import date

from infra import kill_switch
from infra.local_aws import LocalAws
from infra.localrun import run_local
from infra.run_files import write_summaries
from market import synthetic_market


def test_a_pause_during_a_local_run_reaches_the_next_morning(tmp_path, dynamodb_url):
    market = synthetic_market(seed=7)
    with LocalAws() as aws:
        def flip(day: dict) -> None:
            action = {"2023-01-03": "pause", "2023-01-04": "resume"}.get(day["date"])
            if action:
                assert kill_switch.main([action, "--endpoint-url", aws.endpoint_url]) == 0

        run = run_local(market, date(2023, 1, 3), 3, 500.0, on_day=flip, aws=aws,
                      dynamodb_url=dynamodb_url)
    assert [s["status"] for s in run.summaries] == ["done", "disabled", "done"]
    assert [f.date.isoformat() for f in run.fills if f.date.isoformat() == "2023-01-04"] == []
    subjects = [m.subject for m in run.published]
    assert subjects[1] == "alpaca-meanrev, morning of 2023-01-04: paused, nothing sent"
    assert subjects[0].startswith("alpaca-meanrev, morning of 2023-01-03: ")
    assert subjects[2].startswith("alpaca-meanrev, morning of 2023-01-05: ")
    assert "Since the previous morning (2023-01-03): equity " in run.published[2].body
    text = write_summaries(run, tmp_path).read_text()
    assert text.count("\n== ") == 2 and text.startswith(f"== {subjects[0]}\n")
