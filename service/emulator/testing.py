"""Run the emulator (or any ASGI app) over real HTTP, and drive it through its control API.

    from service.emulator.testing import EmulatorControl, run_emulator

    with run_emulator() as base_url:            # uvicorn on 127.0.0.1, a free port
        async with EmulatorControl(base_url) as control:
            await control.configure(subscriber_url="http://127.0.0.1:8000/fitbit/webhook",
                                    batch_window_ms=None)
            tokens = await control.issue_tokens("ABC123", scopes=["activity", "sleep"])
            ...                                   # the service subscribes, using tokens
            await control.add_log("ABC123", "sleep", "2024-03-09")
            deliveries = await control.flush()    # the signed POST, and how it was answered
            counters = await control.counters()   # Fitbit calls the service made since

`serve_app` is the same server for any ASGI app, e.g. a notification receiver in a test.
"""

from __future__ import annotations

import datetime as dt
import socket
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from types import TracebackType
from typing import Any, Self, TypeVar

import httpx
import uvicorn
from pydantic import BaseModel, TypeAdapter
from starlette.types import ASGIApp

from service.emulator.app import create_emulator_app
from service.emulator.config import EmulatorConfig
from service.emulator.google.config import GoogleConfig
from service.emulator.google.testing import GoogleControl
from service.emulator.models import (
    AppView,
    ClockView,
    CountersView,
    DayView,
    Delivery,
    FaultPlan,
    JSONObject,
    NotificationsView,
    SubscriptionView,
    TokenAnswer,
    UserView,
    VerificationResult,
)

Model = TypeVar("Model", bound=BaseModel)
DateLike = dt.date | str
STARTUP_SECONDS = 10.0


@contextmanager
def serve_app(app: ASGIApp, host: str = "127.0.0.1") -> Iterator[str]:
    """Serve `app` with uvicorn in a background thread on a free port; yield its base URL."""
    sock = socket.socket()
    sock.bind((host, 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        app, host=host, port=port, log_level="warning", ws="none", timeout_graceful_shutdown=1
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        _wait_started(server, thread)
        yield f"http://{host}:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=STARTUP_SECONDS)
        sock.close()


def _wait_started(server: uvicorn.Server, thread: threading.Thread) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the server did not start")
        time.sleep(0.005)


@contextmanager
def run_emulator(
    config: EmulatorConfig | None = None, google: GoogleConfig | None = None
) -> Iterator[str]:
    """A fresh emulator over real HTTP; the configs default to the environment's."""
    with serve_app(create_emulator_app(config, google)) as url:
        yield url


class ControlError(Exception):
    """The control API refused a request; `body` says why."""

    def __init__(self, status: int, body: str) -> None:
        super().__init__(f"{status}: {body}")
        self.status = status
        self.body = body


class EmulatorControl:
    """A typed async client for the control API (`/_emulator/...`)."""

    def __init__(self, base_url: str, *, client: httpx.AsyncClient | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self._client = client or httpx.AsyncClient(timeout=30)
        self._owns_client = client is None
        # The Google Health side's control API (`/_emulator/google/...`).
        self.google = GoogleControl(self._call)

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        if self._owns_client:
            await self._client.aclose()

    async def _call(
        self, method: str, path: str, json: object = None, params: dict[str, Any] | None = None
    ) -> httpx.Response:
        url = f"{self.base_url}/_emulator{path}"
        response = await self._client.request(method, url, json=json, params=params)
        if response.is_error:
            raise ControlError(response.status_code, response.text)
        return response

    async def _get(self, model: type[Model], method: str, path: str, json: object = None) -> Model:
        return model.model_validate((await self._call(method, path, json)).json())

    # -- app registration -----------------------------------------------------------------

    async def app(self) -> AppView:
        return await self._get(AppView, "GET", "/app")

    async def configure(self, *, verify: bool = False, **changes: object) -> AppView:
        """Change any `EmulatorConfig` field (subscriber_url, client_secret, batch_window_ms…);
        `verify=True` then runs the subscriber verification handshake."""
        return await self._get(AppView, "PATCH", "/app", {**changes, "verify": verify})

    async def verify_subscriber(self) -> VerificationResult:
        return await self._get(VerificationResult, "POST", "/app/verify")

    # -- users ------------------------------------------------------------------------------

    async def put_user(self, user_id: str, **changes: object) -> UserView:
        """Create or change a user: timezone, offset_from_utc_millis, display_name,
        member_since, grant_scopes, deny_consent."""
        return await self._get(UserView, "PUT", f"/users/{user_id}", _jsonable(changes))

    async def user(self, user_id: str) -> UserView:
        return await self._get(UserView, "GET", f"/users/{user_id}")

    async def issue_tokens(self, user_id: str, scopes: Iterable[str] | None = None) -> TokenAnswer:
        body = {"scopes": list(scopes) if scopes is not None else None}
        return await self._get(TokenAnswer, "POST", f"/users/{user_id}/tokens", body)

    async def revoke_user(self, user_id: str) -> UserView:
        return await self._get(UserView, "POST", f"/users/{user_id}/revoke")

    async def delete_user(self, user_id: str) -> UserView:
        return await self._get(UserView, "POST", f"/users/{user_id}/delete")

    # -- data -------------------------------------------------------------------------------

    async def day(self, user_id: str, resource: str, day: DateLike) -> DayView:
        return await self._get(DayView, "GET", _day(user_id, resource, day))

    async def add_log(
        self,
        user_id: str,
        resource: str,
        day: DateLike,
        fields: JSONObject | None = None,
        *,
        notify: bool = True,
    ) -> JSONObject:
        path = _day(user_id, resource, day) + "/logs"
        return _object(await self._call("POST", path, fields or {}, {"notify": notify}))

    async def change_log(
        self,
        user_id: str,
        resource: str,
        day: DateLike,
        log_id: int,
        fields: JSONObject,
        *,
        notify: bool = True,
    ) -> JSONObject:
        path = f"{_day(user_id, resource, day)}/logs/{log_id}"
        return _object(await self._call("PATCH", path, fields, {"notify": notify}))

    async def delete_log(
        self, user_id: str, resource: str, day: DateLike, log_id: int, *, notify: bool = True
    ) -> None:
        path = f"{_day(user_id, resource, day)}/logs/{log_id}"
        await self._call("DELETE", path, params={"notify": notify})

    async def change_summary(
        self, user_id: str, day: DateLike, fields: JSONObject, *, notify: bool = True
    ) -> JSONObject:
        path = _day(user_id, "activities", day) + "/summary"
        return _object(await self._call("PATCH", path, fields, {"notify": notify}))

    async def load_raw(
        self,
        user_id: str,
        resource: str,
        day: DateLike,
        body: object,
        *,
        status: int = 200,
        notify: bool = True,
    ) -> None:
        path = _day(user_id, resource, day) + "/raw"
        await self._call("PUT", path, {"body": body, "status": status}, {"notify": notify})

    async def clear_raw(
        self, user_id: str, resource: str, day: DateLike, *, notify: bool = True
    ) -> None:
        await self._call("DELETE", _day(user_id, resource, day) + "/raw", params={"notify": notify})

    async def notify(self, user_id: str, collection: str, day: DateLike) -> list[dict[str, str]]:
        """A notification with no change behind it (a duplicate, as Fitbit sends)."""
        body = {"collection": collection, "date": str(day)}
        items: list[dict[str, str]] = (
            await self._call("POST", f"/users/{user_id}/notify", body)
        ).json()
        return items

    # -- notifications, subscriptions --------------------------------------------------------

    async def flush(self) -> list[Delivery]:
        """Push every pending notification now; returns each POST and its answer."""
        response = await self._call("POST", "/notifications/flush")
        return TypeAdapter(list[Delivery]).validate_python(response.json())

    async def notifications(self) -> NotificationsView:
        return await self._get(NotificationsView, "GET", "/notifications")

    async def subscriptions(self) -> list[SubscriptionView]:
        response = await self._call("GET", "/subscriptions")
        return TypeAdapter(list[SubscriptionView]).validate_python(response.json())

    # -- faults, counters, clock, reset -------------------------------------------------------

    async def set_faults(self, **plan: object) -> FaultPlan:
        """Fields of `FaultPlan`: latency_ms, error_rate, error_status, fail_next,
        timeout_rate, timeout_next, hang_seconds, path_prefix, seed."""
        return await self._get(FaultPlan, "PUT", "/faults", plan)

    async def clear_faults(self) -> None:
        await self._call("DELETE", "/faults")

    async def counters(self) -> CountersView:
        return await self._get(CountersView, "GET", "/counters")

    async def reset_counters(self) -> None:
        await self._call("DELETE", "/counters")

    async def clock(self) -> ClockView:
        return await self._get(ClockView, "GET", "/clock")

    async def advance_clock(self, seconds: float) -> ClockView:
        return await self._get(ClockView, "POST", "/clock", {"advance_seconds": seconds})

    async def set_clock(self, at: dt.datetime, *, frozen: bool = True) -> ClockView:
        body = {"set": at.isoformat(), "frozen": frozen}
        return await self._get(ClockView, "POST", "/clock", body)

    async def reset(self) -> None:
        """Forget everything the emulator learnt since it started."""
        await self._call("POST", "/reset")


def _day(user_id: str, resource: str, day: DateLike) -> str:
    return f"/users/{user_id}/data/{resource}/{day}"


def _object(response: httpx.Response) -> JSONObject:
    value = response.json()
    if not isinstance(value, dict):
        raise ControlError(response.status_code, response.text)
    return value


def _jsonable(values: dict[str, object]) -> dict[str, object]:
    return {name: _plain(value) for name, value in values.items()}


def _plain(value: object) -> object:
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, set | frozenset):
        return sorted(value)
    return value
