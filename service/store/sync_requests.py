"""Queries on sync requests that both the API and the worker need."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from service.providers.base import SyncKey
from service.store.models import SyncRequest, SyncStatus


async def stale_pending(
    conn: AsyncConnection, *, older_than: dt.timedelta, limit: int
) -> list[SyncKey]:
    """Keys pending for longer than `older_than`, oldest first (their job may have been lost)."""
    cutoff = dt.datetime.now(dt.UTC) - older_than
    rows = await conn.execute(
        select(SyncRequest.provider, SyncRequest.owner_id, SyncRequest.collection, SyncRequest.date)
        .where(SyncRequest.status == SyncStatus.PENDING, SyncRequest.pending_since < cutoff)
        .order_by(SyncRequest.pending_since)
        .limit(limit)
    )
    return [SyncKey(*row) for row in rows]


async def count_unfinished(conn: AsyncConnection) -> dict[SyncStatus, int]:
    """How many sync requests are pending and how many failed (each status, zero included)."""
    rows = await conn.execute(
        select(SyncRequest.status, func.count())
        .where(SyncRequest.status.in_([SyncStatus.PENDING, SyncStatus.FAILED]))
        .group_by(SyncRequest.status)
    )
    found: dict[SyncStatus, int] = {SyncStatus.PENDING: 0, SyncStatus.FAILED: 0}
    found.update({status: int(count) for status, count in rows})
    return found
