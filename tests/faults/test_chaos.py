"""A short chaos soak in CI: six mornings through handler processes with seeded faults on
about 5 % of broker requests and random SIGKILLs between steps, each failed or killed morning
retried with its request id; `python -m infra.chaos` must exit 0, meaning its equity.csv and
trades.csv equal the clean in-process run's byte for byte and the broker holds no duplicate
order. (`make chaos DAYS=250` is the year-long version.)"""

from __future__ import annotations

import re

from infra.chaos import main


def test_chaos_soak_equals_clean_run(tmp_path, capsys):
    code = main(["--synthetic", "--days", "6", "--out", str(tmp_path), "--chaos-seed", "11",
                 "--kill-rate", "0.6"])
    printed = capsys.readouterr().out
    assert code == 0, printed
    stats = next(line for line in printed.splitlines() if line.startswith("mornings "))
    figures = dict(re.findall(r"([a-z ]+?) (\d+)(?:  |$)", stats))
    assert int(figures["mornings"]) == 6
    assert int(figures["kills"]) > 0
    assert int(figures["faults injected"]) > 0
    assert int(figures["retries"]) > 0
    assert int(figures["duplicates"]) == 0
    for name in ("equity.csv", "trades.csv"):
        assert (tmp_path / name).read_bytes() == (tmp_path / "clean" / name).read_bytes()
    assert len((tmp_path / "equity.csv").read_text().splitlines()) == 7
