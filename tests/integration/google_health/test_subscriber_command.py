"""`google-health subscriber` against the emulated Google: it registers our running webhook,
which Google verifies, and running it again updates the same subscriber."""

from __future__ import annotations

import asyncio

import pytest

from service import cli
from service.emulator.google.datatypes import DATA_TYPES
from service.errors import ConfigError
from service.providers.google_health.datatypes import SYNCED_TYPES
from service.settings import Settings
from tests.integration.google_health.conftest import GOOGLE, GoogleStack

KNOWN = sorted(SYNCED_TYPES & set(DATA_TYPES))  # the data types the emulator serves


async def _run(settings: Settings, *argv: str) -> int:
    args = cli._parser().parse_args(["google-health", "subscriber", *argv])
    # The command runs its own event loop; ours keeps serving the webhook Google verifies.
    code: int = await asyncio.to_thread(args.command, args, settings)
    return code


def _with_token(google: GoogleStack) -> Settings:
    return Settings(
        **{**google.settings.model_dump(), "google_health_cloud_token": GOOGLE.cloud_token}
    )


async def test_the_command_registers_and_then_updates_our_subscriber(google: GoogleStack) -> None:
    settings = _with_token(google)
    endpoint = f"{google.url}/google-health/webhook"
    types = [f"--data-type={t}" for t in KNOWN]
    assert await _run(settings, f"--endpoint={endpoint}", "--id=ours", *types) == 0
    [view] = await google.emulator.google.subscribers()
    assert (view.subscriber["endpointUri"], view.subscriber["state"]) == (endpoint, "ACTIVE")
    assert await _run(settings, f"--endpoint={endpoint}", "--id=ours", *types) == 0
    assert len(await google.emulator.google.subscribers()) == 1
    assert (await google.emulator.google.counters()).verifications == {"passed": 2}


async def test_a_wrong_secret_fails_the_command(google: GoogleStack) -> None:
    settings = Settings(
        **{**_with_token(google).model_dump(), "google_health_webhook_secret": "Bearer other"}
    )
    endpoint = f"{google.url}/google-health/webhook"
    types = [f"--data-type={t}" for t in KNOWN]
    assert await _run(settings, f"--endpoint={endpoint}", *types) == 1
    assert await google.emulator.google.subscribers() == []


async def test_the_command_needs_the_cloud_token(google: GoogleStack) -> None:
    args = cli._parser().parse_args(["google-health", "subscriber", "--endpoint=https://x/y"])
    with pytest.raises(ConfigError, match="GOOGLE_HEALTH_CLOUD_TOKEN"):
        args.command(args, google.settings)
