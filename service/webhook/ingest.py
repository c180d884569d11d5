"""Provider-neutral ingest with group commit.

Fitbit disables a subscriber that misses its 5 s deadline, so a notification is only persisted
and enqueued here, never fetched. Every request of this process hands its parsed changes to one
writer task, which writes whatever has accumulated in one transaction. A storm of notifications
for one key thus costs one row update per transaction instead of a queue of waiters on that
row's lock, and each request is still answered only after its items are committed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from dataclasses import dataclass, field

from arq.connections import ArqRedis
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine

from service import metrics, queue
from service.providers.base import ReceivedChange, SyncKey
from service.store import notifications

log = logging.getLogger(__name__)

MAX_ITEMS_PER_TRANSACTION = 20_000


class IngestUnavailable(ConnectionError):
    """The changes could not be committed; the provider must deliver them again."""


@dataclass(slots=True)
class _Waiter:
    changes: list[ReceivedChange]
    done: asyncio.Future[None] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )


class Ingest:
    def __init__(
        self, engine: AsyncEngine, redis: ArqRedis, *, timeout: float, debounce: float = 0.0
    ) -> None:
        self._debounce = debounce
        # One statement records a whole batch, atomically by itself: autocommit spares each
        # batch a BEGIN and a COMMIT round trip (the commit is as durable either way).
        self._engine = engine.execution_options(isolation_level="AUTOCOMMIT")
        self._redis = redis
        self._timeout = timeout
        self._waiting: deque[_Waiter] = deque()
        self._wakeup = asyncio.Event()
        self._writer: asyncio.Task[None] | None = None
        self._releases: set[asyncio.Task[None]] = set()

    async def record(self, changes: list[ReceivedChange]) -> None:
        """Return once `changes` are committed and their newly pending keys queued."""
        started = time.perf_counter()
        if self._writer is None or self._writer.done():  # done: an unexpected error ended it
            self._writer = asyncio.create_task(self._write_forever(), name="ingest-writer")
        waiter = _Waiter(changes)
        self._waiting.append(waiter)
        self._wakeup.set()
        try:
            await asyncio.wait_for(asyncio.shield(waiter.done), self._timeout)
        except TimeoutError:
            # Nobody awaits it any more; retrieve its outcome so asyncio does not complain.
            waiter.done.add_done_callback(lambda f: f.cancelled() or f.exception())
            raise IngestUnavailable("database did not commit in time") from None
        metrics.ingested(changes, time.perf_counter() - started)

    async def close(self) -> None:
        """Finish what was handed in, then stop."""
        while self._waiting:
            await self._write_some()
        if self._releases:
            await asyncio.gather(*self._releases, return_exceptions=True)
        if self._writer is not None:
            self._writer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._writer

    async def _write_forever(self) -> None:
        while True:
            await self._wakeup.wait()
            self._wakeup.clear()
            while self._waiting:
                await self._write_some()

    async def _write_some(self) -> None:
        batch = self._take_batch()
        try:
            became_pending = await self._commit(batch)
        except (SQLAlchemyError, OSError) as exc:
            log.warning("ingest commit failed: %s", type(exc).__name__)
            for waiter in batch:
                _fail(waiter, IngestUnavailable("database unavailable"))
            return
        except BaseException as exc:
            for waiter in batch:
                _fail(waiter, IngestUnavailable(f"ingest failed: {type(exc).__name__}"))
            raise
        release = asyncio.create_task(self._enqueue_and_release(became_pending, batch))
        self._releases.add(release)
        release.add_done_callback(self._releases.discard)

    def _take_batch(self) -> list[_Waiter]:
        batch: list[_Waiter] = []
        items = 0
        while self._waiting and (
            not batch or items + len(self._waiting[0].changes) <= MAX_ITEMS_PER_TRANSACTION
        ):
            waiter = self._waiting.popleft()
            batch.append(waiter)
            items += len(waiter.changes)
        return batch

    async def _commit(self, batch: list[_Waiter]) -> list[SyncKey]:
        changes = [change for waiter in batch for change in waiter.changes]
        async with self._engine.connect() as conn:
            return await notifications.record(conn, changes)

    async def _enqueue_and_release(self, keys: list[SyncKey], batch: list[_Waiter]) -> None:
        try:
            # `advance`: a key that became pending again here may have a backfill's job due
            # in hours; this change must not wait for it.
            await queue.enqueue_syncs(self._redis, keys, defer_seconds=self._debounce, advance=True)
        except queue.QueueUnavailable as exc:
            # Committed rows are pending; the sweeper enqueues them once Redis is back.
            log.warning("enqueue after commit failed, left to the sweeper: %s", exc)
        for waiter in batch:
            if not waiter.done.done():
                waiter.done.set_result(None)


def _fail(waiter: _Waiter, exc: Exception) -> None:
    if not waiter.done.done():
        waiter.done.set_exception(exc)
