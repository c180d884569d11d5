"""A worker's background loop: one action every few seconds, from startup to shutdown."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from redis.exceptions import RedisError

log = logging.getLogger(__name__)

STOP_SECONDS = 5.0


class Periodic:
    """Runs `action` every `seconds` until stopped; Redis trouble skips a round, never ends it."""

    def __init__(self, name: str, seconds: float, action: Callable[[], Awaitable[object]]) -> None:
        self._name, self._seconds, self._action = name, seconds, action
        self._stopping = asyncio.Event()
        self._task = asyncio.create_task(self._run(), name=name)

    async def stop(self) -> None:
        # The event ends the loop even if a Redis call swallows the cancellation (redis-py
        # can, mid-connect); the cancellation ends a call that is waiting.
        self._stopping.set()
        self._task.cancel()
        await asyncio.wait({self._task}, timeout=STOP_SECONDS)

    async def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                await self._action()
            except (RedisError, OSError) as exc:
                log.debug("%s skipped a round: %s", self._name, exc)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), self._seconds)
