"""report.html in a real headless Chromium: it renders offline with no console error, its pictures
decode, and every figure it shares with report.md reads the same in the browser."""

from __future__ import annotations

import json
import re

import pytest

from backtest.__main__ import main
from tests.browser import chromium, chromium_or_skip

TABLES = """JSON.stringify(Object.fromEntries([...document.querySelectorAll('table[data-table]')]
  .map(t => [t.dataset.table, [...t.rows].map(r => [...r.cells].map(c => c.innerText.trim()))])))"""
IMAGES = "[...document.images].map(i => i.complete && i.naturalWidth > 0)"


def markdown_tables(text: str) -> list[list[list[str]]]:
    """Each Markdown table of `text`, as rows of cells (the separator row left out)."""
    tables, current = [], []
    for line in [*text.splitlines(), ""]:
        if line.startswith("|"):
            if not re.fullmatch(r"\|[-:|]+\|", line):
                current.append([c.strip() for c in line.strip("|").split("|")])
        elif current:
            tables.append(current)
            current = []
    return tables


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    out = tmp_path_factory.mktemp("report")
    assert main(["--synthetic", "--start", "2023-01-03", "--end", "2024-06-28",
                 "--out", str(out)]) == 0
    return out


def test_the_tearsheet_renders_offline_and_matches_report_md(report):
    executable = chromium_or_skip()
    with chromium(executable) as browser:
        seen = browser.load((report / "report.html").as_uri())
        html_tables = json.loads(browser.evaluate(TABLES))
        images = browser.evaluate(IMAGES)
        text = browser.evaluate("document.body.innerText")
    assert seen.errors == []
    assert [u for u in seen.requests if not u.startswith(("file:", "data:"))] == []
    assert images == [True, True]  # the equity chart and the rolling Sharpe and beta

    report_md = (report / "report.md").read_text()
    md = {tuple(t[0]): t for t in markdown_tables(report_md)}
    shared = ("metrics", "costs", "trips", "symbols")
    for name in shared:
        table = html_tables[name]
        assert md[tuple(table[0])] == table, name
    assert "Caveat: synthetic market" in text
    [break_even] = [line for line in report_md.splitlines() if line.startswith("Break-even")]
    assert break_even in text.splitlines()

    # The worst drawdown QuantStats finds is report.md's max drawdown, dates and all.
    metrics = {row[0]: row[1] for row in md[tuple(html_tables["metrics"][0])]}
    worst = html_tables["drawdowns"][1]
    assert worst[1] == metrics["Max drawdown"]
    assert " -> ".join(worst[2:5]) == metrics["Max drawdown dates"]
    # The years compound to report.md's total return.
    growth = 1.0
    for row in html_tables["yearly"][1:]:
        growth *= 1 + float(row[1].removesuffix(" %")) / 100
    total = float(metrics["Total return"].removesuffix(" %")) / 100
    assert growth - 1 == pytest.approx(total, abs=0.005)  # years rounded to 0.1 %


def test_windows_too_short_for_a_table_say_so_instead_of_failing(tmp_path):
    # The synthetic market's first session: no session before it, so no daily return at all.
    assert main(["--start", "2022-01-03", "--end", "2022-01-03", "--out", str(tmp_path)]) == 0
    page = (tmp_path / "report.html").read_text()
    assert "No daily return: the window is one session" in page
    assert "Needs 126 daily returns; the window has 0." in page
    assert 'data-table="metrics"' in page and 'data-table="trips"' in page


@pytest.mark.parametrize(("ci", "outcome"), [("", pytest.skip.Exception),
                                             ("true", pytest.fail.Exception)])
def test_a_missing_chromium_skips_with_the_install_command_locally_and_fails_in_ci(
    monkeypatch, ci, outcome
):
    monkeypatch.setattr("tests.browser.shutil.which", lambda name: None)
    monkeypatch.setenv("CI", ci)
    with pytest.raises(outcome, match="apt-get install -y chromium"):
        chromium_or_skip()
