"""The service with Fitbit and Google Health enabled, pointed at the emulator for both."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine

from service.app import create_app
from service.connect.flow import Connector
from service.emulator.google.config import GoogleConfig
from service.emulator.google.datatypes import DATA_TYPES
from service.emulator.testing import EmulatorControl
from service.providers.google_health.client import GoogleHealthClient
from service.providers.google_health.datatypes import SYNCED_TYPES
from service.providers.google_health.subscriptions import Policy, Subscriber, SubscriberApi
from service.settings import Settings
from service.store.db import session_factory
from service.sync.worker import create_worker
from tests.integration.conftest import serving

GOOGLE = GoogleConfig()  # the emulator's defaults: the service is configured to match
REDIRECT_URI = "http://127.0.0.1:9/google-health/callback"
SUBSCRIBER = "our-endpoint"
WORKER_PATIENCE = 20.0


@pytest.fixture
def google_settings(connect_settings: Settings, emulator_url: str) -> Settings:
    return Settings(
        **{
            **connect_settings.model_dump(),
            "enabled_providers": "fitbit,google_health",
            "google_health_client_id": GOOGLE.client_id,
            "google_health_client_secret": GOOGLE.client_secret,
            "google_health_redirect_uri": REDIRECT_URI,
            "google_health_webhook_secret": GOOGLE.webhook_secret,
            "google_health_api_url": emulator_url,
            "google_health_authorize_url": f"{emulator_url}/o/oauth2/v2/auth",
            "google_health_token_url": f"{emulator_url}/token",
            "google_health_revoke_url": f"{emulator_url}/revoke",
            "google_health_keyset_url": f"{emulator_url}{GOOGLE.keyset_path}",
            "google_health_project_number": GOOGLE.project_number,
            # A test rotates keys seconds apart; production waits a minute between refetches.
            "google_health_keyset_refetch_seconds": 0,
        }
    )


@dataclass
class GoogleStack:
    service: httpx.AsyncClient
    url: str
    connector: Connector
    emulator: EmulatorControl
    engine: AsyncEngine
    settings: Settings
    subscribers: SubscriberApi

    async def create_subscriber(self, secret: str = GOOGLE.webhook_secret) -> Subscriber:
        """What an operator does once: register our endpoint, which Google verifies."""
        return await self.subscribers.create_subscriber(
            GOOGLE.cloud_token,
            SUBSCRIBER,
            endpoint_uri=f"{self.url}/google-health/webhook",
            secret=secret,
            data_types=sorted(SYNCED_TYPES & set(DATA_TYPES)),  # what the emulator knows
            policy=Policy.AUTOMATIC,
        )

    async def consent(self, user_ref: str, health_user: str) -> httpx.Response:
        """Begin a Google connection, let the emulated person consent, follow them back."""
        asked = await self.connector.ask(user_ref, None, "google_health")
        async with httpx.AsyncClient() as browser:
            consent = await browser.get(f"{asked.url}&login_hint={health_user}")
        assert consent.status_code == 302, consent.text
        location = consent.headers["location"]
        assert location.startswith(REDIRECT_URI)
        params = parse_qs(urlsplit(location).query)
        return await self.service.get(
            "/google-health/callback", params={k: v[0] for k, v in params.items()}
        )

    async def deliver(self) -> None:
        deliveries = await self.emulator.google.flush()
        assert deliveries
        assert {d.status for d in deliveries} == {204}, deliveries

    async def run_worker(self) -> int:
        worker = create_worker(self.settings, burst=True, poll_delay=0.01)
        try:
            await worker.main()
        finally:
            await worker.close()
        return worker.jobs_complete

    async def run_worker_until(self, done: Callable[[], Awaitable[bool]]) -> None:
        """A real arq worker, stopped as soon as `done` (for jobs deferred into the future,
        which a burst worker would wait for)."""
        worker = create_worker(self.settings, poll_delay=0.01)
        running = asyncio.create_task(worker.main())
        try:
            async with asyncio.timeout(WORKER_PATIENCE):
                while not await done():  # noqa: ASYNC110 - polls the emulator
                    await asyncio.sleep(0.05)
        finally:
            running.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await running
            await worker.close()


@pytest.fixture
async def google(
    google_settings: Settings, emulator: EmulatorControl, db: AsyncEngine, redis: Redis
) -> AsyncIterator[GoogleStack]:
    async with open_google_stack(google_settings, emulator, db, redis) as stack:
        yield stack


@contextlib.asynccontextmanager
async def open_google_stack(
    settings: Settings, emulator: EmulatorControl, db: AsyncEngine, redis: Redis
) -> AsyncIterator[GoogleStack]:
    """The app serving `settings`, a connector, and the emulator's Google side."""
    async with (
        serving(create_app(settings)) as url,
        httpx.AsyncClient(base_url=url) as service,
        httpx.AsyncClient() as http,
    ):
        connector = Connector.build(settings, session_factory(db), redis, http)
        await emulator.google.configure(batch_window_ms=None)
        client = GoogleHealthClient(http, settings.google_health_api_url)
        subscribers = SubscriberApi(client, GOOGLE.project_number)
        yield GoogleStack(service, url, connector, emulator, db, settings, subscribers)
