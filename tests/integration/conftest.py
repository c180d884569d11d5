"""Fixtures that run the service over real HTTP on loopback."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import uvicorn
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.types import ASGIApp

from service import embedded
from service.app import create_app
from service.connect.flow import Connector
from service.emulator.config import EmulatorConfig
from service.emulator.testing import EmulatorControl, run_emulator
from service.settings import Settings
from service.store.db import session_factory
from service.sync.worker import create_worker
from tests.conftest import CLIENT_SECRET, VERIFICATION_CODE

STARTUP_TIMEOUT = 10.0


@asynccontextmanager
async def serving(app: ASGIApp) -> AsyncIterator[str]:
    """Run `app` under uvicorn on a free loopback port in this event loop; yield its URL."""
    port = embedded.free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    async with asyncio.timeout(STARTUP_TIMEOUT):
        while not server.started:
            if task.done():
                task.result()
                raise RuntimeError("uvicorn exited during startup")
            await asyncio.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


@pytest.fixture
async def api(settings: Settings, db: object, redis: object) -> AsyncIterator[httpx.AsyncClient]:
    """A client for the service running on a clean database and Redis."""
    async with serving(create_app(settings)) as url, httpx.AsyncClient(base_url=url) as client:
        yield client


# -- the service beside the emulator ---------------------------------------------------------

REDIRECT_URI = "http://127.0.0.1:9/fitbit/callback"


@pytest.fixture(scope="session")
def emulator_url() -> Iterator[str]:
    config = EmulatorConfig(
        client_id="23TEST",
        client_secret=CLIENT_SECRET,
        verification_code=VERIFICATION_CODE,
        redirect_uri=REDIRECT_URI,
        batch_window_ms=None,
    )
    with run_emulator(config) as url:
        yield url


@pytest.fixture
async def emulator(emulator_url: str) -> AsyncIterator[EmulatorControl]:
    async with EmulatorControl(emulator_url) as control:
        await control.reset()
        yield control


@pytest.fixture
def connect_settings(settings: Settings, emulator_url: str) -> Settings:
    return Settings(
        **{
            **settings.model_dump(),
            "fitbit_api_url": emulator_url,
            "fitbit_authorize_url": f"{emulator_url}/oauth2/authorize",
            "fitbit_redirect_uri": REDIRECT_URI,
            "sync_debounce_seconds": 0,
            "sync_backoff_seconds": 0.05,
            "worker_metrics_port": 0,
        }
    )


@dataclass
class Stack:
    service: httpx.AsyncClient
    connector: Connector
    emulator: EmulatorControl
    engine: AsyncEngine
    settings: Settings

    async def consent(self, user_ref: str, fitbit_user: str, **authorize: str) -> httpx.Response:
        """Begin a connection, let the emulated person answer, follow them back to us."""
        url = await self.connector.begin(user_ref, None)
        query = "&".join(f"{k}={v}" for k, v in {"user_id": fitbit_user, **authorize}.items())
        async with httpx.AsyncClient() as browser:
            consent = await browser.get(f"{url}&{query}")
        assert consent.status_code == 302
        location = consent.headers["location"]
        assert location.startswith(REDIRECT_URI)
        assert location.endswith("#_=_")
        params = parse_qs(urlsplit(location.removesuffix("#_=_")).query)
        return await self.service.get(
            "/fitbit/callback", params={k: v[0] for k, v in params.items()}
        )

    async def run_worker(self) -> int:
        """A real arq worker, in burst mode: runs until the queue is empty."""
        worker = create_worker(self.settings, burst=True, poll_delay=0.01)
        try:
            await worker.main()
        finally:
            await worker.close()
        return worker.jobs_complete


@pytest.fixture
async def stack(
    connect_settings: Settings, emulator: EmulatorControl, db: AsyncEngine, redis: Redis
) -> AsyncIterator[Stack]:
    async with (
        serving(create_app(connect_settings)) as url,
        httpx.AsyncClient(base_url=url) as service,
        httpx.AsyncClient() as http,
    ):
        connector = Connector.build(connect_settings, session_factory(db), redis, http)
        await emulator.configure(subscriber_url=f"{url}/fitbit/webhook")
        yield Stack(service, connector, emulator, db, connect_settings)
