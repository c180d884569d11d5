"""The service on a real loopback port, fed seeded rows, and a token holding every scope.

Schemathesis and Hypothesis drive synchronous test functions, so the service here runs under
uvicorn in a thread of its own, with its own event loop, rather than in the suite's loop.
"""

from __future__ import annotations

import datetime as dt
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import httpx
import pytest
import uvicorn
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.types import ASGIApp

from service import embedded
from service.api import clients, scopes
from service.app import create_app
from service.request_id import RequestId
from service.settings import Settings
from service.store.models import SyncStatus
from tests.integration.api import rows

STARTUP_TIMEOUT = 10.0

# Examples per API operation: a dozen keep the normal suite near a minute; `make fuzz`
# (FUZZ_EXAMPLES=500 unless given) searches longer, the property tests with it.
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "12"))


def at_least(examples: int) -> int:
    """A property test's examples: its own number, or more when fuzzing longer."""
    return max(examples, EXAMPLES)


@contextmanager
def serving_in_thread(app: ASGIApp) -> Iterator[str]:
    """Run `app` under uvicorn on a free loopback port, in a thread; yield its URL."""
    port = embedded.free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="fuzzed-service", daemon=True)
    thread.start()
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join()


@dataclass(frozen=True)
class Served:
    url: str
    token: str  # a Bearer access token with every scope


async def seed(engine: AsyncEngine) -> None:
    """A few rows of every kind, so listings and lookups answer with real documents, nulls
    included, and not only with empty collections and 404s."""
    await rows.user(engine, "228TQ4", user_ref="person-1")
    await rows.user(engine, "3XYZ99")
    await rows.subscriptions(engine, "228TQ4", ["activities", "sleep"])
    await rows.notifications(
        engine,
        [
            rows.notification(),
            rows.notification("3XYZ99", date=None, collection_type="sleep"),
            rows.notification("UNKNWN", received_at=rows.T0 + dt.timedelta(seconds=1)),
        ],
    )
    await rows.sync_request(engine)
    await rows.sync_request(
        engine,
        "3XYZ99",
        status=SyncStatus.FAILED,
        attempts=3,
        last_error="unavailable",
        pending_since=None,
        synced_generation=1,
    )


@pytest.fixture
async def seeded(db: AsyncEngine, redis: object) -> str:
    """A clean database and Redis with seeded rows; the secret of an API client with every
    scope, as `client_id:secret`."""
    await seed(db)
    async with db.begin() as conn:
        made = await clients.create(conn, "fuzzer", frozenset(scopes.SCOPES))
    return f"{made.record.client_id}:{made.secret}"


@pytest.fixture
def served(settings: Settings, seeded: str) -> Iterator[Served]:
    """The whole service as `serve` runs it (request ids included), on the seeded database."""
    client_id, _, secret = seeded.partition(":")
    with serving_in_thread(RequestId(create_app(settings))) as url:
        answer = httpx.post(
            f"{url}/oauth/token",
            data={"grant_type": "client_credentials"},
            auth=(client_id, secret),
        )
        assert answer.status_code == 200, answer.text
        yield Served(url, answer.json()["access_token"])
