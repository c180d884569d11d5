"""Fitbit's side of delivery, which the emulator leaves out: retries, and replays.

Fitbit retries a notification POST that was not answered with a 2xx, for a while, and delivers
at least once, so the same POST can arrive again. The emulator records a failed push and moves
on, so the fault suite points the emulator at this relay instead of at our webhook: it takes
each POST at once (the emulator's delivery is then never the bottleneck), and delivers it to
our webhook `copies` times, byte for byte with the emulator's signature, retrying each copy
with exponential backoff until it is answered 2xx or `give_up_seconds` have passed.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from service.emulator.testing import serve_app

# Fitbit's signature; Google Health's signature and subscriber secret.
FORWARDED = ("content-type", "x-fitbit-signature", "x-healthapi-signature", "authorization")
FIRST_RETRY_SECONDS = 0.5
MAX_RETRY_SECONDS = 4.0
# Fitbit gives a subscriber 5 seconds to answer.
ANSWER_TIMEOUT_SECONDS = 5.0


@dataclass
class Stats:
    """What the relay did; read by the runner's thread while the relay's thread writes."""

    posts: int = 0
    items: int = 0
    attempts: int = 0
    retries: int = 0
    gave_up: int = 0
    in_flight: int = 0
    answers: Counter[str] = field(default_factory=Counter)
    last_failure_at: float | None = None  # monotonic

    def view(self) -> dict[str, object]:
        return {
            "posts": self.posts,
            "items": self.items,
            "attempts": self.attempts,
            "retries": self.retries,
            "gave_up": self.gave_up,
            "answers": dict(self.answers),
        }


class Relay:
    def __init__(
        self, webhook: str, *, copies: int = 1, give_up_seconds: float = 120.0, seed: int = 8
    ) -> None:
        self.webhook = webhook
        self.copies = copies
        self.give_up_seconds = give_up_seconds
        self.stats = Stats()
        self._random = random.Random(seed)  # replay timing, not a secret
        self._tasks: set[asyncio.Task[None]] = set()
        self._http: httpx.AsyncClient | None = None

    def app(self) -> Starlette:
        return Starlette(routes=[Route("/", self._receive, methods=["POST"])], lifespan=self._life)

    @asynccontextmanager
    async def _life(self, app: Starlette) -> AsyncIterator[None]:
        yield
        for task in self._tasks:
            task.cancel()
        if self._http is not None:
            await self._http.aclose()

    async def _receive(self, request: Request) -> Response:
        body = await request.body()
        headers = {name: request.headers[name] for name in FORWARDED if name in request.headers}
        self.stats.posts += 1
        self.stats.items += body.count(b'"ownerId"') + body.count(b'"healthUserId"')
        for copy in range(self.copies):
            # The first copies at once, so they race each other on the same keys; the last
            # one a moment later, when the first may already have been synced.
            delay = 0.0 if copy < 2 else self._random.uniform(0.1, 2.0)
            self.stats.in_flight += 1
            task = asyncio.create_task(self._deliver(body, headers, delay))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        return Response(status_code=204)

    async def _deliver(self, body: bytes, headers: dict[str, str], delay: float) -> None:
        try:
            await asyncio.sleep(delay)
            deadline = time.monotonic() + self.give_up_seconds
            wait = FIRST_RETRY_SECONDS
            while True:
                if await self._post(body, headers):
                    return
                self.stats.last_failure_at = time.monotonic()
                if time.monotonic() + wait > deadline:
                    self.stats.gave_up += 1
                    return
                self.stats.retries += 1
                await asyncio.sleep(wait * (0.5 + self._random.random() / 2))
                wait = min(wait * 2, MAX_RETRY_SECONDS)
        finally:
            self.stats.in_flight -= 1

    async def _post(self, body: bytes, headers: dict[str, str]) -> bool:
        if self._http is None:
            self._http = httpx.AsyncClient(timeout=ANSWER_TIMEOUT_SECONDS)
        self.stats.attempts += 1
        try:
            answer = await self._http.post(self.webhook, content=body, headers=headers)
        except httpx.TimeoutException:
            self.stats.answers["timeout"] += 1
            return False
        except httpx.HTTPError as exc:
            self.stats.answers[type(exc).__name__] += 1
            return False
        self.stats.answers[str(answer.status_code)] += 1
        return answer.is_success


@contextmanager
def relaying(webhook: str, *, copies: int = 1) -> Iterator[tuple[str, Relay]]:
    """A relay to `webhook` on a free loopback port (a thread of its own); its URL and it."""
    relay = Relay(webhook, copies=copies)
    with serve_app(relay.app()) as url:
        yield f"{url}/", relay
