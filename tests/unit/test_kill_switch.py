"""`make pause` / `make resume` (`infra.kill_switch`) before they reach AWS: the stack they name
is samconfig.toml's, and what a user can get wrong is one `error:` line. Setting the switch over
loopback: tests/integration/test_handler_operations.py and test_local_kill_switch.py."""

from __future__ import annotations

import subprocess
import sys

import pytest

from infra.kill_switch import switch_parameter
from infra.samconfig import SamConfigError, Stack, main, read_stack
from tests.conftest import ROOT


def test_each_environment_names_its_own_stack_and_region():
    assert read_stack("paper") == Stack("alpaca-meanrev-paper", "us-east-1")
    assert read_stack("live").name == "alpaca-meanrev-live"
    assert switch_parameter("alpaca-meanrev-live") == "/alpaca-meanrev-live/trading-enabled"


def test_the_switch_is_named_as_the_template_names_it():
    text = (ROOT / "template.yaml").read_text(encoding="utf-8")
    block = text.split("\n  TradingSwitch:\n", 1)[1].split("\n\n", 1)[0]
    assert "Name: !Sub /${AWS::StackName}/trading-enabled" in block
    assert switch_parameter("${AWS::StackName}") == "/${AWS::StackName}/trading-enabled"


def test_an_environment_without_a_stack_is_one_line_naming_the_ones_there(tmp_path):
    config = tmp_path / "samconfig.toml"
    config.write_text('version = 0.1\n[paper.global.parameters]\nstack_name = "p"\n')
    with pytest.raises(SamConfigError, match=r"no stack_name in \[prod.global.parameters\]: "
                                             r"use CONFIG_ENV=paper"):
        read_stack("prod", config)
    assert read_stack("paper", config) == Stack("p", None)


def test_the_makefiles_stack_and_region_are_read_here_and_a_missing_region_stops_it(
        tmp_path, capsys):
    assert main(["--config-env", "live"]) == 0
    assert capsys.readouterr().out == "alpaca-meanrev-live us-east-1\n"
    config = tmp_path / "samconfig.toml"
    config.write_text('version = 0.1\n[paper.global.parameters]\nstack_name = "p"\n')
    assert main([], config) == 2
    done = capsys.readouterr()
    assert done.out == ""
    assert done.err.startswith("error: samconfig.toml has no region in [paper.global.parameters]")


def pause(*args: str, **env: str) -> subprocess.CompletedProcess:
    # No credentials anywhere, and no instance metadata lookup (it would leave loopback).
    clean = {"PATH": "/usr/bin:/bin", "HOME": "/nonexistent", "AWS_EC2_METADATA_DISABLED": "true",
             "AWS_CONFIG_FILE": "/nonexistent", "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent",
             **env}
    return subprocess.run([sys.executable, "-m", "infra.kill_switch", "pause", *args],
                          cwd=ROOT, env=clean, capture_output=True, text=True, timeout=60)


@pytest.mark.process
def test_without_credentials_it_says_so_in_one_line():
    done = pause("--config-env", "live")
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr == ("error: no AWS credentials for stack alpaca-meanrev-live (us-east-1): "
                           "run `aws configure` or set AWS_PROFILE\n")


@pytest.mark.process
def test_an_unknown_environment_is_one_line():
    done = pause("--config-env", "prod")
    assert done.returncode == 2
    assert done.stderr.startswith("error: samconfig.toml has no stack_name in "
                                  "[prod.global.parameters]: use CONFIG_ENV=")
    assert done.stderr.count("\n") == 1
