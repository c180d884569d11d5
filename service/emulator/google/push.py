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

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

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
from service.emulator.outbox import Outbox

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


class Pusher(Outbox[Pending, GoogleDelivery]):
    def __init__(
        self,
        config: Callable[[], GoogleConfig],
        clock: Clock,
        counters: GoogleCounters,
        keys: Callable[[], Keyring],
        subscribers: Callable[[], Subscribers],
    ) -> None:
        super().__init__(clock, counters)
        self._config = config
        self._counters: GoogleCounters = counters
        self._keys = keys
        self._subscribers = subscribers

    def enqueue(self, subscriber_id: str, items: list[JSONObject]) -> None:
        now = self._clock.now()
        self.pending.extend(Pending(subscriber_id, item, now, now) for item in items)
        if items:
            self._flush_later(self._config().batch_window_ms)

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
            status, error = await self._send(
                subscriber.endpoint_uri, body, headers, config.notification_timeout_seconds
            )
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
        self._record(delivery, len(batch), status, error)
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
        status, error = await self._send(url, body, headers, config.notification_timeout_seconds)
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
