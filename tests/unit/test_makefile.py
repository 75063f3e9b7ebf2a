"""What the Makefile tells and does, read through make itself (`make help`, `make -n`): every
knob listed with its default, each target writing into its own folder, one seed for the market
and one for chaos's faults."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import ROOT

KNOBS = {"DATA": "", "SOURCE": "", "START": "", "END": "", "CASH": "500", "DAYS": "20",
         "OUT": "out/<target>", "GRID": "ema_span=5,10,20 max_positions=3,5,10",
         "EVENT": "events/dry-run.json", "SEED": "7", "CHAOS_SEED": "7", "CONFIG_ENV": "paper",
         "HOLD": "", "MANAGE_EXISTING": ""}

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


def test_hold_and_manage_existing_reach_the_run():
    assert "--hold" not in commands("run") and "--manage-existing false" in commands("run")
    run = commands("run", "HOLD=AAPL:3,MSFT:2", "MANAGE_EXISTING=true")
    assert "--hold AAPL:3,MSFT:2 --manage-existing true" in run


def test_cost_knobs_reach_backtest_and_sweep_and_walk_only_the_sweep():
    for target in ("backtest", "sweep"):
        assert "--slippage-bps 0 --commission 0" in commands(target)
        assert "--slippage-bps 5 --commission 0.5" in commands(
            target, "SLIPPAGE_BPS=5", "COMMISSION=0.5")
    assert "--walk 5" in commands("sweep", "WALK=5")
    assert "--walk" not in commands("sweep")
    assert "WALK is not a knob of make backtest" in make_refused("backtest", "WALK=5").stderr
    listed = make("help")
    for knob in ("SLIPPAGE_BPS", "COMMISSION", "WALK"):
        assert re.search(rf"^  {knob} ", listed, re.M), knob


def test_commands_started_by_make_name_knobs_in_their_errors():
    for target in ("run", "backtest", "sweep", "chaos", "paperbroker"):
        assert "MAKE_KNOBS=1 " in commands(target), target


def make_refused(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["make", "--no-print-directory", "-o", ".venv/.stamp-dev", "-o", "node_modules/.stamp",
         "-n", *args],
        cwd=ROOT, capture_output=True, text=True, timeout=60, check=False, env=env,
    )


BACKTEST_KNOBS = "CASH COMMISSION DATA END OUT SEED SLIPPAGE_BPS SOURCE START"


@pytest.mark.parametrize(("args", "named", "takes"), [
    (["backtest", "EDN=2024-06-01"], "EDN", BACKTEST_KNOBS),
    (["backtest", "STRAT=1"], "STRAT", BACKTEST_KNOBS),
    (["backtest", "start=2020-01-02"], "upper case: START", BACKTEST_KNOBS),
    (["run", "DAY=5"], "DAY", "CASH DATA DAYS HOLD MANAGE_EXISTING OPEN OPEN_SEED OUT SEED START"),
    (["backtest", "DAYS=5"], "DAYS is not a knob of make backtest", BACKTEST_KNOBS),
    (["clean", "OUT=/root"], "OUT is not a knob of make clean", "none"),
])
def test_an_unknown_or_inapplicable_knob_is_one_error_naming_what_the_target_takes(
        args, named, takes):
    done = make_refused(*args)
    assert done.returncode == 2
    assert done.stdout == ""
    [line] = done.stderr.splitlines()
    assert "error: " in line and named in line and f"which takes {takes}" in line.split(named, 1)[1]
    assert "Traceback" not in done.stderr


def test_a_dollar_in_a_knob_is_named_instead_of_reaching_the_command_as_00():
    done = make_refused("run", "CASH=$500")
    assert done.returncode == 2
    [line] = done.stderr.splitlines()
    assert "error: CASH=$500: leave out the `$`" in line


def test_knobs_exported_in_the_shell_have_no_effect_and_a_note_names_them():
    home = str(Path.home())
    env = {**os.environ, "OUT": home, "CASH": "9", "DAYS": "3", "MAKEFLAGS": ""}
    clean = make_refused("clean", env=env)
    assert clean.returncode == 0 and home not in clean.stdout
    assert "rm -rf" in clean.stdout and " out " in clean.stdout
    run = make_refused("run", env=env)
    assert "--out out/run" in run.stdout and "--cash 500" in run.stdout
    assert "--days 20" in run.stdout
    assert "note: CASH DAYS OUT in your environment ignored" in run.stderr
    assert "--days 5" in make_refused("run", "DAYS=5", env=env).stdout


def test_clean_deletes_only_what_the_project_writes_inside_the_repository():
    removed = commands("clean").split("rm -rf ", 1)[1].split()
    assert removed and all(not p.startswith(("/", "~", "..")) and "$" not in p for p in removed)
    assert "out" in removed


def test_pause_without_the_dev_environment_installs_boto3_alone(tmp_path):
    for name in ("Makefile", "requirements.txt"):
        shutil.copy(ROOT / name, tmp_path / name)
    done = subprocess.run(["make", "--no-print-directory", "-n", "pause", "ENDPOINT=http://x:1"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=60, check=True)
    assert "requirements-dev.txt" not in done.stdout and "npm" not in done.stdout
    assert "pip install -q --disable-pip-version-check $(grep -E '^boto3==' requirements.txt)" \
        in done.stdout
    assert ".venv-ops/bin/python -m infra.kill_switch pause --config-env paper " \
        "--endpoint-url http://x:1" in done.stdout


def test_check_is_ruff_the_import_contracts_and_the_unit_tests_that_start_no_process():
    assert commands("check") == (".venv/bin/ruff check . "
                                 ".venv/bin/lint-imports --no-cache --no-logo "
                                 ".venv/bin/python -m pytest -n 2 -q --no-process tests/unit")
