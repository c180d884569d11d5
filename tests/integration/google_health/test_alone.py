"""A deployment for Google Health alone: no Fitbit settings at all, end to end."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from service.emulator.testing import EmulatorControl
from service.settings import Settings
from tests.integration.google_health.conftest import GoogleStack, open_google_stack

USER = "g-alone-user"
DAY = dt.date(2026, 11, 20)
NO_FITBIT = {
    "enabled_providers": "google_health",
    "fitbit_client_id": None,
    "fitbit_client_secret": None,
    "fitbit_verification_code": None,
    "fitbit_redirect_uri": None,
}


@pytest.fixture
async def alone(
    google_settings: Settings, emulator: EmulatorControl, db: AsyncEngine, redis: Redis
) -> AsyncIterator[GoogleStack]:
    settings = Settings(**{**google_settings.model_dump(), **NO_FITBIT})
    async with open_google_stack(settings, emulator, db, redis) as stack:
        yield stack


async def test_connect_push_and_sync_with_google_health_alone(alone: GoogleStack) -> None:
    await alone.create_subscriber()
    await alone.emulator.google.put_user(USER)
    answer = await alone.consent(f"ref-{USER}", USER)
    assert answer.status_code == 200, answer.text
    at = dt.datetime.combine(DAY, dt.time(8), tzinfo=dt.UTC)
    await alone.emulator.google.add_point(
        USER, "weight", DAY, start=at, values={"weightGrams": 70500}
    )
    await alone.deliver()
    assert await alone.run_worker() >= 1

    async with alone.engine.connect() as conn:
        rows = (await conn.execute(text("SELECT provider, weight_kg FROM weight_log"))).all()
    assert ("google_health", 70.5) in {(p, float(kg)) for p, kg in rows}
    # Fitbit's endpoints are not served at all.
    assert (await alone.service.post("/fitbit/webhook", content=b"[]")).status_code == 404
    assert (await alone.service.get("/fitbit/callback")).status_code == 404
