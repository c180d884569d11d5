"""Pruning the notification audit log and finished sync history past `RETENTION_DAYS`.

At a million users the audit log grows by tens of millions of rows a day. This cron deletes
in batches of `BATCH` rows, each its own short transaction, and stops after `budget` seconds to
go on at its next run, so it never holds locks the webhook waits for and never outlives its job
timeout. Failed sync requests are kept: they are the record of what could not be fetched.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from service.store import retention
from service.sync.context import WorkerDeps

log = logging.getLogger(__name__)

BATCH = 5_000
# Every five minutes, off the minute so it does not start with the other crons.
MINUTES = frozenset(range(0, 60, 5))
SECOND = 17


@dataclass(frozen=True, slots=True)
class Pruned:
    notifications: int
    sync_requests: int
    finished: bool  # False: the time budget ran out; the next run goes on


async def prune(ctx: dict[str, Any]) -> dict[str, int | bool]:
    """The arq cron: delete what is older than `RETENTION_DAYS`, within half a job timeout."""
    deps = WorkerDeps.of(ctx)
    cutoff = dt.datetime.now(dt.UTC) - dt.timedelta(days=deps.settings.retention_days)
    result = await prune_before(deps.engine, cutoff, budget=deps.settings.job_timeout / 2)
    if result.notifications or result.sync_requests:
        log.info(
            "retention deleted %d notifications and %d synced sync requests older than %s",
            result.notifications,
            result.sync_requests,
            cutoff.date().isoformat(),
            extra={"finished": result.finished},
        )
    return {
        "notifications": result.notifications,
        "sync_requests": result.sync_requests,
        "finished": result.finished,
    }


async def prune_before(
    engine: AsyncEngine, cutoff: dt.datetime, *, budget: float, batch: int = BATCH
) -> Pruned:
    deadline = time.monotonic() + budget
    notifications, done_notifications = await _notifications(engine, cutoff, deadline, batch)
    sync_requests, done_syncs = await _synced(engine, cutoff, deadline, batch)
    return Pruned(notifications, sync_requests, finished=done_notifications and done_syncs)


async def _notifications(
    engine: AsyncEngine, cutoff: dt.datetime, deadline: float, batch: int
) -> tuple[int, bool]:
    total = 0
    while time.monotonic() < deadline:
        async with engine.begin() as conn:
            deleted = await retention.delete_notifications(conn, before=cutoff, batch=batch)
        total += deleted
        if deleted < batch:
            return total, True
    return total, False


async def _synced(
    engine: AsyncEngine, cutoff: dt.datetime, deadline: float, batch: int
) -> tuple[int, bool]:
    total, after_id = 0, 0
    while time.monotonic() < deadline:
        async with engine.begin() as conn:
            chunk = await retention.delete_synced_chunk(
                conn, after_id=after_id, before=cutoff, batch=batch
            )
        total += chunk.deleted
        if chunk.done or chunk.last_id is None:
            return total, True
        after_id = chunk.last_id
    return total, False
