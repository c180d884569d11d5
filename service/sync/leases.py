"""Taking over the jobs of a worker that died, in seconds rather than `JOB_TIMEOUT` + 10 s.

arq marks a running job with an in-progress key that lives `JOB_TIMEOUT` + 10 s, and no other
worker takes the job while it exists: a SIGKILLed or vanished worker's jobs wait that long. So
every worker also holds a short lease per running job, renewed every second while the job
runs, and every worker looks every second for due jobs that are marked in progress, have no
lease, and were marked long enough ago that their lease must exist: their worker is gone, and
the mark is removed so the next worker to poll runs the job again.

A worker that is alive but blocked past the lease (a frozen event loop) loses its jobs the
same way; running one sync twice is safe (`service.store.sync_state.mark_synced` orders them).
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from arq.connections import ArqRedis
from arq.constants import in_progress_key_prefix
from redis.exceptions import RedisError

from service import queue
from service.sync.periodic import Periodic

log = logging.getLogger(__name__)

LEASE_PREFIX = "fitbit_subscriber:lease:"
CONTEXT_KEY = "leases"  # where the worker keeps its `Leases` in arq's ctx
LEASE_SECONDS = 5.0
RENEW_SECONDS = 1.0
# Due jobs looked at per round, oldest first.
SCAN_LIMIT = 500

# KEYS[1] the queue; ARGV: now (ms), in-progress prefix, lease prefix, the in-progress key's
# full life (ms), how long after its mark a job must hold a lease (ms), scan limit.
_REAP = """
local ids = redis.call('zrangebyscore', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, ARGV[6])
local life, grace = tonumber(ARGV[4]), tonumber(ARGV[5])
local reaped = {}
for _, id in ipairs(ids) do
  local mark = ARGV[2] .. id
  local left = redis.call('pttl', mark)
  if left > 0 and life - left > grace and redis.call('exists', ARGV[3] .. id) == 0 then
    redis.call('del', mark)
    reaped[#reaped + 1] = id
  end
end
return reaped
"""


@dataclass(slots=True)
class Leases:
    """This worker's leases, and the loop that renews them and reaps the dead's jobs."""

    redis: ArqRedis
    in_progress_ms: int  # arq's in-progress life: JOB_TIMEOUT + 10 s
    held: set[str] = field(default_factory=set)
    loop: Periodic | None = None

    def start(self) -> None:
        self.loop = Periodic("job-leases", RENEW_SECONDS, self.renew_and_reap)

    async def stop(self) -> None:
        if self.loop is not None:
            await self.loop.stop()

    @contextlib.asynccontextmanager
    async def holding(self, job_id: str) -> AsyncIterator[None]:
        """Hold the job's lease while it runs (best effort: without Redis it cannot run)."""
        self.held.add(job_id)
        with contextlib.suppress(RedisError, OSError):
            await self.redis.psetex(LEASE_PREFIX + job_id, int(LEASE_SECONDS * 1000), b"1")
        try:
            yield
        finally:
            self.held.discard(job_id)
            with contextlib.suppress(RedisError, OSError):
                await self.redis.delete(LEASE_PREFIX + job_id)

    async def renew_and_reap(self) -> list[str]:
        """One round: renew what this worker holds; return the dead workers' jobs released."""
        async with self.redis.pipeline(transaction=False) as pipe:
            for job_id in self.held:
                pipe.psetex(LEASE_PREFIX + job_id, int(LEASE_SECONDS * 1000), b"1")
            await pipe.execute()
        now_ms = int(time.time() * 1000)
        grace_ms = int((LEASE_SECONDS + RENEW_SECONDS) * 1000)
        args: list[str | int] = [now_ms, in_progress_key_prefix, LEASE_PREFIX]
        args += [self.in_progress_ms, grace_ms, SCAN_LIMIT]
        script = self.redis.register_script(_REAP)
        reaped = await script(keys=[queue.QUEUE_NAME], args=args)
        released = [r.decode() if isinstance(r, bytes) else str(r) for r in reaped or []]
        for job_id in released:
            log.warning("job %s lost its worker; released to run again", job_id)
        return released


@contextlib.asynccontextmanager
async def held(ctx: dict[str, object]) -> AsyncIterator[None]:
    """Hold the lease of the job `ctx` describes, in a worker that keeps leases."""
    mine, job_id = ctx.get(CONTEXT_KEY), ctx.get("job_id")
    if not isinstance(mine, Leases) or not isinstance(job_id, str):
        yield
        return
    async with mine.holding(job_id):
        yield
