"""docs/alpaca-fidelity.md names, for each Alpaca behaviour, the test that checks it: every test
it names must exist, so the table cannot go on citing a test that was renamed or removed."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "alpaca-fidelity.md"
# `tests/x.py::test_name`, or `::test_name` for a further test of the file named before it
CITED = re.compile(r"`((?:tests/[\w/]+\.py)?)::(test_\w+)`")


def cited_tests() -> list[tuple[str, str]]:
    found = []
    for line in DOC.read_text("utf-8").splitlines():
        if not line.startswith("| "):
            continue
        last_file = ""
        for file, name in CITED.findall(line.split(" | ")[-1]):
            last_file = file or last_file
            found.append((last_file, name))
    return found


def test_every_test_the_fidelity_table_names_exists():
    cited = cited_tests()
    assert len(cited) > 40
    missing = [f"{file}::{name}" for file, name in cited
               if not file or not (ROOT / file).is_file()
               or f"def {name}(" not in (ROOT / file).read_text("utf-8")]
    assert not missing, f"docs/alpaca-fidelity.md names tests that do not exist: {missing}"
