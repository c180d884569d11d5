"""Putting sync work on the arq queue: the one place outside `sync/` that knows arq.

Both the API (after a webhook commit) and the worker (sweeper, re-runs) enqueue through here.
The job id is derived from the sync key, so a key has at most one job queued or running;
jobs are stored with `keep_result=0` by the worker, or a finished job's kept result would make
`enqueue_job` refuse the key's next change for an hour.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable

from arq.connections import ArqRedis, RedisSettings
from arq.constants import (
    expires_extra_ms,
    in_progress_key_prefix,
    job_key_prefix,
    result_key_prefix,
)
from arq.jobs import serialize_job
from redis.asyncio import ConnectionPool
from redis.exceptions import RedisError

from service.providers.base import SyncKey

log = logging.getLogger(__name__)

QUEUE_NAME = "fitbit_subscriber:queue"
SYNC_FUNCTION = "sync"
# The sync task's `priority` argument for history (`service.sync.budget.Priority.BACKFILL`).
BACKFILL_PRIORITY = "backfill"


class QueueUnavailable(ConnectionError):
    """Redis could not be reached; the sync requests stay pending for the sweeper."""


def redis_settings(url: str) -> RedisSettings:
    settings = RedisSettings.from_dsn(url)
    settings.conn_timeout = 2
    return settings


def connect(url: str) -> ArqRedis:
    """A client that connects lazily, so a process starts (and reports not ready) without Redis."""
    pool = ConnectionPool.from_url(url, socket_connect_timeout=1, socket_timeout=2)
    return ArqRedis(pool, default_queue_name=QUEUE_NAME)


# Queue many jobs in one round trip, exactly as arq's `enqueue_job` would one by one: a job is
# added only when neither its job key nor a kept result exists (so a key queued or running is
# left alone). Per-key `enqueue_job` costs a WATCH/MULTI exchange each, which dominated the
# webhook's cost when every request carried new keys. With `advance` (ARGV[6] = 1), a job that
# waits in the queue (not running) for a later time than this one is replaced by it: a live
# change to a day whose backfill job is due in hours runs now.
_ENQUEUE_MANY = """
local queued = 0
local now, extra = tonumber(ARGV[3]), tonumber(ARGV[4])
local advance = ARGV[6] == '1'
for i = 7, #ARGV, 3 do
  local id = ARGV[i]
  local job_key = ARGV[1] .. id
  local score = tonumber(ARGV[i + 1])
  local add = redis.call('exists', job_key, ARGV[2] .. id) == 0
  if not add and advance and redis.call('exists', ARGV[5] .. id) == 0 then
    local waiting = redis.call('zscore', KEYS[1], id)
    add = waiting ~= false and tonumber(waiting) > score
  end
  if add then
    redis.call('psetex', job_key, score - now + extra, ARGV[i + 2])
    redis.call('zadd', KEYS[1], score, id)
    queued = queued + 1
  end
end
return queued
"""


async def enqueue_sync(redis: ArqRedis, key: SyncKey, *, defer_seconds: float = 0) -> bool:
    """Queue the sync of `key`; False when a job for it is already queued or running."""
    return await enqueue_syncs(redis, [key], defer_seconds=defer_seconds) == 1


async def enqueue_syncs(
    redis: ArqRedis, keys: Iterable[SyncKey], *, defer_seconds: float = 0, advance: bool = False
) -> int:
    """Queue every key not already queued or running; return how many were queued.

    `advance`: also bring forward a key's job that waits for a later time (a backfill's)."""
    return await _enqueue(redis, ((key, defer_seconds) for key in keys), (), advance=advance)


async def enqueue_backfill(redis: ArqRedis, schedule: Iterable[tuple[SyncKey, float]]) -> int:
    """Queue (key, seconds from now) pairs as backfill work: the job spends only above the
    rate budget's reserve, and runs when its time comes (arq takes due jobs oldest first, so
    a backfill queued for later never stands before live work queued now)."""
    return await _enqueue(redis, schedule, (BACKFILL_PRIORITY,))


async def _enqueue(
    redis: ArqRedis,
    schedule: Iterable[tuple[SyncKey, float]],
    extra: tuple[str, ...],
    *,
    advance: bool = False,
) -> int:
    now_ms = int(time.time() * 1000)
    argv: list[str | bytes | int] = [job_key_prefix, result_key_prefix, now_ms, expires_extra_ms]
    argv += [in_progress_key_prefix, int(advance)]
    for key, defer_seconds in schedule:
        args = (key.provider, key.owner_id, key.collection, key.date.isoformat(), *extra)
        payload = serialize_job(SYNC_FUNCTION, args, {}, None, now_ms)
        argv += [key.job_id(), now_ms + int(max(defer_seconds, 0) * 1000), payload]
    if len(argv) == 6:
        return 0
    try:
        script = redis.register_script(_ENQUEUE_MANY)
        return int(await script(keys=[QUEUE_NAME], args=argv))
    except (RedisError, OSError) as exc:
        raise QueueUnavailable(str(exc)) from exc
