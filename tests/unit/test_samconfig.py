"""infra/samconfig.py's deploy check, on its own and as `make deploy`'s first step: a stack name
the template's names cannot hold is refused in one line before anything is built (the limit
itself is derived from template.yaml in test_template.py)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from infra.samconfig import MAX_STACK_NAME
from infra.samconfig import main as samconfig_main
from tests.conftest import ROOT


def _samconfig_file(tmp_path: Path, stack_name: str) -> Path:
    path = tmp_path / "samconfig.toml"
    path.write_text(f'[paper.global.parameters]\nstack_name = "{stack_name}"\n'
                    'region = "eu-west-1"\n', encoding="utf-8")
    return path


@pytest.mark.parametrize(("name", "deployable"), [
    ("a" * MAX_STACK_NAME, True), ("a" * (MAX_STACK_NAME + 1), False),
    ("meanrev-2", True), ("2-meanrev", False), ("mean_rev", False),
])
def test_samconfig_deploy_check_refuses_a_stack_name_the_template_cannot_hold(
    tmp_path, capsys, name, deployable
):
    path = _samconfig_file(tmp_path, name)
    assert samconfig_main(["--config-env", "paper"], path) == 0  # logs, delete: any name
    capsys.readouterr()
    code = samconfig_main(["--config-env", "paper", "--deploy"], path)
    out, err = capsys.readouterr()
    if deployable:
        assert (code, out, err) == (0, f"{name} eu-west-1\n", "")
    else:
        assert code == 2 and out == "" and err.count("\n") == 1
        assert err.startswith(f"error: stack_name '{name}' in samconfig.toml [paper.")


@pytest.mark.process
@pytest.mark.skipif(shutil.which("make") is None, reason="make not installed")
def test_make_deploy_refuses_a_long_stack_name_in_one_line_before_building(tmp_path):
    """The check runs first: nothing is installed, built or uploaded for a stack whose create
    would fail half-way on the watchdog's function name."""
    for name in ("infra/__init__.py", "infra/samconfig.py", "backtest/__init__.py",
                 "backtest/arguments.py"):
        (tmp_path / name).parent.mkdir(exist_ok=True)
        shutil.copy(ROOT / name, tmp_path / name)
    shutil.copy(ROOT / "Makefile", tmp_path / "Makefile")
    long_name = "alpaca-meanrev-" + "x" * (MAX_STACK_NAME + 1 - len("alpaca-meanrev-"))
    _samconfig_file(tmp_path, long_name)
    done = subprocess.run(["make", "--no-print-directory", "-s", "deploy", "CONFIG_ENV=paper",
                           f"PYTHON={sys.executable}"], cwd=tmp_path, capture_output=True,
                          text=True, timeout=60)
    out = done.stdout + done.stderr
    assert done.returncode != 0
    assert out.count("\n") == 1, out
    assert f"is {MAX_STACK_NAME + 1} characters; at most {MAX_STACK_NAME}" in out
    assert sorted(p.name for p in tmp_path.iterdir()) == ["Makefile", "backtest", "infra",
                                                        "samconfig.toml"]
