"""Emulated Google accounts: the health user id, the legacy Fitbit id they may carry, their
time zone, and how they answer Google's consent screen."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

# Identity.healthUserId: 1-63 letters, digits and hyphens.
HEALTH_USER_ID = re.compile(r"^[A-Za-z0-9-]{1,63}$")


@dataclass
class GoogleUser:
    health_user_id: str
    # The user's id on the legacy Fitbit Web API, when they had a Fitbit account.
    legacy_user_id: str | None = None
    timezone: str = "UTC"
    member_since: date = date(2020, 1, 1)
    # What the user grants when asked; None grants whatever the app asks for.
    grant_scopes: frozenset[str] | None = None
    deny_consent: bool = False
    # The scopes of the app's live grant; empty once revoked.
    granted: frozenset[str] = field(default_factory=frozenset)
    revoked: bool = False

    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def local(self, at: datetime) -> datetime:
        return at.astimezone(self.zone())

    def today(self, at: datetime) -> date:
        return self.local(at).date()

    def offset(self, at: datetime) -> timedelta:
        return self.local(at).utcoffset() or timedelta(0)

    def consent(self, requested: frozenset[str]) -> frozenset[str]:
        """The scopes this user leaves ticked on the consent screen."""
        return requested if self.grant_scopes is None else requested & self.grant_scopes


class GoogleUsers:
    """Accounts by health user id; anyone named comes into being."""

    def __init__(self) -> None:
        self._users: dict[str, GoogleUser] = {}

    def get(self, health_user_id: str) -> GoogleUser | None:
        return self._users.get(health_user_id)

    def ensure(self, health_user_id: str) -> GoogleUser:
        if not HEALTH_USER_ID.match(health_user_id):
            raise ValueError(f"invalid healthUserId {health_user_id!r}")
        return self._users.setdefault(health_user_id, GoogleUser(health_user_id))

    def all(self) -> list[GoogleUser]:
        return sorted(self._users.values(), key=lambda user: user.health_user_id)
