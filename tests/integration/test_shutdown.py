"""SIGTERM: the API answers what it accepted and exits; the worker finishes or re-queues.

The API runs as a real `fitbit-subscriber serve` process. The worker's job semantics run on
arq's own `Worker` in this process, with a real SIGTERM delivered to it, because the service
registers no slow job to interrupt; its process is checked for a clean, prompt exit as well.
"""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections.abc import AsyncIterator, Awaitable, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any, cast

import httpx
import pytest
from arq.connections import ArqRedis
from arq.worker import Worker, func
from redis.asyncio import Redis
from sqlalchemy import func as sql_func
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from service import embedded, queue
from service.settings import Settings
from service.store.models import Notification
from service.sync.worker import create_worker
from tests.integration import processes
from tests.integration.test_webhook import encode, fitbit_signature, item

pytestmark = pytest.mark.slow
# arq 0.28's Worker.close() calls redis-py's deprecated close().
ARQ_CLOSE = pytest.mark.filterwarnings("ignore:Call to deprecated close:DeprecationWarning")

REQUESTS = 300
SIGTERM_AFTER = 60  # answers received before the signal; the rest are in flight or not sent
EXIT_WITHIN = 15.0


# -- API ------------------------------------------------------------------------------------


class _Answers:
    """Counts answers; `enough` is set once SIGTERM_AFTER have come back."""

    def __init__(self) -> None:
        self.count = 0
        self.enough = asyncio.Event()

    def add(self) -> None:
        self.count += 1
        if self.count >= SIGTERM_AFTER:
            self.enough.set()


async def _post(client: httpx.AsyncClient, owner: str, answers: _Answers) -> int | None:
    body = encode([item(ownerId=owner, subscriptionId=f"{owner}-activities")])
    headers = {"content-type": "application/json", "x-fitbit-signature": fitbit_signature(body)}
    try:
        response = await client.post("/fitbit/webhook", content=body, headers=headers)
    except httpx.TransportError:
        return None  # refused or cut off during shutdown: Fitbit would deliver it again
    answers.add()
    return response.status_code


async def _storm_and_terminate(url: str, process: Any) -> dict[str, int | None]:
    answers = _Answers()
    owners = [f"TERM{n:04d}" for n in range(REQUESTS)]
    limits = httpx.Limits(max_connections=32)
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=10) as client:
        posts = [asyncio.create_task(_post(client, owner, answers)) for owner in owners]
        async with asyncio.timeout(30):
            await answers.enough.wait()
        process.terminate()
        statuses = await asyncio.gather(*posts)
    return dict(zip(owners, statuses, strict=True))


async def _recorded(engine: AsyncEngine) -> dict[str, int]:
    async with engine.connect() as conn:
        rows = await conn.execute(
            select(Notification.owner_id, sql_func.count()).group_by(Notification.owner_id)
        )
        return {owner: int(count) for owner, count in rows}


async def test_api_answers_what_it_accepted_then_exits_0(
    settings: Settings, db: AsyncEngine, redis: Redis, tmp_path: Path
) -> None:
    output = tmp_path / "serve.log"
    async with processes.serving(settings, output) as served:
        statuses = await _storm_and_terminate(served.url, served.process)
        started = time.monotonic()
        code = await asyncio.to_thread(served.process.wait, EXIT_WITHIN)
        took = time.monotonic() - started

    accepted = {owner for owner, status in statuses.items() if status == 204}
    recorded = await _recorded(db)
    assert code == 0, output.read_text()[-3000:]
    assert took < EXIT_WITHIN
    assert len(accepted) >= SIGTERM_AFTER
    assert set(statuses.values()) <= {204, 503, None}, statuses
    assert None in statuses.values(), "nothing was in flight when SIGTERM arrived"
    assert accepted <= recorded.keys(), "a request answered 204 was not recorded"
    assert all(recorded[owner] == 1 for owner in accepted)


# -- worker ---------------------------------------------------------------------------------


@contextmanager
def _signals_restored() -> Iterator[None]:
    """arq installs SIGINT/SIGTERM handlers on the running loop; take them off afterwards."""
    try:
        yield
    finally:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)


async def slow(ctx: dict[str, Any], n: int, seconds: float) -> None:
    redis: ArqRedis = ctx["redis"]
    await cast("Awaitable[int]", redis.rpush("test:started", n))
    await asyncio.sleep(seconds)
    await cast("Awaitable[int]", redis.rpush("test:finished", n))


def _worker(settings: Settings, *, grace: int, burst: bool = False) -> Worker:
    """The service's worker with `slow` as its only function: the grace period, job limit and
    polling come from the settings, as in production."""
    configured = Settings(
        **{
            **settings.model_dump(),
            "worker_shutdown_grace_seconds": grace,
            "max_jobs": 2,
            "poll_delay": 0.01,
        }
    )
    return create_worker(configured, functions=[func(slow, name="slow")], cron_jobs=[], burst=burst)


# redis-py types its commands for both clients; these are the asyncio client's.
async def _numbers(redis: Redis, key: str) -> list[int]:
    values = await cast("Awaitable[list[bytes]]", redis.lrange(key, 0, -1))
    return [int(value) for value in values]


async def _wait_started(redis: Redis, count: int) -> None:
    async with asyncio.timeout(10):
        while len(await _numbers(redis, "test:started")) < count:  # noqa: ASYNC110 - polls Redis
            await asyncio.sleep(0.01)


@asynccontextmanager
async def _pool(settings: Settings) -> AsyncIterator[ArqRedis]:
    pool = queue.connect(settings.redis_url)
    try:
        yield pool
    finally:
        await pool.aclose(close_connection_pool=True)


async def _drain(settings: Settings) -> None:
    """Run what is queued to the end with a fresh worker, as the next replica would."""
    with _signals_restored():
        worker = _worker(settings, grace=10, burst=True)
        try:
            await worker.async_run()
        finally:
            await worker.close()


async def _sigterm_after_start(worker: Worker, redis: Redis, running: int) -> None:
    run = asyncio.create_task(worker.async_run())
    await _wait_started(redis, running)
    os.kill(os.getpid(), signal.SIGTERM)
    done, _ = await asyncio.wait([run], timeout=20)
    assert run in done, "the worker did not stop after SIGTERM"
    await worker.close()


@ARQ_CLOSE
async def test_worker_finishes_running_jobs_and_leaves_the_rest_queued(
    settings: Settings, db: AsyncEngine, redis: Redis
) -> None:
    async with _pool(settings) as pool:
        for n in range(6):
            await pool.enqueue_job("slow", n, 0.5, _job_id=f"slow-{n}")
    with _signals_restored():
        await _sigterm_after_start(_worker(settings, grace=10), redis, running=2)

    first = await _numbers(redis, "test:finished")
    assert sorted(first) == sorted(await _numbers(redis, "test:started"))
    assert len(first) == 2
    assert await redis.zcard(queue.QUEUE_NAME) == 4

    await _drain(settings)
    finished = await _numbers(redis, "test:finished")
    assert sorted(finished) == list(range(6)), "a job was lost or ran twice"


@ARQ_CLOSE
async def test_a_job_past_the_grace_period_is_requeued_and_runs_once(
    settings: Settings, db: AsyncEngine, redis: Redis
) -> None:
    async with _pool(settings) as pool:
        await pool.enqueue_job("slow", 7, 3.0, _job_id="slow-7")
    with _signals_restored():
        started = time.monotonic()
        await _sigterm_after_start(_worker(settings, grace=1), redis, running=1)
        took = time.monotonic() - started
    assert 1.0 <= took < 3.0, f"the grace period of 1 s was not applied: {took:.2f} s"
    assert await _numbers(redis, "test:finished") == []
    assert await redis.zrange(queue.QUEUE_NAME, 0, -1) == [b"slow-7"]

    await _drain(settings)
    assert await _numbers(redis, "test:finished") == [7]
    assert await _numbers(redis, "test:started") == [7, 7]


async def test_worker_process_exits_0_on_sigterm_and_keeps_queued_work(
    settings: Settings, db: AsyncEngine, redis: Redis, tmp_path: Path
) -> None:
    async with _pool(settings) as pool:
        # Deferred an hour: queued, never taken by this run.
        await pool.enqueue_job("sync", "fitbit", "X", _job_id="later", _defer_by=3600)
    port = embedded.free_port()
    env = processes.service_env(
        settings, WORKER_METRICS_HOST="127.0.0.1", WORKER_METRICS_PORT=str(port)
    )
    output = tmp_path / "worker.log"
    with processes.running("worker", env=env, output=output) as process:
        url = f"http://127.0.0.1:{port}/metrics"
        await asyncio.to_thread(processes.wait_healthy, process, url, output)
        started = time.monotonic()
        code = await asyncio.to_thread(processes.stop, process)
        took = time.monotonic() - started
    assert code == 0, output.read_text()[-3000:]
    assert took < EXIT_WITHIN
    queued = await redis.zrange(queue.QUEUE_NAME, 0, -1)
    # Startup crons the signal came before are left queued too, for the next worker.
    assert [job for job in queued if not job.startswith(b"cron:")] == [b"later"]
