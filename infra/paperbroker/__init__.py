"""A local Alpaca-compatible paper broker: the real alpaca-py clients (TradingClient and
StockHistoricalDataClient with `url_override=base_url`) trade against a simulated account on
a `Market` (CSV or synthetic), so the handler is tested end to end with no account and no
network. Development tooling only: the Lambda never imports it.

Python API:
    start_broker(market, start, *, key_id, secret_key, cash=500.0, fill_delay=0.0,
                 cancel_delay=0.0,
                 rate_limit=200, faults=None, seed=0, snapshot=None, port=0,
                 max_page_size=10_000, open_model=None, data_plan=DataPlan.UNLIMITED
                 ) -> RunningBroker
    (rate_limit: requests a minute per API, Alpaca's free plan; None = off. See
    infra.paperbroker.ratelimit for the window: a wall-clock minute within one simulated
    instant.)
    (cancel_delay: wall seconds a canceled order stays pending_cancel, and may still fill;
    moving the clock lands every pending cancel.)
    (RuntimeError naming the cause when it is not serving within server.START_TIMEOUT, 10 s)
    RunningBroker: .base_url, .port, .broker (PaperBroker), .stop(), context manager.
    PaperBroker: .next_open(), .close(), .set_time(ts) (naive = New York), .reset(),
                 .stats(), .set_faults(cfg, seed=None), .equity(), .fills
                 (list[strategy.ledger.Fill]), .cash, .positions ({symbol: [qty, cost]}),
                 .now (UTC pd.Timestamp), .account_id, .closing_equity ({date: equity}).
    `max_page_size` is an addition to the team contract (tests force small bar pages).
    (open_model: None = the exact open, STRATEGY.md's; `OpenModel(seed)` = the realistic
    open, infra.paperbroker.openmodel. data_plan: DataPlan.FREE refuses sip on the latest
    endpoints and for the last 15 minutes, as Alpaca's free plan; the CLI's default is FREE.)
Market data also serves GET /v2/stocks/auctions (infra.paperbroker.auctions).
    FaultConfig / FaultRule: see infra.paperbroker.faults.
Admin HTTP (no keys): POST /_sim/next_open, POST /_sim/close, POST /_sim/set_time
{"time": ISO}, POST /_sim/advance {"seconds": s}, POST /_sim/reset, GET /_sim/stats,
GET|POST /_sim/faults.
"""

from infra.paperbroker.faults import FaultConfig, FaultRule
from infra.paperbroker.feeds import DataPlan
from infra.paperbroker.openmodel import OpenMode, OpenModel
from infra.paperbroker.server import RunningBroker, start_broker
from infra.paperbroker.state import PaperBroker

__all__ = ["DataPlan", "FaultConfig", "FaultRule", "OpenMode", "OpenModel", "PaperBroker",
           "RunningBroker", "start_broker"]
