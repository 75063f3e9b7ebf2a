"""Run every benchmark module (`tests/bench/rows_*.py`, each with `rows() -> list[Row]`) and
print one table."""

from __future__ import annotations

import importlib
import pkgutil
import sys

from tests.bench.harness import Row, render


def main() -> int:
    import tests.bench as pkg

    rows: list[Row] = []
    for info in sorted(pkgutil.iter_modules(pkg.__path__), key=lambda m: m.name):
        if not info.name.startswith("rows_"):
            continue
        module = importlib.import_module(f"tests.bench.{info.name}")
        print(f"running {info.name} ...", file=sys.stderr, flush=True)
        rows.extend(module.rows())
    print(render(rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
