"""Deleting old audit log rows and finished sync history, a small batch per statement.

Each call is one short statement for the caller to commit on its own, so the rows it locks are
held for milliseconds and the webhook's upserts never queue behind a long delete.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

# The `received_at` index yields the oldest rows first and stops at the cutoff.
_NOTIFICATIONS = text("""
DELETE FROM notification WHERE id IN (
    SELECT id FROM notification WHERE received_at < :cutoff ORDER BY received_at LIMIT :batch
)
""")

# sync_request has no index on `synced_at`, so a filtered scan would re-read the whole table
# for every batch. Instead walk the primary key a chunk at a time: each chunk is an index range
# read of `batch` rows, and the walk ends at the first chunk created entirely after the cutoff
# (a row cannot have been synced before it existed). The status and age are checked on the
# target row, not the chunk, so a row a webhook made pending meanwhile is left alone.
_SYNCED_CHUNK = text("""
WITH chunk AS (
    SELECT id, created_at FROM sync_request WHERE id > :after ORDER BY id LIMIT :batch
), gone AS (
    DELETE FROM sync_request AS s USING chunk
    WHERE s.id = chunk.id AND s.status = 'synced' AND s.synced_at < :cutoff
    RETURNING s.id
)
SELECT (SELECT max(id) FROM chunk) AS last_id,
       (SELECT min(created_at) FROM chunk) AS oldest,
       (SELECT count(*) FROM gone) AS deleted
""")


@dataclass(frozen=True, slots=True)
class Chunk:
    deleted: int
    last_id: int | None  # where the next chunk starts; None: the table is walked
    done: bool  # nothing at or past `last_id` can be old enough


async def delete_notifications(conn: AsyncConnection, *, before: dt.datetime, batch: int) -> int:
    """Delete up to `batch` notifications received before `before`; return how many."""
    result = await conn.execute(_NOTIFICATIONS, {"cutoff": before, "batch": batch})
    return result.rowcount


async def delete_synced_chunk(
    conn: AsyncConnection, *, after_id: int, before: dt.datetime, batch: int
) -> Chunk:
    """Delete the synced rows, synced before `before`, among the `batch` rows after `after_id`."""
    row = (
        await conn.execute(_SYNCED_CHUNK, {"after": after_id, "cutoff": before, "batch": batch})
    ).one()
    done = row.last_id is None or row.oldest >= before
    return Chunk(deleted=int(row.deleted), last_id=row.last_id, done=done)
