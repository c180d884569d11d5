"""Who a Google Health token belongs to: `users/me/identity`, and the person's time zone.

Google's token answer names no user (FACTS §2.4). `healthUserId` is the `{user}` of resource
names and the `healthUserId` of notifications: our account's external id. `legacyUserId` is the
person's old Fitbit user id, present for Fitbit users, used only to match a re-consenting
Fitbit user to the account we already hold (Google forbids any other use). The mapping never
changes, so it is read once at connection.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from service.providers import errors
from service.providers.base import Profile
from service.providers.google_health.client import GoogleHealthClient, Observe
from service.providers.google_health.values import duration_seconds

USER_ID = re.compile(r"[A-Za-z0-9-]{1,63}")


@dataclass(frozen=True, slots=True)
class Identity:
    health_user_id: str
    legacy_user_id: str | None


async def get_identity(
    client: GoogleHealthClient, token: str, observe: Observe | None = None
) -> Identity:
    body = await client.call("GET", "/v4/users/me/identity", token=token, observe=observe)
    return parse_identity(body)


def parse_identity(body: Any) -> Identity:
    health = body.get("healthUserId") if isinstance(body, dict) else None
    if not isinstance(health, str) or not USER_ID.fullmatch(health):
        raise errors.UnexpectedResponse("identity: healthUserId is missing or malformed")
    legacy = body.get("legacyUserId")
    valid = isinstance(legacy, str) and USER_ID.fullmatch(legacy)
    return Identity(health, legacy if valid else None)


async def get_profile(
    client: GoogleHealthClient, token: str, observe: Observe | None = None
) -> Profile:
    """The IANA zone and current UTC offset of `users/me/settings` (needs `settings.readonly`)."""
    body = await client.call("GET", "/v4/users/me/settings", token=token, observe=observe)
    return parse_settings(body)


def parse_settings(body: Any) -> Profile:
    settings = body if isinstance(body, dict) else {}
    zone = settings.get("timeZone")
    offset = duration_seconds(settings.get("utcOffset"))
    return Profile(
        zone if isinstance(zone, str) and zone else None,
        round(offset * 1000) if offset is not None else None,
    )
