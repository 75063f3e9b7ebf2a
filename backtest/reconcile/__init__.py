"""Reconciliation: an Alpaca account held against the backtest of the same sessions, from the
same starting state on the same bars (docs/reconcile.md). `compare` is the pure comparison,
`account` reads the account through alpaca-py, `run` puts the two together, `report` writes
reconcile.md and reconcile.png, `__main__` is `python -m backtest.reconcile`."""
