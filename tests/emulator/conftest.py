"""Fixtures for the emulator's tests: one emulator over real HTTP for the session, reset
before each test with its clock frozen; a real notification receiver; and the OpenAPI 3 spec
that responses are checked against."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
from jsonschema import Draft202012Validator, FormatChecker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012
from starlette.applications import Starlette
from starlette.routing import Route

from service.emulator.testing import EmulatorControl, run_emulator, serve_app
from tests.emulator.emulator_support import (
    CONFIG,
    GOOGLE,
    NOW,
    SPEC,
    USER,
    BearerFactory,
    Receiver,
    SchemaCheck,
)


@pytest.fixture(scope="session")
def receiver() -> Iterator[Receiver]:
    receiver = Receiver()
    app = Starlette(routes=[Route("/webhook", receiver.webhook, methods=["GET", "POST"])])
    with serve_app(app) as url:
        receiver.url = f"{url}/webhook"
        yield receiver


@pytest.fixture(scope="session")
def emulator_url() -> Iterator[str]:
    with run_emulator(CONFIG, GOOGLE) as url:
        yield url


@pytest.fixture
async def control(emulator_url: str, receiver: Receiver) -> AsyncIterator[EmulatorControl]:
    """The control client, after a reset: clock frozen at NOW, pushing to `receiver`."""
    async with EmulatorControl(emulator_url) as control:
        await control.reset()
        await control.set_clock(NOW)
        await control.configure(subscriber_url=receiver.url)
        receiver.clear()
        yield control


@pytest.fixture
async def fitbit(emulator_url: str, control: EmulatorControl) -> AsyncIterator[httpx.AsyncClient]:
    """A plain HTTP client for the emulator's Fitbit-facing endpoints."""
    async with httpx.AsyncClient(base_url=emulator_url) as client:
        yield client


@pytest.fixture
def bearer(control: EmulatorControl) -> BearerFactory:
    """Authorization headers for a user's fresh token (every scope unless told)."""

    async def make(user_id: str = USER, scopes: list[str] | None = None) -> dict[str, str]:
        tokens = await control.issue_tokens(user_id, scopes)
        return {"Authorization": f"Bearer {tokens.access_token}"}

    return make


@pytest.fixture(scope="session")
def schema() -> SchemaCheck:
    """Validates a body against a named schema of the augmented OpenAPI 3 spec."""
    spec = json.loads(SPEC.read_text())
    registry: Registry[Any] = Registry().with_resource(
        "spec", Resource.from_contents(spec, default_specification=DRAFT202012)
    )
    # "date" is checked; Fitbit's local times carry no offset, so "date-time" would not be.
    formats = FormatChecker(formats=["date"])

    def check(body: object, name: str) -> None:
        ref = {"$ref": f"spec#/components/schemas/{name}"}
        Draft202012Validator(ref, registry=registry, format_checker=formats).validate(body)

    return check
