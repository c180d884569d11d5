"""What the worker reports about itself: job metrics and log context, gauges, a metrics port.

Counting sync requests needs PostgreSQL, so it is a cron (arq runs each tick of a cron on one
worker only) that leaves the counts in Redis; every worker copies them and the queue length
into its gauges every few seconds, so all replicas expose the same values (dashboards take the
`max`) at the cost of one count per minute for the whole fleet.
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import logging
import math
import time
from collections.abc import Awaitable, Iterable
from typing import Any, cast
from wsgiref.simple_server import WSGIServer

from arq.connections import ArqRedis
from arq.cron import CronJob
from arq.worker import Function, Retry, func
from prometheus_client import start_http_server
from sqlalchemy import text

from service import logs, metrics, queue
from service.settings import Settings
from service.store import sync_requests
from service.sync import leases
from service.sync.context import WorkerDeps
from service.sync.periodic import Periodic

log = logging.getLogger(__name__)

STATS_KEY = "fitbit_subscriber:stats:sync_requests"
# Counts older than this are not shown: the cron has stopped running somewhere.
STATS_TTL_SECONDS = 300
REFRESH_SECONDS = 15.0
# The key under which a job's outcome (success, retry, failed, cancelled) is left in its ctx.
OUTCOME = "outcome"
COUNT_TIMEOUT = "10s"
STATUSES = ("pending", "failed")


def instrument(jobs: Iterable[Any]) -> list[Any]:
    """Each job function or cron job, timed, counted by outcome and logged with its job id."""
    return [_instrumented(j if isinstance(j, Function | CronJob) else func(j)) for j in jobs]


def _instrumented(job: Function | CronJob) -> Function | CronJob:
    inner, name = job.coroutine, job.name

    @functools.wraps(inner)
    async def run(ctx: dict[str, Any], *args: Any, **kwargs: Any) -> Any:
        # arq runs each job in a task of its own, so this binding ends with the job.
        logs.bind(job_id=ctx.get("job_id"))
        started, outcome = time.perf_counter(), "failed"
        try:
            async with leases.held(ctx):
                result = await inner(ctx, *args, **kwargs)
        except Retry:
            outcome = "retry"
            raise
        except asyncio.CancelledError:  # a timeout, or a shutdown past its grace period
            outcome = "cancelled"
            raise
        else:
            outcome = "success"
        finally:
            ctx[OUTCOME] = outcome  # arq hands the same ctx to `after_job_end`
            metrics.job_finished(name, outcome, time.perf_counter() - started)
        return result

    return dataclasses.replace(job, coroutine=run)


async def count_sync_requests(ctx: dict[str, Any]) -> dict[str, int]:
    """The cron: count pending and failed sync requests for every worker's gauges."""
    deps = WorkerDeps.of(ctx)
    async with deps.engine.connect() as conn:
        # The failed count has no index to use; never let it run long on a big table.
        await conn.execute(text(f"SET LOCAL statement_timeout = '{COUNT_TIMEOUT}'"))
        counts = await sync_requests.count_unfinished(conn)
    found = {status.value: count for status, count in counts.items()}
    async with deps.redis.pipeline(transaction=True) as pipe:
        pipe.hset(STATS_KEY, mapping=found)
        pipe.expire(STATS_KEY, STATS_TTL_SECONDS)
        await pipe.execute()
    return found


async def refresh_gauges(redis: ArqRedis) -> None:
    metrics.QUEUE_DEPTH.set(await redis.zcard(queue.QUEUE_NAME))
    # redis-py types its commands for both clients; this one is the asyncio client.
    stats = await cast("Awaitable[dict[bytes, bytes]]", redis.hgetall(STATS_KEY))
    found = {key.decode(): value for key, value in stats.items()}
    for status in STATUSES:
        metrics.SYNC_REQUESTS.labels(status).set(float(found.get(status, math.nan)))


@dataclasses.dataclass(slots=True)
class Telemetry:
    """The worker's metrics server and gauge refresher, from startup to shutdown."""

    refresher: Periodic
    server: WSGIServer | None

    @classmethod
    def start(cls, settings: Settings, redis: ArqRedis) -> Telemetry:
        refresher = Periodic("metrics-refresher", REFRESH_SECONDS, lambda: refresh_gauges(redis))
        return cls(refresher, _serve(settings))

    async def stop(self) -> None:
        await self.refresher.stop()
        if self.server is not None:
            await asyncio.to_thread(self.server.shutdown)
            self.server.server_close()


def _serve(settings: Settings) -> WSGIServer | None:
    """Serve this process's metrics in a thread; a port in use costs the metrics, not the work."""
    if not settings.worker_metrics_port:
        return None
    host, port = settings.worker_metrics_host, settings.worker_metrics_port
    try:
        server, _ = start_http_server(port, host)
    except OSError as exc:
        log.error("worker metrics not served on %s:%d: %s", host, port, exc)
        return None
    log.info("worker metrics on http://%s:%d/metrics", host, port)
    return server
