"""The users' data: generated on read, stored only once changed through the control API.

A resource is one Fitbit endpoint's worth of a day (`activities`, `weight`, `fat`, `foods`,
`water`, `sleep`). A recorded raw response can stand in for any (user, resource, date).
"""

from __future__ import annotations

import copy
import random
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from service.emulator import generate
from service.emulator.generate import JSON, Day
from service.emulator.users import EmulatedUser

# Which notification collection a change to each resource belongs to.
COLLECTION_OF = {
    "activities": "activities",
    "weight": "body",
    "fat": "body",
    "foods": "foods",
    "water": "foods",
    "sleep": "sleep",
}
RESOURCES = tuple(COLLECTION_OF)
MAX_LOG_ID = 2**64 - 1
ID_DRAWS = 100  # fresh logs drawn before giving up on an unused id

Key = tuple[str, str, date]


class UnknownLog(LookupError):
    pass


@dataclass(frozen=True)
class Raw:
    body: Any
    status: int


class DataStore:
    def __init__(self, seed: int) -> None:
        self.seed = seed
        self._days: dict[Key, Day] = {}
        self._raw: dict[Key, Raw] = {}
        self._ids = random.Random(seed)  # noqa: S311 - ids for added logs, not secrets

    def day(self, user: EmulatedUser, resource: str, on: date, today: date) -> Day:
        """The day as Fitbit would answer it: changed, generated, or empty outside the
        user's membership (before `member_since`, after their local today)."""
        stored = self._days.get((user.user_id, resource, on))
        if stored is not None:
            return stored
        if not user.member_since <= on <= today:
            return generate.blank(self.seed, user.user_id, resource, on)
        return generate.generate(self.seed, user.user_id, user.zone(), resource, on)

    def edit(self, user: EmulatedUser, resource: str, on: date, today: date) -> Day:
        key = (user.user_id, resource, on)
        if key not in self._days:
            self._days[key] = copy.deepcopy(self.day(user, resource, on, today))
        return self._days[key]

    def add_log(self, user: EmulatedUser, day: Day, resource: str, on: date, fields: JSON) -> JSON:
        person = generate.traits(self.seed, user.user_id)
        used = {existing.get("logId") for existing in day.logs}
        # A weight's id is its time in ms, so two made the same day can meet: draw another.
        for _ in range(ID_DRAWS):
            log = generate.new_log(self._ids, person, user.zone(), resource, on) | fields
            if "logId" in fields or log["logId"] not in used:
                break
        _check(resource, log)
        if log["logId"] in used:
            raise ValueError(f"logId {log['logId']} is already used on {on}")
        day.logs.append(log)
        return log

    @staticmethod
    def change_log(day: Day, resource: str, log_id: int, fields: JSON) -> JSON:
        log = _find(day, log_id)
        _check(resource, log | fields)
        log.update(fields)
        return log

    @staticmethod
    def delete_log(day: Day, log_id: int) -> None:
        day.logs.remove(_find(day, log_id))

    def raw(self, user_id: str, resource: str, on: date) -> Raw | None:
        return self._raw.get((user_id, resource, on))

    def set_raw(self, user_id: str, resource: str, on: date, raw: Raw | None) -> None:
        if raw is None:
            self._raw.pop((user_id, resource, on), None)
        else:
            self._raw[(user_id, resource, on)] = raw


def _find(day: Day, log_id: int) -> JSON:
    for log in day.logs:
        if log.get("logId") == log_id:
            return log
    raise UnknownLog(f"no log {log_id} on that day")


def _check(resource: str, log: JSON) -> None:
    """Refuse what would break the endpoints' own reading of a log."""
    log_id = log.get("logId")
    if not isinstance(log_id, int) or isinstance(log_id, bool) or not 0 <= log_id <= MAX_LOG_ID:
        raise ValueError("logId must be an unsigned 64-bit integer")
    if resource == "activities":
        try:
            datetime.fromisoformat(str(log.get("startTime")))
        except ValueError as exc:
            raise ValueError("startTime must be an ISO 8601 local time") from exc
