"""The arq worker: its settings, startup and shutdown."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from arq import cron, func
from arq.worker import Worker
from redis.exceptions import RedisError

from service import queue
from service.settings import Settings
from service.store.db import create_engine
from service.sync import leases, maintenance, retention, runtime, tasks, telemetry
from service.sync.context import WorkerDeps
from service.sync.sweeper import sweep

# Retry() re-queues a key when its budget is spent or it changed during the fetch; those are
# not failures, so arq's own try limit must not end them. Failures are counted in PostgreSQL.
MAX_TRIES = 10_000

log = logging.getLogger(__name__)


def create_worker(settings: Settings, **overrides: Any) -> Worker:
    settings.require(*runtime.required(settings))

    async def startup(ctx: dict[str, Any]) -> None:
        ctx["deps"] = WorkerDeps(
            settings=settings, engine=create_engine(settings), redis=ctx["redis"]
        )
        ctx["sync"] = runtime.SyncDeps.start(settings, ctx["deps"].engine, ctx["redis"])
        ctx["telemetry"] = telemetry.Telemetry.start(settings, ctx["redis"])
        # arq's in-progress mark lives JOB_TIMEOUT + 10 s (no function sets its own timeout).
        job_leases = leases.Leases(ctx["redis"], (settings.job_timeout + 10) * 1000)
        job_leases.start()
        ctx[leases.CONTEXT_KEY] = job_leases

    async def shutdown(ctx: dict[str, Any]) -> None:
        if leases.CONTEXT_KEY in ctx:
            await ctx[leases.CONTEXT_KEY].stop()
        if "telemetry" in ctx:
            await ctx["telemetry"].stop()
        if "sync" in ctx:
            await runtime.SyncDeps.of(ctx).close()
        if "deps" in ctx:
            await WorkerDeps.of(ctx).engine.dispose()

    interval = settings.sweep_interval_seconds
    options: dict[str, Any] = {
        "functions": [func(tasks.sync, name=queue.SYNC_FUNCTION, max_tries=MAX_TRIES)],
        "cron_jobs": [
            cron(sweep, second=set(range(0, 60, interval)), run_at_startup=True),
            cron(telemetry.count_sync_requests, second=41, run_at_startup=True),
            cron(maintenance.reconcile_subscriptions, hour=4, minute=17, second=0),
            cron(retention.prune, minute=set(retention.MINUTES), second=retention.SECOND),
        ],
        "redis_settings": queue.redis_settings(settings.redis_url),
        "queue_name": queue.QUEUE_NAME,
        "on_startup": startup,
        "on_shutdown": shutdown,
        "after_job_end": tasks.requeue_if_changed,
        # The job id is the sync key: a kept result would block the key's next change.
        "keep_result": 0,
        "poll_delay": settings.poll_delay,
        "max_jobs": settings.max_jobs,
        "job_timeout": settings.job_timeout,
        # SIGTERM: stop taking jobs, give running ones this long, re-queue what is left.
        "job_completion_wait": settings.worker_shutdown_grace_seconds,
        "health_check_interval": 60,
    }
    options.update(overrides)
    for jobs in ("functions", "cron_jobs"):
        options[jobs] = telemetry.instrument(options.get(jobs) or [])
    return Worker(**options)


def run_worker(settings: Settings, *, first_delay: float = 1.0, max_delay: float = 30.0) -> None:
    """Run a worker until it is stopped (SIGINT/SIGTERM); when Redis goes away, which ends
    arq's loop, wait and start a new one on a fresh event loop, rather than exit and leave the
    restart to a supervisor's backoff. Work the lost Redis held is queued again by the sweeper
    from PostgreSQL."""
    delay = first_delay
    while True:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        try:
            create_worker(settings).run()
            return
        except (RedisError, OSError) as exc:
            log.warning("worker lost Redis (%r); starting again in %.0f s", exc, delay)
        finally:
            _close(loop)
        time.sleep(delay)
        delay = min(delay * 2, max_delay)


def _close(loop: asyncio.AbstractEventLoop) -> None:
    """Cancel what the ended worker left running (its jobs' tasks, the gauge refresher)."""
    left = asyncio.all_tasks(loop)
    for task in left:
        task.cancel()
    loop.run_until_complete(asyncio.gather(*left, return_exceptions=True))
    loop.close()
