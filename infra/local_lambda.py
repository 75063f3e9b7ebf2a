"""The function as local runs call it, defined once for `make run`, `make chaos`, `make invoke`,
`infra.handler_cli` and the tests: the environment it gets in AWS pointed at the local stand-ins
(`local_env`), a Lambda-like context (`LocalContext`), its output routed away from stdout
(`handler_output`) and the in-process invoker of `infra.localrun.run_local` (`in_process`).

With a running `infra.local_aws.LocalAws` (`aws=`), the environment also points the kill switch
(SSM) and the daily summary (SNS) at that loopback stand-in, through the AWS_ENDPOINT_URL_SSM /
AWS_ENDPOINT_URL_SNS variables boto3 honours; without it the switch is TRADING_ENABLED and no
summary is sent.

The environment is a mapping handed to the function (`handler.app.build_services`) or, for a
`infra.handler_cli` process, made that child's whole environment (`process_env`); nothing here
writes `os.environ`, so runs in one process never see each other's settings.
"""

from __future__ import annotations

import contextlib
import os
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TextIO

from infra.dynamodb_local import LOCAL_CREDENTIALS

if TYPE_CHECKING:
    from infra.local_aws import LocalAws
    from infra.paperbroker import RunningBroker

KEY_ID, SECRET_KEY = "local-key", "local-secret"  # the local paper broker's default keys


def local_env(
    broker_url: str,
    dynamodb_url: str,
    table: str,
    *,
    key_id: str = KEY_ID,
    secret_key: str = SECRET_KEY,
    benchmark: str | None = None,
    universe: Sequence[str] | None = None,
    aws: LocalAws | None = None,
    **settings: str,
) -> dict[str, str]:
    """The function's environment pointed at a paper broker and a journal table on DynamoDB
    Local (with its dummy AWS keys) and at the sip feed, plus `settings` (more variables, e.g.
    FILL_TIMEOUT_SECONDS, or DATA_FEED to try another feed).
    `benchmark` and `universe` default to the function's own defaults; `aws`, the stand-in of
    the kill switch and the summary topic (none: TRADING_ENABLED, no summary)."""
    env = {
        "ALPACA_KEY_ID": key_id,
        "ALPACA_SECRET_KEY": secret_key,
        "ALPACA_TRADING_URL": broker_url,
        "ALPACA_DATA_URL": broker_url,
        # the consolidated closes the backtest decides on; the paper broker's iex bars differ
        # (infra/paperbroker/feeds.py), as Alpaca's do
        "DATA_FEED": "sip",
        "JOURNAL_TABLE": table,
        "DYNAMODB_ENDPOINT_URL": dynamodb_url,
        "AWS_ACCESS_KEY_ID": LOCAL_CREDENTIALS["aws_access_key_id"],
        "AWS_SECRET_ACCESS_KEY": LOCAL_CREDENTIALS["aws_secret_access_key"],
        "AWS_DEFAULT_REGION": LOCAL_CREDENTIALS["region_name"],
    }
    if benchmark is not None:
        env["BENCHMARK_SYMBOL"] = benchmark
    if universe is not None:
        env["UNIVERSE"] = ",".join(universe)
    if aws is not None:
        env |= aws.env()
    return {**env, **settings}


def process_env(env: Mapping[str, str]) -> dict[str, str]:
    """An `infra.handler_cli` child's whole environment: exactly `env`, plus PATH and a fixed
    hash seed; nothing else of this process's environment leaks in."""
    return {"PATH": os.environ.get("PATH", ""), "PYTHONHASHSEED": "0", **env}


TIMEOUT_ENV = "AWS_LAMBDA_FUNCTION_TIMEOUT"  # the function's timeout in s, as sam local sets it


# Lambda's retries of a failed asynchronous invocation (template.yaml, EventInvokeConfig).
LAMBDA_RETRIES = 2


@dataclass
class LocalContext:
    """A Lambda-like context: the attributes Powertools reads, a fresh request id per
    invocation as Lambda gives one, and the time left before `timeout_seconds` (the journal's
    lease is sized from it)."""

    function_name: str = "alpaca-meanrev-local"
    memory_limit_in_mb: int = 512
    timeout_seconds: int = 300
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    _started: float = field(default_factory=time.monotonic)

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:local:000000000000:function:{self.function_name}"

    def get_remaining_time_in_millis(self) -> int:
        left = self.timeout_seconds - (time.monotonic() - self._started)
        return max(0, int(left * 1000))

    @classmethod
    def from_env(cls, env: Mapping[str, str], request_id: str | None = None) -> LocalContext:
        """A context whose timeout is `env`'s AWS_LAMBDA_FUNCTION_TIMEOUT (default 300 s), as
        `infra.handler_cli` builds it: a test shortens a killed invocation's lease with it."""
        timeout = int(env.get(TIMEOUT_ENV) or cls.timeout_seconds)
        return cls(timeout_seconds=timeout,
                   **({"aws_request_id": request_id} if request_id else {}))


@contextlib.contextmanager
def handler_output(sink: TextIO) -> Iterator[None]:
    """While open, the function's JSON logs and EMF metrics go to `sink`. Powertools writes
    logs to the stream its Logger bound at import (stdout) and prints metrics to stdout."""
    from handler import app

    # Swap the stream without setStream(): that flushes the old stream, which may be a closed
    # one (e.g. a test's captured stdout the Logger bound to when it was first imported).
    handler = app.logger.registered_handler
    stream, handler.stream = handler.stream, sink
    try:
        with contextlib.redirect_stdout(sink):
            yield
    finally:
        handler.stream = stream


@contextlib.contextmanager
def in_process(
    env: Mapping[str, str], log: TextIO | None, broker: RunningBroker
) -> Iterator[Callable[[dict], dict]]:
    """`lambda_handler` in this process on services built from `env` once (one warm container),
    waiting on the paper broker's clock when `env` names it (`infra.sim_clock`), its logs and
    metrics sent to `log` (or dropped). An invocation that raises is retried at once under the
    same request id, up to LAMBDA_RETRIES times, as Lambda retries a failed asynchronous one:
    a morning that hands over through its journal (docs/morning.md) is finished by its retry.
    `broker` is unused: the invoker protocol of `infra.localrun.run_local` offers it to
    invokers that fault it."""
    from handler import app
    from infra.sim_clock import with_sim_clock

    with contextlib.ExitStack() as stack:
        sink = log if log is not None else stack.enter_context(open(os.devnull, "w"))
        with handler_output(sink):
            services = with_sim_clock(app.build_services(env), env)

        def once(event: dict, request_id: str) -> dict:
            with handler_output(sink):
                return app.lambda_handler(event, LocalContext(aws_request_id=request_id),
                                          services=services)

        def invoke(event: dict) -> dict:
            request_id = str(uuid.uuid4())
            for _ in range(LAMBDA_RETRIES):
                with contextlib.suppress(Exception):  # its error is in the log; Lambda retries
                    return once(event, request_id)
            return once(event, request_id)

        yield invoke
