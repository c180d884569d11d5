"""After a sync job ends, a key that is pending again gets a job of its own.

A notification committed after the sync's commit but before arq deleted the finished job could
not queue a job (the key's job id was still taken); `requeue_if_changed` runs as arq's
`after_job_end` and queues it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from typing import Any

import pytest
from arq.connections import ArqRedis
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine

from service import embedded, queue
from service.providers.base import SyncKey
from service.settings import Settings
from service.store.db import create_engine, session_factory
from service.store.models import SyncRequest, SyncStatus
from service.sync import telemetry
from service.sync.runtime import SyncDeps
from service.sync.tasks import requeue_if_changed

DAY = dt.date(2026, 11, 19)
PENDING = SyncKey("fitbit", "REQ001", "sleep", DAY)
SYNCED = SyncKey("fitbit", "REQ001", "body", DAY)


@pytest.fixture
async def ctx(settings: Settings, db: AsyncEngine, redis: Redis) -> AsyncIterator[dict[str, Any]]:
    async with session_factory(db).begin() as session:
        session.add(SyncRequest(**_columns(PENDING), generation=3, synced_generation=2))
        session.add(
            SyncRequest(
                **_columns(SYNCED),
                generation=2,
                synced_generation=2,
                status=SyncStatus.SYNCED,
                pending_since=None,
            )
        )
    arq = queue.connect(settings.redis_url)
    deps = SyncDeps.start(settings, db, arq)
    yield {"sync": deps, "redis": arq}
    await deps.close()
    await arq.aclose(close_connection_pool=True)


def _columns(key: SyncKey) -> dict[str, object]:
    return {
        "provider": key.provider,
        "owner_id": key.owner_id,
        "collection": key.collection,
        "date": key.date,
    }


async def _queued(arq: ArqRedis) -> set[str]:
    return {job.decode() for job in await arq.zrange(queue.QUEUE_NAME, 0, -1)}


async def test_a_key_pending_again_after_its_job_ended_is_queued(ctx: dict[str, Any]) -> None:
    await requeue_if_changed({**ctx, "job_id": PENDING.job_id()})
    assert await _queued(ctx["redis"]) == {PENDING.job_id()}


async def test_a_synced_key_and_other_jobs_are_left_alone(ctx: dict[str, Any]) -> None:
    await requeue_if_changed({**ctx, "job_id": SYNCED.job_id()})
    await requeue_if_changed({**ctx, "job_id": "cron:sweep"})
    assert await _queued(ctx["redis"]) == set()


async def test_an_unreachable_database_or_redis_leaves_the_key_to_the_sweeper(
    settings: Settings, ctx: dict[str, Any]
) -> None:
    # arq does not catch what after_job_end raises: raising here would end the worker process.
    closed = f"127.0.0.1:{embedded.free_port()}"
    gone_db = settings.model_copy(update={"database_url": f"postgresql+asyncpg://u@{closed}/x"})
    engine = create_engine(gone_db)
    no_db = SyncDeps.start(gone_db, engine, ctx["redis"])
    no_redis = queue.connect(f"redis://{closed}/0")
    try:
        await requeue_if_changed({**ctx, "sync": no_db, "job_id": PENDING.job_id()})
        await requeue_if_changed({**ctx, "redis": no_redis, "job_id": PENDING.job_id()})
    finally:
        await no_db.close()
        await engine.dispose()
        await no_redis.aclose(close_connection_pool=True)
    assert await _queued(ctx["redis"]) == set()


async def test_a_job_that_was_retried_is_still_queued_and_left_alone(ctx: dict[str, Any]) -> None:
    await requeue_if_changed({**ctx, "job_id": PENDING.job_id(), telemetry.OUTCOME: "retry"})
    assert await _queued(ctx["redis"]) == set()


def test_job_ids_name_their_keys() -> None:
    key = SyncKey("fitbit", "AB:CD", "activities", DAY)  # an owner id may hold a colon
    assert SyncKey.from_job_id(key.job_id()) == key
    assert SyncKey.from_job_id("cron:sweep") is None
    assert SyncKey.from_job_id("sync:fitbit:X:sleep:not-a-date") is None
