"""Emulated Fitbit users: identity, time zone, and how they answer a consent screen."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo

# Fitbit's encoded user ids are short upper-case alphanumerics ("228S74"); "-" means "me".
USER_ID = re.compile(r"^[A-Za-z0-9]{1,32}$")


@dataclass
class EmulatedUser:
    user_id: str
    timezone: str = "UTC"
    # A fixed offset from UTC that overrides the zone's own (e.g. to model a stale profile).
    fixed_offset_millis: int | None = None
    display_name: str = ""
    member_since: date = date(2020, 1, 1)
    # What the user grants when asked; None grants whatever the app asks for.
    grant_scopes: frozenset[str] | None = None
    deny_consent: bool = False
    # What the app holds now: the scopes of the latest consent.
    granted: frozenset[str] = field(default_factory=frozenset)
    revoked: bool = False
    deleted: bool = False

    def zone(self) -> tzinfo:
        if self.fixed_offset_millis is not None:
            return timezone(timedelta(milliseconds=self.fixed_offset_millis))
        return ZoneInfo(self.timezone)

    def local(self, at: datetime) -> datetime:
        return at.astimezone(self.zone())

    def today(self, at: datetime) -> date:
        return self.local(at).date()

    def offset_millis(self, at: datetime) -> int:
        offset = self.local(at).utcoffset()
        return int(offset.total_seconds() * 1000) if offset else 0

    def consent(self, requested: frozenset[str]) -> frozenset[str]:
        """The scopes this user ticks on the consent screen."""
        if self.grant_scopes is None:
            return requested
        return requested & self.grant_scopes


class UserDirectory:
    """Users by id; anyone named (at consent or through the control API) comes into being."""

    def __init__(self) -> None:
        self._users: dict[str, EmulatedUser] = {}

    def get(self, user_id: str) -> EmulatedUser | None:
        return self._users.get(user_id)

    def ensure(self, user_id: str) -> EmulatedUser:
        if not USER_ID.match(user_id):
            raise ValueError(f"invalid user id {user_id!r}")
        return self._users.setdefault(user_id, EmulatedUser(user_id, display_name=user_id))

    def all(self) -> list[EmulatedUser]:
        return sorted(self._users.values(), key=lambda user: user.user_id)
