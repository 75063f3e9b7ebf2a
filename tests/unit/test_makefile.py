"""What the Makefile tells and does, read through make itself (`make help`, `make -n`): every
knob listed with its default, each target writing into its own folder, one seed for the market
and one for chaos's faults."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest

from tests.conftest import ROOT

KNOBS = {"DATA": "", "SOURCE": "", "START": "", "END": "", "CASH": "500", "DAYS": "20",
         "OUT": "out/<target>", "GRID": "ema_span=5,10,20 max_positions=3,5,10",
         "EVENT": "events/dry-run.json", "SEED": "7", "CHAOS_SEED": "7", "CONFIG_ENV": "paper"}

pytestmark = [pytest.mark.process,
              pytest.mark.skipif(shutil.which("make") is None, reason="make not installed")]


def make(*args: str) -> str:
    # -o: take the virtualenv and node_modules as made, so nothing is installed
    done = subprocess.run(
        ["make", "--no-print-directory", "-o", ".venv/.stamp-dev", "-o", "node_modules/.stamp",
         *args],
        cwd=ROOT, capture_output=True, text=True, timeout=60, check=True,
    )
    return done.stdout


def commands(target: str, *knobs: str) -> str:
    """The command `make target` would run, continuation lines joined, spaces single."""
    return " ".join(make("-s", "-n", target, *knobs).replace("\\\n", " ").split())


def test_help_lists_every_knob_with_its_default():
    text = make("-s", "help")
    knobs = text.split("Knobs")[1]
    for knob, default in KNOBS.items():
        line = next((row for row in knobs.splitlines() if row.split()[:1] == [knob]), None)
        assert line is not None, knob
        assert default in line, (knob, line)


def test_help_targets_line_up_in_one_column():
    targets = make("-s", "help").split("Knobs")[0].splitlines()[1:]
    assert len(targets) > 10
    starts = {re.match(r"  make \S+ +", row).end() for row in targets}
    assert len(starts) == 1, targets
    assert {"paperbroker", "backtest", "chaos"} <= {row.split()[1] for row in targets}


@pytest.mark.parametrize("target", ["run", "backtest", "sweep", "chaos"])
def test_each_target_writes_into_its_own_folder_unless_out_is_given(target):
    assert f"--out out/{target}" in commands(target)
    assert "--out elsewhere" in commands(target, "OUT=elsewhere")


def test_seed_is_the_market_and_chaos_seed_the_faults():
    chaos = commands("chaos", "SEED=11", "CHAOS_SEED=3")
    assert "--seed 11" in chaos and "--chaos-seed 3" in chaos
    assert "--chaos-seed 7" in commands("chaos", "SEED=11")
    assert "--seed 11" in commands("run", "SEED=11")


def test_source_reaches_the_backtest_and_sweep_with_any_data_beside_it():
    assert "-m backtest --source alpaca --cash" in commands("backtest", "SOURCE=alpaca")
    assert "--source alpaca --data x.csv" in commands("backtest", "SOURCE=alpaca", "DATA=x.csv")
    assert "--synthetic" in commands("backtest")
    assert "-m backtest.sweep --source alpaca --cash" in commands("sweep", "SOURCE=alpaca")


def test_commands_started_by_make_name_knobs_in_their_errors():
    for target in ("run", "backtest", "sweep", "chaos", "paperbroker"):
        assert "MAKE_KNOBS=1 " in commands(target), target


def test_check_is_ruff_and_the_unit_tests_that_start_no_process():
    assert commands("check") == (".venv/bin/ruff check . "
                                 ".venv/bin/python -m pytest -n 2 -q --no-process tests/unit")
