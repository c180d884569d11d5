"""Metrics: `/metrics` parses with Prometheus' own parser and moves when traffic flows.

Counters are process-wide, so every check compares a scrape after the traffic with one before.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import math
from pathlib import Path
from typing import Any

import httpx
import pytest
from arq import Retry
from arq.worker import func
from redis.asyncio import Redis
from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncEngine

from service import embedded, queue
from service.settings import Settings
from service.store.models import SyncRequest, SyncStatus
from service.sync.context import WorkerDeps
from service.sync.telemetry import Telemetry, count_sync_requests, refresh_gauges
from service.sync.worker import create_worker
from tests.integration import processes
from tests.integration.scrape import Samples, local, parse, value
from tests.integration.test_webhook import encode, item, post_signed


async def scrape(api: httpx.AsyncClient) -> Samples:
    response = await api.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    return parse(response.text)


async def test_webhook_traffic_moves_the_counters(api: httpx.AsyncClient) -> None:
    before = await scrape(api)
    batch = [item(), item(ownerId="OTHER"), item(collectionType="sleep")]
    assert (await post_signed(api, encode(batch))).status_code == 204
    assert (await post_signed(api, encode([item(date="2026-11-21")]))).status_code == 204
    wrong = {"x-fitbit-signature": "AAAAAAAAAAAAAAAAAAAAAAAAAAA="}
    assert (await post_signed(api, encode([item()]), **wrong)).status_code == 404
    assert (await post_signed(api, b"{not json")).status_code == 400
    not_json = {"content-type": "text/plain"}
    assert (await post_signed(api, encode([item()]), **not_json)).status_code == 415
    after = await scrape(api)

    def moved(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    received = "fitbit_subscriber_notifications_received_total"
    assert moved(received, provider="fitbit", collection="activities") == 3
    assert moved(received, provider="fitbit", collection="sleep") == 1
    assert moved("fitbit_subscriber_ingest_seconds_count") == 2
    assert moved("fitbit_subscriber_ingest_seconds_sum") > 0
    failures = "fitbit_subscriber_signature_failures_total"
    assert moved(failures, provider="fitbit", reason="mismatch") == 1
    bad = "fitbit_subscriber_bad_requests_total"
    assert moved(bad, provider="fitbit", reason="invalid_notification") == 1
    assert moved(bad, provider="fitbit", reason="unsupported_media_type") == 1


async def _sync_request(engine: AsyncEngine, owner: str, status: SyncStatus) -> None:
    async with engine.begin() as conn:
        await conn.execute(
            insert(SyncRequest).values(
                provider="fitbit",
                owner_id=owner,
                collection="sleep",
                date=dt.date(2026, 11, 20),
                status=status,
            )
        )


async def test_worker_gauges_count_sync_requests_and_the_queue(
    settings: Settings, db: AsyncEngine, redis: Redis
) -> None:
    for n, status in enumerate([SyncStatus.PENDING] * 3 + [SyncStatus.FAILED, SyncStatus.SYNCED]):
        await _sync_request(db, f"U{n}", status)
    pool = queue.connect(settings.redis_url)
    try:
        await pool.enqueue_job("sync", "later", _job_id="deferred", _defer_by=3600)
        deps = WorkerDeps(settings=settings, engine=db, redis=pool)
        assert await count_sync_requests({"deps": deps}) == {"pending": 3, "failed": 1}
        await refresh_gauges(pool)
    finally:
        await pool.aclose(close_connection_pool=True)
    samples = local()
    assert value(samples, "fitbit_subscriber_sync_requests", status="pending") == 3
    assert value(samples, "fitbit_subscriber_sync_requests", status="failed") == 1
    assert value(samples, "fitbit_subscriber_queue_depth") == 1


async def test_gauges_say_unknown_when_no_count_is_fresh(settings: Settings, redis: Redis) -> None:
    pool = queue.connect(settings.redis_url)
    try:
        await refresh_gauges(pool)
    finally:
        await pool.aclose(close_connection_pool=True)
    samples = local()
    assert math.isnan(value(samples, "fitbit_subscriber_sync_requests", status="pending"))


async def ok(ctx: dict[str, Any]) -> str:
    return "done"


async def boom(ctx: dict[str, Any]) -> None:
    raise ValueError("no")


async def flaky(ctx: dict[str, Any]) -> str:
    if ctx["job_try"] == 1:
        raise Retry(defer=0)
    return "done on the second try"


@pytest.mark.filterwarnings("ignore:Call to deprecated close:DeprecationWarning")  # arq 0.28
async def test_jobs_are_counted_by_outcome_and_timed(
    settings: Settings, db: AsyncEngine, redis: Redis
) -> None:
    functions = [func(ok, name="t_ok"), func(boom, name="t_boom"), func(flaky, name="t_flaky")]
    worker = create_worker(
        settings,
        functions=functions,
        cron_jobs=[],
        burst=True,
        poll_delay=0.01,
        max_tries=2,
        handle_signals=False,
    )
    before = local()
    pool = queue.connect(settings.redis_url)
    try:
        for name in ("t_ok", "t_boom", "t_flaky"):
            await pool.enqueue_job(name)
        await worker.async_run()
    finally:
        await worker.close()
        await pool.aclose(close_connection_pool=True)
    after = local()

    def moved(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    jobs = "fitbit_subscriber_jobs_total"
    assert moved(jobs, function="t_ok", outcome="success") == 1
    assert moved(jobs, function="t_boom", outcome="failed") == 1
    assert moved(jobs, function="t_flaky", outcome="retry") == 1
    assert moved(jobs, function="t_flaky", outcome="success") == 1
    assert moved("fitbit_subscriber_job_seconds_count", function="t_flaky") == 2


async def test_worker_metrics_port_serves_and_stops(settings: Settings, redis: Redis) -> None:
    port = embedded.free_port()
    served = settings.model_copy(
        update={"worker_metrics_host": "127.0.0.1", "worker_metrics_port": port}
    )
    pool = queue.connect(settings.redis_url)
    telemetry = Telemetry.start(served, pool)
    try:
        async with httpx.AsyncClient() as client:
            response = await client.get(f"http://127.0.0.1:{port}/metrics")
    finally:
        await telemetry.stop()
        await pool.aclose(close_connection_pool=True)
    assert response.status_code == 200
    assert ("fitbit_subscriber_queue_depth", frozenset()) in parse(response.text)
    assert not embedded.is_listening("127.0.0.1", port)


def _counter_files(shared: Path) -> list[Path]:
    return list(shared.glob("counter_*.db"))


async def _until_both_count(api: httpx.AsyncClient, shared: Path) -> int:
    """Post batches until both processes have counted some (the second may still be starting)."""
    sent = 0
    async with asyncio.timeout(20):
        while len(await asyncio.to_thread(_counter_files, shared)) < 2:
            batch = [encode([item(ownerId=f"MP{sent + n}")]) for n in range(20)]
            answers = await asyncio.gather(*(post_signed(api, body) for body in batch))
            assert {answer.status_code for answer in answers} == {204}
            sent += len(batch)
    return sent


@pytest.mark.slow
async def test_several_api_processes_share_one_metrics_endpoint(
    settings: Settings, db: AsyncEngine, redis: Redis, tmp_path: Path
) -> None:
    shared = tmp_path / "prometheus"
    shared.mkdir()
    (shared / "counter_999999.db").write_bytes(b"a previous run's counts")
    output = tmp_path / "serve.log"
    # A connection per request, so both processes take some of them.
    fresh = httpx.Limits(max_keepalive_connections=0)
    env = {"PROMETHEUS_MULTIPROC_DIR": str(shared)}
    async with processes.serving(settings, output, workers=2, **env) as served:
        assert not (shared / "counter_999999.db").exists(), "a previous run's file was kept"
        async with httpx.AsyncClient(base_url=served.url, limits=fresh) as api:
            sent = await _until_both_count(api, shared)
            scrapes = [await scrape(api) for _ in range(6)]
        assert await asyncio.to_thread(processes.stop, served.process) == 0
    received = "fitbit_subscriber_notifications_received_total"
    totals = [value(s, received, provider="fitbit", collection="activities") for s in scrapes]
    # Whichever process answers a scrape, it reports both processes' counts.
    assert totals == [sent] * 6
