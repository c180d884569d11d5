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

import json
import secrets
import time
from collections.abc import Callable

import httpx

from service.emulator.clock import Clock
from service.emulator.config import EmulatorConfig
from service.emulator.counters import Counters
from service.emulator.models import Check, Delivery, Notification, VerificationResult
from service.emulator.outbox import Outbox
from service.emulator.signature import sign


class Pusher(Outbox[Notification, Delivery]):
    def __init__(self, config: Callable[[], EmulatorConfig], clock: Clock, counters: Counters):
        super().__init__(clock, counters)
        self._config = config

    def enqueue(self, items: list[Notification]) -> None:
        self.pending.extend(items)
        if items:
            self._flush_later(self._config().batch_window_ms)

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
        status, error = await self._send(
            config.subscriber_url, body, headers, config.notification_timeout_seconds
        )
        elapsed = round((time.perf_counter() - started) * 1000, 3)
        delivery = Delivery(
            at=at,
            url=config.subscriber_url,
            notifications=batch,
            status=status,
            error=error,
            elapsed_ms=elapsed,
        )
        self._record(delivery, len(batch), status, error)
        return delivery

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
