"""`make run` and `make chaos` share their options: a bad --days is refused by both, exit 2."""

from __future__ import annotations

import pytest

from infra.chaos import main as chaos_main
from infra.localrun import main as localrun_main


@pytest.mark.parametrize("main", [localrun_main, chaos_main])
@pytest.mark.parametrize(("days", "message"), [("0", "must be >= 1"), ("x", "whole number")])
def test_bad_days_exit_2_naming_the_option(main, days, message, capsys):
    with pytest.raises(SystemExit) as stop:
        main(["--synthetic", "--days", days])
    assert stop.value.code == 2
    err = capsys.readouterr().err
    assert "argument --days" in err and message in err
