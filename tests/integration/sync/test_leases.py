"""Job leases against a real Redis: a dead worker's job is released, a live one's never."""

from __future__ import annotations

import time

from arq.connections import ArqRedis
from arq.constants import in_progress_key_prefix
from redis.asyncio import Redis

from service import queue
from service.sync.leases import LEASE_PREFIX, Leases

LIFE_MS = 70_000  # arq's in-progress mark: job_timeout 60 s + 10 s


async def _running(redis: Redis, job_id: str, *, started_seconds_ago: float) -> None:
    """A due job that arq marked in progress that long ago."""
    await redis.zadd(queue.QUEUE_NAME, {job_id: int(time.time() * 1000) - 60_000})
    left = LIFE_MS - int(started_seconds_ago * 1000)
    await redis.psetex(in_progress_key_prefix + job_id, left, b"1")


async def test_only_a_job_without_a_lease_marked_long_enough_ago_is_released(
    redis: Redis,
) -> None:
    arq = ArqRedis(connection_pool=redis.connection_pool)
    alive, another_alive = Leases(arq, LIFE_MS), Leases(arq, LIFE_MS)
    await _running(redis, "sync:dead", started_seconds_ago=30)
    await _running(redis, "sync:alive", started_seconds_ago=30)
    await _running(redis, "sync:starting", started_seconds_ago=1)  # its lease may not exist yet
    async with alive.holding("sync:alive"):
        await redis.delete(LEASE_PREFIX + "sync:alive")  # lapsed; the next round renews it
        assert await alive.renew_and_reap() == ["sync:dead"]
        assert await another_alive.renew_and_reap() == []

    assert not await redis.exists(in_progress_key_prefix + "sync:dead")
    assert await redis.exists(in_progress_key_prefix + "sync:alive")
    assert await redis.exists(in_progress_key_prefix + "sync:starting")
    assert not await redis.exists(LEASE_PREFIX + "sync:alive")  # dropped when the job ended
    assert await redis.zcard(queue.QUEUE_NAME) == 3  # arq runs the released job again
