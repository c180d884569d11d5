"""Re-enqueue sync requests that stayed pending too long.

A crash between the webhook's commit and its enqueue, a Redis outage, or a lost job leaves a
row pending with no job; this cron finds it. Job ids are derived from the key, so a key whose
job is still queued is not queued twice.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from service import queue
from service.store import sync_requests
from service.sync.context import WorkerDeps

log = logging.getLogger(__name__)

SWEEP_BATCH = 1000


async def sweep(ctx: dict[str, Any]) -> int:
    deps = WorkerDeps.of(ctx)
    older_than = dt.timedelta(seconds=deps.settings.sweep_pending_after_seconds)
    async with deps.engine.connect() as conn:
        keys = await sync_requests.stale_pending(conn, older_than=older_than, limit=SWEEP_BATCH)
    queued = await queue.enqueue_syncs(deps.redis, keys)
    if queued:
        log.info("sweeper re-enqueued %d of %d stale pending sync requests", queued, len(keys))
    return queued
