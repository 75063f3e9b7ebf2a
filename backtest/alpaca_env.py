"""How the research tools reach Alpaca, written once for `--source alpaca` (the data API) and
`python -m backtest.reconcile` (the trading API): the keys and an endpoint from the variables the
function reads (ALPACA_KEY_ID, ALPACA_SECRET_KEY, ALPACA_DATA_URL, ALPACA_TRADING_URL), the
settings of their hardened sessions (`alpaca_adapter.http.harden`), and Alpaca's error
answers as the one line that says what to fix."""

from __future__ import annotations

from collections.abc import Mapping

from alpaca.common.exceptions import APIError

from alpaca_adapter.http import api_message

# No morning deadline here: a patient timeout, and retries that wait out every reset.
HTTP_TIMEOUT, RETRY_ATTEMPTS, RETRY_WAIT = 30.0, 5, 1.0


def keys_from_env(env: Mapping[str, str], purpose: str) -> tuple[str, str]:
    """ALPACA_KEY_ID and ALPACA_SECRET_KEY; ValueError naming the missing ones, `purpose`
    saying what they are for and where to read more."""
    key_id, secret = (env.get(n, "").strip() for n in ("ALPACA_KEY_ID", "ALPACA_SECRET_KEY"))
    missing = [n for n, v in (("ALPACA_KEY_ID", key_id), ("ALPACA_SECRET_KEY", secret)) if not v]
    if missing:
        raise ValueError(f"{' and '.join(missing)} must be set {purpose}")
    return key_id, secret


def url_from_env(env: Mapping[str, str], name: str) -> str | None:
    """alpaca-py's `url_override` from the variable `name` (None when unset: Alpaca's own);
    ValueError when it is not an http(s) URL."""
    url = env.get(name, "").strip().rstrip("/") or None
    if url is not None and not url.startswith(("http://", "https://")):
        raise ValueError(f"{name} must be an http(s) URL, got {url!r}")
    return url


def api_error_line(exc: APIError, where: str) -> str:
    """An error answer of `where` (an Alpaca API) as one line: refused keys name the two
    variables to check."""
    status, message = exc.status_code, api_message(exc)
    if status in (401, 403):
        return (f"{where} refused the keys (HTTP {status}: {message}); check ALPACA_KEY_ID and "
                "ALPACA_SECRET_KEY")
    return f"{where} answered HTTP {status}: {message}"
