"""Constants and helpers shared by the emulator's tests (fixtures live in conftest.py)."""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from starlette.requests import Request
from starlette.responses import Response

from service.emulator.config import EmulatorConfig
from service.emulator.google import GoogleConfig

SHARED = Path(__file__).resolve().parents[3] / "shared" / "fitbit"
EXAMPLES = SHARED / "examples"
SPEC = SHARED / "specs" / "fitbit-web-api-openapi3-augmented.allenporter.json"

CLIENT_ID = "23TEST"
CLIENT_SECRET = "test-client-secret"
VERIFICATION_CODE = "c0de-for-verification"
REDIRECT_URI = "https://app.example/fitbit/callback"
NOW = dt.datetime(2024, 3, 10, 10, 15, tzinfo=dt.UTC)
YESTERDAY = "2024-03-09"
USER = "USER01"

CONFIG = EmulatorConfig(
    client_id=CLIENT_ID,
    client_secret=CLIENT_SECRET,
    verification_code=VERIFICATION_CODE,
    redirect_uri=REDIRECT_URI,
    batch_window_ms=None,
)


GOOGLE = GoogleConfig(
    client_id="test-client.apps.googleusercontent.com",
    client_secret="test-google-secret",
    redirect_uri="https://app.example/google/callback",
    project_number="998877665544",
    cloud_token="test-cloud-token",
    batch_window_ms=None,
)


def example(relative: str) -> Any:
    """A recorded Fitbit response (most start with a BOM)."""
    return json.loads((EXAMPLES / relative).read_text(encoding="utf-8-sig"))


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """A subscriber endpoint that records what it is sent and answers as told."""

    url: str = ""
    status: int = 204
    verification_code: str = VERIFICATION_CODE
    received: list[Received] = field(default_factory=list)
    arrived: threading.Event = field(default_factory=threading.Event)

    def clear(self) -> None:
        self.status, self.verification_code = 204, VERIFICATION_CODE
        self.received.clear()
        self.arrived.clear()

    def notifications(self) -> list[dict[str, str]]:
        return [item for got in self.received for item in json.loads(got.body)]

    async def webhook(self, request: Request) -> Response:
        if request.method == "GET":
            right = request.query_params.get("verify") == self.verification_code
            return Response(status_code=204 if right else 404)
        self.received.append(Received(dict(request.headers), await request.body()))
        self.arrived.set()
        return Response(status_code=self.status)


class BearerFactory(Protocol):
    def __call__(
        self, user_id: str = USER, scopes: list[str] | None = None
    ) -> Awaitable[dict[str, str]]: ...


SchemaCheck = Callable[[object, str], None]


def assert_shaped_like(ours: object, recorded: object, path: str = "$") -> None:
    """Every key of the recorded Fitbit response is in ours, recursively (lists by their
    first item), with the same kind of value."""
    if isinstance(recorded, dict):
        assert isinstance(ours, dict), f"{path}: expected an object"
        for key, value in recorded.items():
            assert key in ours, f"{path}: missing {key!r}"
            assert_shaped_like(ours[key], value, f"{path}.{key}")
    elif isinstance(recorded, list):
        assert isinstance(ours, list), f"{path}: expected an array"
        if recorded and ours:
            assert_shaped_like(ours[0], recorded[0], f"{path}[0]")
    elif isinstance(recorded, bool | str):
        assert type(ours) is type(recorded), f"{path}: {ours!r} is not like {recorded!r}"
    elif isinstance(recorded, int | float):
        assert isinstance(ours, int | float), f"{path}: {ours!r} is not a number"
        assert not isinstance(ours, bool), f"{path}: {ours!r} is not a number"
