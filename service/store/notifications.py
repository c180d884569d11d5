"""Recording received notifications: the audit log and the sync requests they make pending.

One statement does both, so a webhook batch costs one round trip. Keys are upserted in sorted
order so that concurrent batches lock shared rows in the same order and cannot deadlock.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection

from service.providers.base import ReceivedChange, SyncKey

# $1-$7: the items' columns, $8-$11: the keys', in the order `_parameters` lists them.
_RECORD = """
WITH received AS (
    INSERT INTO notification
        (provider, owner_id, owner_type, collection_type, date, subscription_id, raw)
    SELECT provider, owner_id, owner_type, collection_type, date, subscription_id, raw::jsonb
    FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::date[], $6::text[], $7::text[])
        AS item(provider, owner_id, owner_type, collection_type, date, subscription_id, raw)
)
INSERT INTO sync_request AS s (provider, owner_id, collection, date)
SELECT * FROM unnest($8::text[], $9::text[], $10::text[], $11::date[]) ORDER BY 1, 2, 3, 4
ON CONFLICT (provider, owner_id, collection, date) DO UPDATE SET
    generation = s.generation + 1,
    status = 'pending',
    attempts = CASE WHEN s.status = 'pending' THEN s.attempts ELSE 0 END,
    pending_since = CASE WHEN s.status = 'pending' THEN LEAST(s.pending_since, now())
                         ELSE now() END
RETURNING provider, owner_id, collection, date, pending_since = now() AS became_pending
"""


async def record(conn: AsyncConnection, changes: Sequence[ReceivedChange]) -> list[SyncKey]:
    """Log every change and bump the generation of each key; return keys that became pending.

    A key already pending keeps its place (and its queued job): its generation still moves, so
    a sync that read the old generation runs once more. A key pending for the future (a
    backfill's, due later) is pending from now and returned, so its live sync is queued now.
    """
    keys = sorted(
        {key for change in changes if (key := change.sync_key) is not None},
        key=lambda k: (k.provider, k.owner_id, k.collection, k.date),
    )
    # asyncpg itself, not SQLAlchemy's execution: this runs for every webhook batch, and the
    # layers in between cost a third of the CPU of the commit (measured in-process).
    parameters = _parameters(changes, keys)
    driver: Any = (await conn.get_raw_connection()).driver_connection
    try:
        rows = await driver.fetch(_RECORD, *parameters)
    except Exception as exc:  # asyncpg's errors share no base: server, interface, client state
        # What SQLAlchemy's own execution would raise, and the connection leaves the pool
        # (it may be dead): past SQLAlchemy, neither happens by itself.
        await conn.invalidate()
        raise DBAPIError(_RECORD, None, exc) from exc
    return [
        SyncKey(row["provider"], row["owner_id"], row["collection"], row["date"])
        for row in rows
        if row["became_pending"]
    ]


def _parameters(changes: Sequence[ReceivedChange], keys: Sequence[SyncKey]) -> list[list[Any]]:
    return [*_item_columns(changes).values(), *_key_columns(keys).values()]


def _item_columns(changes: Sequence[ReceivedChange]) -> dict[str, list[object]]:
    return {
        "provider": [c.provider for c in changes],
        "owner_id": [c.owner_id for c in changes],
        "owner_type": [c.owner_type for c in changes],
        "collection_type": [c.collection for c in changes],
        "date": [c.date for c in changes],
        "subscription_id": [c.subscription_id for c in changes],
        "raw": [json.dumps(c.raw, separators=(",", ":")) for c in changes],
    }


def _key_columns(keys: Sequence[SyncKey]) -> dict[str, list[str] | list[dt.date]]:
    return {
        "key_provider": [k.provider for k in keys],
        "key_owner_id": [k.owner_id for k in keys],
        "key_collection": [k.collection for k in keys],
        "key_date": [k.date for k in keys],
    }
