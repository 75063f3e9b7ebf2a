"""Seeded fault injection: what a real broker does on a bad day, on demand and reproducibly.

A `FaultConfig` is a list of rules. Each rule matches requests by an fnmatch pattern on
"METHOD /path" (e.g. "POST /v2/orders", "GET /v2/stocks/*", "*"), fires with `probability`
(drawn from the broker's seeded RNG), lets the first `skip` matches through and fires at most
`count` times (null = unlimited). Kinds:

- HTTP level, decided before the request is processed; optional `query` ("feed=sip", pairs
  joined by "&") narrows a rule to requests carrying every one of those query parameters:
  `status` (answer `status`, e.g. 429/500/503/504, with an Alpaca-shaped JSON body whose
  message is `message`, by default "injected fault: HTTP <status>"; nothing is processed; a
  429 says X-Ratelimit-Remaining 0 and X-Ratelimit-Reset `seconds` from now, in epoch seconds),
  `delay` (sleep `seconds`, then process normally: a slow but successful request, longer than
  the client's timeout = the client gives up although the order exists), `stall`
  (sleep `seconds`, then drop the connection unprocessed: a hung server), `drop_before` (close
  the connection without a response, nothing processed), `drop_after` (process the request,
  then close the connection without a response: e.g. the order exists but the client never
  hears so).
- Order level, for accepted orders (match "POST /v2/orders", optional `symbols`):
  `reject` (the order is created with status "rejected"), `partial` (fills
  floor(qty * `fraction`) shares, then stays "partially_filled" until canceled or expired),
  `never_fill` (stays open until canceled or expired at the session close), `fill_on_cancel`
  (stays open until a cancel is requested, then fills while it is `pending_cancel`, before the
  cancel lands: the race every client of an asynchronous cancel must survive).
- Resend level (match "POST /v2/orders", optional `symbols`): `resend_forbidden` (a resend of
  an order that went through, i.e. a client_order_id already taken, is answered 403 40310000
  "insufficient buying power" instead of 422 "client_order_id must be unique", whatever the
  buying power left; Alpaca answers so on its own when the first order still holds it, since it
  checks buying power before the id: a client that trusts the status instead of looking its
  client order id up records a refusal of an order that exists).

JSON: {"rules": [{"kind": "status", "match": "POST /v2/orders", "status": 500,
"probability": 0.3, "count": 2}, {"kind": "partial", "fraction": 0.5, "symbols": ["AAPL"]}]}.
A plan without SIP data: {"kind": "status", "match": "GET /v2/stocks/bars", "query": "feed=sip",
"status": 403, "message": "subscription does not permit querying recent SIP data"}.
"""

from __future__ import annotations

import json
import random
from dataclasses import asdict, dataclass, field
from fnmatch import fnmatchcase
from pathlib import Path
from urllib.parse import parse_qsl

HTTP_KINDS = ("status", "delay", "stall", "drop_before", "drop_after")
ORDER_KINDS = ("reject", "partial", "never_fill", "fill_on_cancel")
RESEND_KINDS = ("resend_forbidden",)
KINDS = HTTP_KINDS + ORDER_KINDS + RESEND_KINDS


@dataclass(frozen=True)
class FaultRule:
    kind: str
    match: str = "*"
    probability: float = 1.0
    count: int | None = None
    skip: int = 0
    status: int = 500
    seconds: float = 0.0
    fraction: float = 0.5
    symbols: tuple[str, ...] = ()
    query: str = ""
    message: str = ""

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"fault kind {self.kind!r} unknown; use one of {', '.join(KINDS)}")
        if not 0.0 <= self.probability <= 1.0:
            raise ValueError(f"fault probability must be in [0, 1], got {self.probability}")
        if self.kind == "status" and not 400 <= self.status <= 599:
            raise ValueError(f"fault status must be a 4xx/5xx code, got {self.status}")
        if self.kind == "partial" and not 0.0 < self.fraction < 1.0:
            raise ValueError(f"partial fill fraction must be in (0, 1), got {self.fraction}")
        if (self.count is not None and self.count < 0) or self.skip < 0 or self.seconds < 0:
            raise ValueError("fault count, skip and seconds must not be negative")

    @property
    def order_level(self) -> bool:
        """Decided while an order is processed (not before the request is)."""
        return self.kind in ORDER_KINDS + RESEND_KINDS


@dataclass(frozen=True)
class FaultConfig:
    rules: tuple[FaultRule, ...] = ()

    @classmethod
    def from_dict(cls, data: dict) -> FaultConfig:
        if not isinstance(data, dict) or not isinstance(data.get("rules", []), list):
            raise ValueError('fault config must be a JSON object {"rules": [...]}')
        rules = []
        for raw in data.get("rules", []):
            if not isinstance(raw, dict):
                raise ValueError(f"fault rule must be an object, got {raw!r}")
            known = set(FaultRule.__dataclass_fields__)
            unknown = sorted(set(raw) - known)
            if unknown:
                raise ValueError(f"unknown fault rule field(s): {', '.join(unknown)}")
            values = dict(raw)
            values["symbols"] = tuple(s.upper() for s in values.get("symbols", ()))
            rules.append(FaultRule(**values))
        return cls(tuple(rules))

    @classmethod
    def parse(cls, text_or_path: str) -> FaultConfig:
        """A JSON string, or the path of a JSON file."""
        text = text_or_path
        if not text.lstrip().startswith("{"):
            text = Path(text_or_path).read_text("utf-8")
        return cls.from_dict(json.loads(text))

    def to_dict(self) -> dict:
        return {"rules": [{**asdict(r), "symbols": list(r.symbols)} for r in self.rules]}


@dataclass
class FaultInjector:
    """Decides, per request, which rules fire. Deterministic for a seed and request sequence."""

    config: FaultConfig = field(default_factory=FaultConfig)
    seed: int = 0
    seen: list[int] = field(default_factory=list)
    fired: list[int] = field(default_factory=list)
    rng: random.Random = field(init=False)

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)
        self.seen = [0] * len(self.config.rules)
        self.fired = [0] * len(self.config.rules)

    @property
    def injected(self) -> int:
        return sum(self.fired)

    def _fires(self, i: int, rule: FaultRule) -> bool:
        self.seen[i] += 1
        if self.seen[i] <= rule.skip:
            return False
        if rule.count is not None and self.fired[i] >= rule.count:
            return False
        if rule.probability < 1.0 and self.rng.random() >= rule.probability:
            return False
        self.fired[i] += 1
        return True

    def http_faults(self, method: str, path: str, query: str = "") -> list[FaultRule]:
        """HTTP-level rules firing for this request (`query`: its raw query string), in config
        order."""
        target = f"{method} {path}"
        params = set(parse_qsl(query, keep_blank_values=True))
        return [
            r for i, r in enumerate(self.config.rules)
            if not r.order_level and fnmatchcase(target, r.match)
            and set(parse_qsl(r.query, keep_blank_values=True)) <= params and self._fires(i, r)
        ]

    def order_fault(self, symbol: str) -> FaultRule | None:
        """The first order-level rule firing for an accepted order of `symbol`."""
        return self._first(symbol, ORDER_KINDS)

    def resend_fault(self, symbol: str) -> FaultRule | None:
        """The first resend-level rule firing for a resend of an order of `symbol`."""
        return self._first(symbol, RESEND_KINDS)

    def _first(self, symbol: str, kinds: tuple[str, ...]) -> FaultRule | None:
        for i, r in enumerate(self.config.rules):
            if r.kind not in kinds or not fnmatchcase("POST /v2/orders", r.match):
                continue
            if r.symbols and symbol not in r.symbols:
                continue
            if self._fires(i, r):
                return r
        return None

    def to_dict(self) -> dict:
        return {
            **self.config.to_dict(), "seed": self.seed, "seen": self.seen, "fired": self.fired,
            "rng_state": _state_to_json(self.rng.getstate()),
        }

    @classmethod
    def from_dict(cls, data: dict) -> FaultInjector:
        inj = cls(FaultConfig.from_dict({"rules": data.get("rules", [])}), int(data.get("seed", 0)))
        inj.seen = list(data.get("seen", inj.seen))
        inj.fired = list(data.get("fired", inj.fired))
        if "rng_state" in data:
            inj.rng.setstate(_state_from_json(data["rng_state"]))
        return inj


def _state_to_json(state: tuple) -> list:
    version, internal, gauss = state
    return [version, list(internal), gauss]


def _state_from_json(data: list) -> tuple:
    version, internal, gauss = data
    return (version, tuple(internal), gauss)
