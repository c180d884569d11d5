"""Retention: old audit rows and finished sync history go, in small batches; the rest stays."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from service import queue
from service.settings import Settings
from service.store.models import Notification, SyncRequest, SyncStatus
from service.sync.context import WorkerDeps
from service.sync.retention import prune, prune_before
from tests.integration.test_webhook import sync_requests

NOW = dt.datetime.now(dt.UTC)
OLD = NOW - dt.timedelta(days=40)
RECENT = NOW - dt.timedelta(days=3)
CUTOFF = NOW - dt.timedelta(days=30)


async def _notifications(engine: AsyncEngine, received: list[dt.datetime]) -> None:
    rows = [
        {
            "provider": "fitbit",
            "owner_id": f"N{n}",
            "collection_type": "sleep",
            "received_at": at,
            "raw": {},
        }
        for n, at in enumerate(received)
    ]
    async with engine.begin() as conn:
        await conn.execute(insert(Notification), rows)


async def _sync_request(
    engine: AsyncEngine, owner: str, status: SyncStatus, created: dt.datetime, synced: Any
) -> None:
    async with engine.begin() as conn:
        await conn.execute(
            insert(SyncRequest).values(
                provider="fitbit",
                owner_id=owner,
                collection="sleep",
                date=created.date(),
                status=status,
                created_at=created,
                synced_at=synced,
            )
        )


async def _remaining_notifications(engine: AsyncEngine) -> int:
    async with engine.connect() as conn:
        return int(await conn.scalar(select(func.count()).select_from(Notification)) or 0)


async def _history(engine: AsyncEngine) -> None:
    """Old and new rows interleaved in id order, as re-notified keys leave them."""
    await _sync_request(engine, "old-synced-1", SyncStatus.SYNCED, OLD, OLD)
    await _sync_request(engine, "old-pending", SyncStatus.PENDING, OLD, None)
    await _sync_request(engine, "old-failed", SyncStatus.FAILED, OLD, None)
    await _sync_request(engine, "old-synced-2", SyncStatus.SYNCED, OLD, OLD)
    await _sync_request(engine, "old-created-synced-lately", SyncStatus.SYNCED, OLD, RECENT)
    for n in range(3, 10):
        await _sync_request(engine, f"old-synced-{n}", SyncStatus.SYNCED, OLD, OLD)
    await _sync_request(engine, "recent-synced", SyncStatus.SYNCED, RECENT, RECENT)
    await _sync_request(engine, "recent-pending", SyncStatus.PENDING, RECENT, None)


async def test_old_rows_go_in_batches_and_the_rest_stays(db: AsyncEngine) -> None:
    await _notifications(db, [OLD] * 7 + [RECENT] * 2)
    await _history(db)

    pruned = await prune_before(db, CUTOFF, budget=30, batch=3)

    assert pruned.finished
    assert pruned.notifications == 7
    assert pruned.sync_requests == 9
    assert await _remaining_notifications(db) == 2
    left = sorted(row.owner_id for row in await sync_requests(db))
    assert left == [
        "old-created-synced-lately",
        "old-failed",
        "old-pending",
        "recent-pending",
        "recent-synced",
    ]


async def test_a_spent_budget_stops_and_the_next_run_goes_on(db: AsyncEngine) -> None:
    await _notifications(db, [OLD] * 4)
    await _history(db)

    stopped = await prune_before(db, CUTOFF, budget=0, batch=2)
    assert not stopped.finished
    assert (stopped.notifications, stopped.sync_requests) == (0, 0)

    again = await prune_before(db, CUTOFF, budget=30, batch=2)
    assert again.finished
    assert (again.notifications, again.sync_requests) == (4, 9)


async def test_the_cron_uses_retention_days(settings: Settings, db: AsyncEngine) -> None:
    await _notifications(db, [NOW - dt.timedelta(days=10), NOW - dt.timedelta(days=2)])
    week = settings.model_copy(update={"retention_days": 7})
    redis = queue.connect(settings.redis_url)  # connects lazily; pruning never uses it
    try:
        result = await prune({"deps": WorkerDeps(settings=week, engine=db, redis=redis)})
    finally:
        await redis.aclose(close_connection_pool=True)
    assert result == {"notifications": 1, "sync_requests": 0, "finished": True}
    assert await _remaining_notifications(db) == 1
