"""Fitbit's side of the subscriber protocol: the verification handshake and signed pushes.

Verification: `GET <subscriber>?verify=<code>` with the right code (the subscriber answers
204) and with a wrong one (404). Notifications: `POST <subscriber>` with a JSON array of
`{collectionType, date, ownerId, ownerType, subscriptionId}`, `Content-Type:
application/json` and `X-Fitbit-Signature` over the exact body bytes. Items wait up to
`batch_window_ms` to share one POST, as Fitbit batches; with no window they wait for
`flush()`, which is what makes tests deterministic. Every change is its own item, so a
burst of changes to one day arrives as duplicates, as it can from Fitbit. A failed delivery is
recorded and counted, never retried: from the subscriber's side, that is a gap.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import time
from collections import deque
from collections.abc import Callable

import httpx

from service.emulator.clock import Clock
from service.emulator.config import EmulatorConfig
from service.emulator.counters import Counters
from service.emulator.models import Check, Delivery, Notification, VerificationResult
from service.emulator.signature import sign

KEPT_DELIVERIES = 1000


class Pusher:
    def __init__(self, config: Callable[[], EmulatorConfig], clock: Clock, counters: Counters):
        self._config = config
        self._clock = clock
        self._counters = counters
        self.pending: list[Notification] = []
        self.deliveries: deque[Delivery] = deque(maxlen=KEPT_DELIVERIES)
        self._lock = asyncio.Lock()
        self._timer: asyncio.Task[list[Delivery]] | None = None
        self._client: httpx.AsyncClient | None = None

    @property
    def client(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = httpx.AsyncClient()
        return self._client

    def enqueue(self, items: list[Notification]) -> None:
        self.pending.extend(items)
        window = self._config().batch_window_ms
        if items and window is not None and self._timer is None:
            self._timer = asyncio.get_running_loop().create_task(self._flush_after(window / 1000))

    async def _flush_after(self, delay: float) -> list[Delivery]:
        await asyncio.sleep(delay)
        self._timer = None
        return await self.flush()

    async def flush(self) -> list[Delivery]:
        """POST everything pending now, in batches of at most `batch_max_items`."""
        async with self._lock:
            sent = []
            size = self._config().batch_max_items
            while self.pending:
                batch, self.pending = self.pending[:size], self.pending[size:]
                sent.append(await self._post(batch))
            return sent

    async def _post(self, batch: list[Notification]) -> Delivery:
        config = self._config()
        body = json.dumps(batch, separators=(",", ":")).encode()
        headers = {
            "Content-Type": "application/json",
            "X-Fitbit-Signature": sign(body, config.client_secret),
        }
        at, started = self._clock.now(), time.perf_counter()
        status, error = await self._send(config, body, headers)
        elapsed = round((time.perf_counter() - started) * 1000, 3)
        delivery = Delivery(
            at=at,
            url=config.subscriber_url,
            notifications=batch,
            status=status,
            error=error,
            elapsed_ms=elapsed,
        )
        self.deliveries.append(delivery)
        # Counted by status code, or by the kind of failure ("timeout", "ConnectError").
        outcome = str(status) if status is not None else (error or "error").split(":")[0]
        self._counters.delivered(len(batch), outcome)
        return delivery

    async def _send(
        self, config: EmulatorConfig, body: bytes, headers: dict[str, str]
    ) -> tuple[int | None, str | None]:
        try:
            response = await self.client.post(
                config.subscriber_url,
                content=body,
                headers=headers,
                timeout=config.notification_timeout_seconds,
            )
        except httpx.TimeoutException:
            return None, "timeout"
        except httpx.HTTPError as exc:
            return None, f"{type(exc).__name__}: {exc}"
        return response.status_code, None

    async def verify(self) -> VerificationResult:
        config = self._config()
        wrong_code = secrets.token_hex(16)
        right = await self._check(config, config.verification_code, 204)
        wrong = await self._check(config, wrong_code, 404)
        return VerificationResult(
            url=config.subscriber_url, verified=right.ok and wrong.ok, right=right, wrong=wrong
        )

    async def _check(self, config: EmulatorConfig, code: str, expected: int) -> Check:
        try:
            response = await self.client.get(
                config.subscriber_url,
                params={"verify": code},
                timeout=config.notification_timeout_seconds,
            )
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__}: {exc}"
            return Check(code=code, expected=expected, status=None, error=error, ok=False)
        status = response.status_code
        return Check(code=code, expected=expected, status=status, ok=status == expected)

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
