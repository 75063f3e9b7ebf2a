"""The sweep's Ray engine: the grid's jobs on a Ray cluster, a local one by default.

`RAY_ADDRESS` (Ray's own variable) names a running cluster to join; without it a local Ray is
started for the sweep and stopped after it. The market is put in the object store once and each
actor (one per CPU) reads it once, so a job ships only its parameters. To a cluster the code of
this project travels as `py_modules`, so its nodes need only the packages it imports.
Each actor runs `backtest.sweep_jobs.measure`, the local engine's function, so the rows are the
same numbers as the local engine's.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from typing import Any

import ray
from ray.exceptions import RayTaskError
from ray.util import ActorPool

import backtest
import market
import strategy
from backtest.sweep_jobs import Job, Measured, collect, heaviest_first, measure
from market import Market

RAY_ADDRESS = "RAY_ADDRESS"


@ray.remote(num_cpus=1)
class _Worker:
    """Holds one copy of the market and backtests the jobs it is handed."""

    def __init__(self, market: Market) -> None:
        self.market = market

    def measure(self, job: Job) -> list[Measured]:
        return measure(self.market, job)


def run_ray(market: Market, jobs: Sequence[Job], workers: int | None,
            progress: bool) -> list[Measured]:
    """The jobs on `workers` Ray actors (default: one per CPU of the cluster), outcomes in grid
    order. Joins the cluster at RAY_ADDRESS when it is set, else starts a local Ray."""
    started = not ray.is_initialized()
    if started:
        _start(workers)
    try:
        cpus = int(ray.cluster_resources().get("CPU", 1))
        count = max(1, min(workers or cpus, len(jobs)))
        market_ref = ray.put(market)
        pool = ActorPool([_Worker.remote(market_ref) for _ in range(count)])
        done = pool.map_unordered(lambda actor, job: actor.measure.remote(job),
                                  heaviest_first(jobs))
        try:
            return collect(done, sum(len(j.points) for j in jobs), progress)
        except RayTaskError as exc:
            # The engine's own error (a bad window), not Ray's traceback around it.
            raise exc.cause if isinstance(exc.cause, Exception) else exc from None
    finally:
        if started:
            ray.shutdown()


def _start(workers: int | None) -> None:
    address = os.environ.get(RAY_ADDRESS) or None
    if address is None:
        # A local Ray's workers get this driver's sys.path: the code needs no shipping.
        settings: dict[str, Any] = {"include_dashboard": False}
        if workers:
            settings["num_cpus"] = workers
    else:
        settings = {"runtime_env": {"py_modules": [backtest, market, strategy]}}
    # Ray's own warnings (a token set up for the local Ray) would bury the sweep's lines; its
    # failures still end the sweep with one error line.
    ray.init(address=address, logging_level=logging.ERROR, log_to_driver=False, **settings)
