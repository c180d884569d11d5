"""Fitbit's per-user subscription API and the profile call made when a person connects.

    POST   /1/user/-/{collection}/apiSubscriptions/{id}.json   201 new, 200 already, 409 conflict
    DELETE /1/user/-/{collection}/apiSubscriptions/{id}.json   204
    GET    /1/user/-/{collection}/apiSubscriptions.json        {"apiSubscriptions": [...]}

We always subscribe per collection (never "all collections"), so the two styles are never
mixed. Ids are ours, deterministic and at most 50 characters; `X-Fitbit-Subscriber-Id` picks
the subscriber endpoint when the app has several.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from service.providers import errors
from service.providers.base import Profile, Subscribed
from service.providers.errors import SubscriptionConflict
from service.providers.fitbit.client import FitbitClient, Observe, raise_for_status, rate_limit

MAX_ID_LENGTH = 50


def subscription_id(user_id: int, collection: str) -> str:
    """Ours: unique across the app (our user id is), stable, short."""
    value = f"{user_id}-{collection}"
    if len(value) > MAX_ID_LENGTH:
        raise ValueError(f"subscription id over {MAX_ID_LENGTH} characters")
    return value


@dataclass(frozen=True, slots=True)
class SubscriptionApi:
    client: FitbitClient
    subscriber_id: str | None = None

    async def subscribe(
        self, token: str, collection: str, sub_id: str, observe: Observe | None = None
    ) -> Subscribed:
        path = _path(collection, f"/{sub_id}")
        response = await self._send("POST", path, token, observe)
        if response.status_code == 409:
            raise SubscriptionConflict(f"POST {path}: 409 conflict")
        raise_for_status(response, path)
        return Subscribed.CREATED if response.status_code == 201 else Subscribed.ALREADY

    async def unsubscribe(
        self, token: str, collection: str | None, sub_id: str, observe: Observe | None = None
    ) -> bool:
        """True when Fitbit removed it, False when it had none by that id.

        `collection` None is an all-collections subscription (listed as collectionType "user").
        """
        path = _path(collection, f"/{sub_id}")
        response = await self._send("DELETE", path, token, observe)
        if response.status_code == 404:
            return False
        raise_for_status(response, path)
        return True

    async def list(
        self, token: str, collection: str | None = None, observe: Observe | None = None
    ) -> list[dict[str, Any]]:
        """The user's subscriptions for `collection`, or of every kind when None (one call)."""
        path = _path(collection, "")
        response = await self._send("GET", path, token, observe)
        raise_for_status(response, path)
        listed = _json(response, path).get("apiSubscriptions", [])
        return [item for item in listed if isinstance(item, dict)]

    async def profile(self, token: str, observe: Observe | None = None) -> Profile:
        body = await self.client.get("/1/user/-/profile.json", token=token, observe=observe)
        user = body.get("user", {}) if isinstance(body, dict) else {}
        offset = user.get("offsetFromUTCMillis")
        timezone = user.get("timezone")
        return Profile(
            timezone if isinstance(timezone, str) else None,
            int(offset) if isinstance(offset, int | float) else None,
        )

    async def _send(
        self, method: str, path: str, token: str, observe: Observe | None
    ) -> httpx.Response:
        headers = {"X-Fitbit-Subscriber-Id": self.subscriber_id} if self.subscriber_id else {}
        response = await self.client.send(method, path, token=token, headers=headers)
        reading = rate_limit(response)
        if reading is not None and observe is not None:
            await observe(reading)
        return response


def _path(collection: str | None, tail: str) -> str:
    scope = f"/{collection}" if collection and collection != "user" else ""
    return f"/1/user/-{scope}/apiSubscriptions{tail}.json"


def _json(response: httpx.Response, path: str) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        raise errors.ProviderUnavailable(f"{path}: answer is not JSON") from None
    return body if isinstance(body, dict) else {}
