"""What every command line here (backtest, sweep, reconcile, run, chaos, paper broker, pause)
shares: a parser whose errors are one `error:` line, and the argument types that check a value
once, where the option is defined, so every command refuses the same bad value with the same
words. It sits in `backtest/`, the lowest floor with a command line, so `infra/`'s commands
import it from below; the standard library alone, so `make pause` (boto3 alone) imports it too.

Started by a make target (which sets `MAKE_KNOBS=1`), an error names the knob the user typed
(`DAYS`) next to the flag it became (`--days`)."""

from __future__ import annotations

import argparse
import math
import os
import re
from datetime import date
from typing import NoReturn

MAKE_KNOBS = "MAKE_KNOBS"


class Parser(argparse.ArgumentParser):
    """argparse, but a bad flag ends with one `error: ...` line (exit 2), not the usage block."""

    def error(self, message: str) -> NoReturn:
        if os.environ.get(MAKE_KNOBS):
            self.exit(2, f"error: {knob_message(message)} (see make help)\n")
        self.exit(2, f"error: {message} (see --help)\n")


def knob_message(message: str) -> str:
    """'argument --chaos-seed: ...' -> 'CHAOS_SEED (--chaos-seed): ...', the knob's name."""
    return re.sub(
        r"argument (--[a-z][a-z-]*)",
        lambda m: f"{m[1][2:].replace('-', '_').upper()} ({m[1]})",
        message,
    )


def add_seed_argument(parser: argparse.ArgumentParser) -> None:
    """--seed of the synthetic market: one default, so `make run`, `make backtest` and
    `make invoke` build the same market unless told otherwise."""
    parser.add_argument("--seed", type=int, default=7, help="synthetic market seed (default 7)")


def money(text: str) -> float:
    """An amount of dollars (opening cash): finite and > 0, as the backtest engine requires."""
    try:
        amount = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be an amount of dollars, got {text!r}") from None
    if re.fullmatch(r"0\d+", text):  # what the shell leaves of CASH=$500: $5 is a variable
        raise argparse.ArgumentTypeError(
            f"got {text!r}: a `$` before the amount? the shell reads $5 as a variable: "
            "write the amount alone, e.g. 500")
    if not (math.isfinite(amount) and amount > 0):
        raise argparse.ArgumentTypeError(f"must be a finite amount > 0, got {text}")
    return amount


def count(text: str) -> int:
    """A whole number, at least one: mornings to run, sweep workers."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {value}")
    return value


def iso_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (use YYYY-MM-DD): {text!r}") from None
