"""Recording received notifications: the audit log and the sync requests they make pending.

One statement does both, so a webhook batch costs one round trip. Keys are upserted in sorted
order so that concurrent batches lock shared rows in the same order and cannot deadlock.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from service.providers.base import ReceivedChange, SyncKey

_RECORD = text("""
WITH received AS (
    INSERT INTO notification
        (provider, owner_id, owner_type, collection_type, date, subscription_id, raw)
    SELECT provider, owner_id, owner_type, collection_type, date, subscription_id, raw::jsonb
    FROM unnest(
        CAST(:provider AS text[]), CAST(:owner_id AS text[]), CAST(:owner_type AS text[]),
        CAST(:collection_type AS text[]), CAST(:date AS date[]),
        CAST(:subscription_id AS text[]), CAST(:raw AS text[])
    ) AS item(provider, owner_id, owner_type, collection_type, date, subscription_id, raw)
)
INSERT INTO sync_request AS s (provider, owner_id, collection, date)
SELECT * FROM unnest(
    CAST(:key_provider AS text[]), CAST(:key_owner_id AS text[]),
    CAST(:key_collection AS text[]), CAST(:key_date AS date[])
) ORDER BY 1, 2, 3, 4
ON CONFLICT (provider, owner_id, collection, date) DO UPDATE SET
    generation = s.generation + 1,
    status = 'pending',
    attempts = CASE WHEN s.status = 'pending' THEN s.attempts ELSE 0 END,
    pending_since = CASE WHEN s.status = 'pending' THEN LEAST(s.pending_since, now())
                         ELSE now() END
RETURNING provider, owner_id, collection, date, pending_since = now() AS became_pending
""")


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
    result = await conn.execute(_RECORD, {**_item_columns(changes), **_key_columns(keys)})
    return [
        SyncKey(row.provider, row.owner_id, row.collection, row.date)
        for row in result
        if row.became_pending
    ]


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
