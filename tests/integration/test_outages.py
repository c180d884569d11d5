"""The webhook and probes when PostgreSQL or Redis is down: nothing signed is ever lost."""

from __future__ import annotations

import httpx
from redis.asyncio import Redis
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from service import embedded, queue
from service.app import create_app
from service.settings import Settings
from service.store.models import Notification, SyncRequest
from service.sync.context import WorkerDeps
from service.sync.sweeper import sweep
from tests.integration.conftest import serving
from tests.integration.test_webhook import encode, item, post_signed, queued_jobs


def _nothing_listening() -> str:
    return f"postgresql://postgres@127.0.0.1:{embedded.free_port()}/test"


async def test_database_down_answers_503_so_fitbit_retries(settings: Settings) -> None:
    down = Settings(**{**settings.model_dump(), "database_url": _nothing_listening()})
    async with serving(create_app(down)) as url, httpx.AsyncClient(base_url=url) as api:
        response = await post_signed(api, encode([item()]))
        ready = await api.get("/readyz")
    assert response.status_code == 503
    assert response.headers["retry-after"]
    assert ready.status_code == 503
    assert ready.json() == {"postgresql": "unreachable", "redis": "ok"}


async def test_redis_down_still_204_and_the_sweeper_queues_later(
    settings: Settings, db: AsyncEngine, redis: Redis
) -> None:
    down = Settings(
        **{**settings.model_dump(), "redis_url": f"redis://127.0.0.1:{embedded.free_port()}/0"}
    )
    async with serving(create_app(down)) as url, httpx.AsyncClient(base_url=url) as api:
        response = await post_signed(api, encode([item(), item(collectionType="body")]))
        ready = await api.get("/readyz")
    assert response.status_code == 204
    assert ready.status_code == 503
    assert ready.json() == {"postgresql": "ok", "redis": "unreachable"}
    async with db.connect() as conn:
        assert len((await conn.execute(select(Notification))).all()) == 2
        pending = (await conn.execute(select(SyncRequest.collection))).scalars().all()
    assert sorted(pending) == ["activities", "body"]
    assert await queued_jobs(redis) == []

    # Not yet stale: the sweeper leaves fresh rows to their (possibly still running) enqueue.
    deps = WorkerDeps(settings=settings, engine=db, redis=queue.connect(settings.redis_url))
    assert await sweep({"deps": deps}) == 0
    stale = Settings(**{**settings.model_dump(), "sweep_pending_after_seconds": 0.001})
    deps = WorkerDeps(settings=stale, engine=db, redis=deps.redis)
    assert await sweep({"deps": deps}) == 2
    assert sorted(await queued_jobs(redis)) == [
        "sync:fitbit:228TQ4:activities:2026-11-20",
        "sync:fitbit:228TQ4:body:2026-11-20",
    ]
    # Job ids are the keys: sweeping again queues nothing twice.
    assert await sweep({"deps": deps}) == 0
    await deps.redis.aclose(close_connection_pool=True)


async def test_ready_when_both_answer(api: httpx.AsyncClient) -> None:
    assert (await api.get("/healthz")).json() == {"status": "ok"}
    ready = await api.get("/readyz")
    assert ready.status_code == 200
    assert ready.json() == {"postgresql": "ok", "redis": "ok"}
