"""`GoogleControl`: a typed async client of the Google control API (`/_emulator/google`),
reached as `EmulatorControl(base_url).google`."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable, Iterable
from typing import Any, TypeVar

import httpx
from pydantic import BaseModel, TypeAdapter

from service.emulator.google.models import (
    GoogleAppView,
    GoogleCountersView,
    GoogleDelivery,
    GoogleNotificationsView,
    GoogleTokenAnswer,
    GoogleUserView,
    JSONObject,
    KeysetView,
    SubscriberView,
    Verification,
)

Model = TypeVar("Model", bound=BaseModel)
Call = Callable[..., Awaitable[httpx.Response]]


def _instants(change: dict[str, Any]) -> JSONObject:
    """A point's changes as JSON: `start`/`end` datetimes in ISO 8601."""
    return {k: v.isoformat() if isinstance(v, dt.datetime) else v for k, v in change.items()}


class GoogleControl:
    def __init__(self, call: Call) -> None:
        self._call = call

    async def _get(self, model: type[Model], method: str, path: str, json: object = None) -> Model:
        return model.model_validate((await self._call(method, f"/google{path}", json)).json())

    async def _json(self, method: str, path: str, json: object = None, **params: Any) -> Any:
        return (await self._call(method, f"/google{path}", json, params or None)).json()

    async def app(self) -> GoogleAppView:
        return await self._get(GoogleAppView, "GET", "/app")

    async def configure(self, **changes: object) -> GoogleAppView:
        return await self._get(GoogleAppView, "PATCH", "/app", changes)

    async def put_user(self, user_id: str, **changes: object) -> GoogleUserView:
        """Create or change an account: legacy_user_id, timezone, member_since, grant_scopes,
        deny_consent."""
        body = {k: v.isoformat() if isinstance(v, dt.date) else v for k, v in changes.items()}
        return await self._get(GoogleUserView, "PUT", f"/users/{user_id}", body)

    async def user(self, user_id: str) -> GoogleUserView:
        return await self._get(GoogleUserView, "GET", f"/users/{user_id}")

    async def issue_tokens(
        self, user_id: str, scopes: Iterable[str] | None = None
    ) -> GoogleTokenAnswer:
        body = {"scopes": list(scopes) if scopes is not None else None}
        return await self._get(GoogleTokenAnswer, "POST", f"/users/{user_id}/tokens", body)

    async def revoke_user(self, user_id: str) -> GoogleUserView:
        return await self._get(GoogleUserView, "POST", f"/users/{user_id}/revoke")

    async def day(self, user_id: str, data_type: str, day: dt.date | str) -> list[JSONObject]:
        result: list[JSONObject] = await self._json(
            "GET", f"/users/{user_id}/data/{data_type}/{day}"
        )
        return result

    async def add_point(
        self,
        user_id: str,
        data_type: str,
        day: dt.date | str,
        *,
        notify: bool = True,
        **change: Any,
    ) -> JSONObject:
        """`start`/`end` (aware datetimes) and `values` (the type's own fields) override the
        generated point; answers `{"id", "point"}`."""
        body = _instants(change)
        path = f"/users/{user_id}/data/{data_type}/{day}/points"
        result: JSONObject = await self._json("POST", path, body, notify=notify)
        return result

    async def change_point(
        self,
        user_id: str,
        data_type: str,
        day: dt.date | str,
        point_id: str,
        *,
        notify: bool = True,
        **change: Any,
    ) -> JSONObject:
        body = _instants(change)
        path = f"/users/{user_id}/data/{data_type}/{day}/points/{point_id}"
        result: JSONObject = await self._json("PATCH", path, body, notify=notify)
        return result

    async def delete_point(
        self,
        user_id: str,
        data_type: str,
        day: dt.date | str,
        point_id: str,
        *,
        notify: bool = True,
    ) -> None:
        path = f"/users/{user_id}/data/{data_type}/{day}/points/{point_id}"
        await self._call("DELETE", f"/google{path}", None, {"notify": notify})

    async def notify(
        self,
        user_id: str,
        data_type: str,
        start: dt.datetime,
        end: dt.datetime | None = None,
        operation: str = "UPSERT",
    ) -> list[JSONObject]:
        body = {"data_type": data_type, "operation": operation, "start": start.isoformat()}
        if end is not None:
            body["end"] = end.isoformat()
        result: list[JSONObject] = await self._json("POST", f"/users/{user_id}/notify", body)
        return result

    async def register_subscriber(
        self,
        subscriber_id: str,
        endpoint_uri: str,
        secret: str,
        configs: list[JSONObject] | None = None,
        *,
        verify: bool = False,
    ) -> SubscriberView:
        body = {
            "endpoint_uri": endpoint_uri,
            "secret": secret,
            "subscriber_configs": configs,
            "verify": verify,
        }
        return await self._get(SubscriberView, "PUT", f"/subscribers/{subscriber_id}", body)

    async def subscribers(self) -> list[SubscriberView]:
        return TypeAdapter(list[SubscriberView]).validate_python(
            await self._json("GET", "/subscribers")
        )

    async def delete_subscriber(self, subscriber_id: str) -> None:
        await self._call("DELETE", f"/google/subscribers/{subscriber_id}")

    async def verify_subscriber(self, subscriber_id: str) -> Verification:
        return await self._get(Verification, "POST", f"/subscribers/{subscriber_id}/verify")

    async def flush(self) -> list[GoogleDelivery]:
        return TypeAdapter(list[GoogleDelivery]).validate_python(
            await self._json("POST", "/notifications/flush")
        )

    async def notifications(self) -> GoogleNotificationsView:
        return await self._get(GoogleNotificationsView, "GET", "/notifications")

    async def keyset(self) -> KeysetView:
        return await self._get(KeysetView, "GET", "/keyset")

    async def set_keyset(
        self, *, mode: str | None = None, fail_status: int | None = None
    ) -> KeysetView:
        body = {
            k: v for k, v in {"mode": mode, "fail_status": fail_status}.items() if v is not None
        }
        return await self._get(KeysetView, "PUT", "/keyset", body)

    async def rotate_key(self) -> KeysetView:
        return await self._get(KeysetView, "POST", "/keyset/rotate")

    async def counters(self) -> GoogleCountersView:
        return await self._get(GoogleCountersView, "GET", "/counters")

    async def reset_counters(self) -> None:
        await self._call("DELETE", "/google/counters")

    async def reset(self) -> None:
        await self._call("POST", "/google/reset")
