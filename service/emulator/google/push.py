"""Google's side of the webhook protocol: the verification handshake and signed pushes.

Verification (FACTS §3.5): two POSTs of `{"type": "verification"}`, one with the subscriber's
`Authorization` secret (expects 201, or 200 as the guide allows) and one without it (expects
401 or 403). Notifications (§3.6, §4): `POST <endpoint>` with `Authorization` = the secret and
the signature header over the exact body bytes; the body is one `{"data": {...}}` object, or
a JSON array of them when batching is configured. Only 204 counts as delivered: anything else,
or no answer, is kept and retried with exponential backoff for up to 7 days (on the emulated
clock, at the next flush after it is due), as Google retries.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import httpx

from service.emulator.clock import Clock
from service.emulator.google.config import GoogleConfig
from service.emulator.google.counters import GoogleCounters
from service.emulator.google.keyset import Keyring
from service.emulator.google.models import (
    Check,
    GoogleDelivery,
    JSONObject,
    PendingView,
    Verification,
)
from service.emulator.google.subscribers import Subscriber, Subscribers

KEPT_DELIVERIES = 1000
USER_AGENT = "Google-Health-API-Webhooks"
VERIFIER_AGENT = "Google-Health-API-Webhooks-Verifier"
FIRST_RETRY = timedelta(seconds=30)
LAST_RETRY = timedelta(hours=1)
GIVE_UP = timedelta(days=7)


@dataclass
class Pending:
    subscriber_id: str
    item: JSONObject
    first_at: datetime
    due: datetime
    attempts: int = 0


class Pusher:
    def __init__(
        self,
        config: Callable[[], GoogleConfig],
        clock: Clock,
        counters: GoogleCounters,
        keys: Callable[[], Keyring],
        subscribers: Callable[[], Subscribers],
    ) -> None:
        self._config = config
        self._clock = clock
        self._counters = counters
        self._keys = keys
        self._subscribers = subscribers
        self.pending: list[Pending] = []
        self.deliveries: deque[GoogleDelivery] = deque(maxlen=KEPT_DELIVERIES)
        self._lock = asyncio.Lock()
        self._timer: asyncio.Task[list[GoogleDelivery]] | None = None
        self._client: httpx.AsyncClient | None = None

    @property
    def client(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = httpx.AsyncClient()
        return self._client

    def enqueue(self, subscriber_id: str, items: list[JSONObject]) -> None:
        now = self._clock.now()
        self.pending.extend(Pending(subscriber_id, item, now, now) for item in items)
        window = self._config().batch_window_ms
        if items and window is not None and self._timer is None:
            self._timer = asyncio.get_running_loop().create_task(self._flush_after(window / 1000))

    async def _flush_after(self, delay: float) -> list[GoogleDelivery]:
        await asyncio.sleep(delay)
        self._timer = None
        return await self.flush()

    async def flush(self) -> list[GoogleDelivery]:
        """POST everything due now, per subscriber, batched as configured."""
        async with self._lock:
            now = self._clock.now()
            due = [p for p in self.pending if p.due <= now]
            self.pending = [p for p in self.pending if p.due > now]
            sent = []
            for subscriber_id in dict.fromkeys(p.subscriber_id for p in due):
                mine = [p for p in due if p.subscriber_id == subscriber_id]
                for batch in self._batches(mine):
                    sent.append(await self._post(subscriber_id, batch))
            return sent

    def _batches(self, items: list[Pending]) -> list[list[Pending]]:
        config = self._config()
        size = config.batch_max_items if config.batching == "array" else 1
        return [items[i : i + size] for i in range(0, len(items), size)]

    async def _post(self, subscriber_id: str, batch: list[Pending]) -> GoogleDelivery:
        config = self._config()
        subscriber = self._subscribers().get(subscriber_id)
        items = [p.item for p in batch]
        payload: object = items if config.batching == "array" else items[0]
        body = json.dumps(payload).encode()
        key = self._keys().primary
        at, started = self._clock.now(), time.perf_counter()
        status: int | None
        error: str | None
        if subscriber is None:
            status, error = None, "subscriber deleted"
        else:
            headers = {
                "Content-Type": "application/json",
                "Authorization": subscriber.secret,
                config.signature_header: key.header(body),
                "User-Agent": USER_AGENT,
            }
            status, error = await self._send(subscriber.endpoint_uri, body, headers, config)
        delivery = GoogleDelivery(
            at=at,
            subscriber=subscriber.name if subscriber else subscriber_id,
            url=subscriber.endpoint_uri if subscriber else "",
            items=items,
            body=body.decode(),
            key_id=key.key_id,
            attempt=max(p.attempts for p in batch) + 1,
            status=status,
            error=error,
            elapsed_ms=round((time.perf_counter() - started) * 1000, 3),
        )
        self.deliveries.append(delivery)
        outcome = str(status) if status is not None else (error or "error").split(":")[0]
        self._counters.delivered(len(batch), outcome)
        if status != 204 and subscriber is not None and config.retry_failed:
            self._retry(batch, at)
        return delivery

    def _retry(self, batch: list[Pending], now: datetime) -> None:
        for pending in batch:
            pending.attempts += 1
            wait = min(FIRST_RETRY * 2 ** (pending.attempts - 1), LAST_RETRY)
            if now + wait - pending.first_at <= GIVE_UP:
                pending.due = now + wait
                self.pending.append(pending)

    async def _send(
        self, url: str, body: bytes, headers: dict[str, str], config: GoogleConfig
    ) -> tuple[int | None, str | None]:
        try:
            response = await self.client.post(
                url, content=body, headers=headers, timeout=config.notification_timeout_seconds
            )
        except httpx.TimeoutException:
            return None, "timeout"
        except httpx.HTTPError as exc:
            return None, f"{type(exc).__name__}: {exc}"
        return response.status_code, None

    async def verify(self, url: str, secret: str) -> Verification:
        """The two verification POSTs; both must answer as expected."""
        authorized = await self._check(url, secret, [201, 200])
        unauthorized = await self._check(url, None, [401, 403])
        self._counters.verifications[
            "passed" if authorized.ok and unauthorized.ok else "failed"
        ] += 1
        return Verification(
            url=url,
            verified=authorized.ok and unauthorized.ok,
            authorized=authorized,
            unauthorized=unauthorized,
        )

    async def _check(self, url: str, secret: str | None, expected: list[int]) -> Check:
        config = self._config()
        body = json.dumps({"type": "verification"}).encode()
        headers = {
            "Content-Type": "application/json",
            "User-Agent": VERIFIER_AGENT,
            config.signature_header: self._keys().primary.header(body),
        }
        if secret is not None:
            headers["Authorization"] = secret
        status, error = await self._send(url, body, headers, config)
        return Check(
            authorization=secret is not None,
            expected=expected,
            status=status,
            error=error,
            ok=status in expected,
        )

    def pending_view(self) -> list[PendingView]:
        return [
            PendingView(subscriber=p.subscriber_id, item=p.item, attempts=p.attempts, due=p.due)
            for p in self.pending
        ]

    def drop(self, subscriber: Subscriber) -> None:
        self.pending = [p for p in self.pending if p.subscriber_id != subscriber.subscriber_id]

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
