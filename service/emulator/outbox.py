"""What both providers' pushers share: one HTTP client, the batching window's timer, a POST
that answers a status or the reason there was none, and the kept record of deliveries.

A subclass owns what differs: what a pending item is, how items are batched and signed,
and what a failed delivery leads to (Fitbit forgets it, Google retries it).
"""

from __future__ import annotations

import asyncio
from abc import ABC, abstractmethod
from collections import deque
from typing import Generic, TypeVar

import httpx

from service.emulator.clock import Clock
from service.emulator.counters import Counters

KEPT_DELIVERIES = 1000

Item = TypeVar("Item")
Sent = TypeVar("Sent")


class Outbox(ABC, Generic[Item, Sent]):
    def __init__(self, clock: Clock, counters: Counters) -> None:
        self._clock = clock
        self._counters = counters
        self.pending: list[Item] = []
        self.deliveries: deque[Sent] = deque(maxlen=KEPT_DELIVERIES)
        self._lock = asyncio.Lock()
        self._timer: asyncio.Task[list[Sent]] | None = None
        self._client: httpx.AsyncClient | None = None

    @property
    def client(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = httpx.AsyncClient()
        return self._client

    @abstractmethod
    async def flush(self) -> list[Sent]:
        """POST what is pending now; the deliveries made."""

    def _flush_later(self, window_ms: int | None) -> None:
        """Flush `window_ms` after the first of a batch arrives; with no window, wait for
        `flush()`, which is what makes tests deterministic."""
        if window_ms is not None and self._timer is None:
            flush = self._flush_after(window_ms / 1000)
            self._timer = asyncio.get_running_loop().create_task(flush)

    async def _flush_after(self, delay: float) -> list[Sent]:
        await asyncio.sleep(delay)
        self._timer = None
        return await self.flush()

    async def _send(
        self, url: str, body: bytes, headers: dict[str, str], timeout_seconds: float
    ) -> tuple[int | None, str | None]:
        """The answer's status code, or None and why there was none."""
        try:
            response = await self.client.post(
                url, content=body, headers=headers, timeout=timeout_seconds
            )
        except httpx.TimeoutException:
            return None, "timeout"
        except httpx.HTTPError as exc:
            return None, f"{type(exc).__name__}: {exc}"
        return response.status_code, None

    def _record(self, delivery: Sent, items: int, status: int | None, error: str | None) -> None:
        self.deliveries.append(delivery)
        # Counted by status code, or by the kind of failure ("timeout", "ConnectError").
        outcome = str(status) if status is not None else (error or "error").split(":")[0]
        self._counters.delivered(items, outcome)

    def clear(self) -> None:
        self.pending.clear()
        self.deliveries.clear()
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    async def aclose(self) -> None:
        self.clear()
        if self._client is not None:
            await self._client.aclose()
            self._client = None
