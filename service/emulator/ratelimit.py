"""Fitbit's rate limit: a number of calls per user per clock hour, reset at the top of the
hour, announced in `Fitbit-Rate-Limit-*` headers on every answer to a user's token."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

_HOUR = timedelta(hours=1)


@dataclass(frozen=True)
class RateStatus:
    limit: int
    remaining: int
    reset_seconds: int
    allowed: bool

    def headers(self) -> dict[str, str]:
        return {
            "Fitbit-Rate-Limit-Limit": str(self.limit),
            "Fitbit-Rate-Limit-Remaining": str(self.remaining),
            "Fitbit-Rate-Limit-Reset": str(self.reset_seconds),
        }


class RateLimiter:
    def __init__(self) -> None:
        self._windows: dict[str, tuple[datetime, int]] = {}

    def spend(self, user_id: str, now: datetime, limit: int) -> RateStatus:
        """Count one call for the user; `allowed` is false once the hour's budget is spent."""
        hour = now.replace(minute=0, second=0, microsecond=0)
        used = self.used(user_id, now)
        allowed = used < limit
        used += allowed
        self._windows[user_id] = (hour, used)
        reset = math.ceil((hour + _HOUR - now).total_seconds())
        return RateStatus(limit, max(limit - used, 0), reset, allowed)

    def used(self, user_id: str, now: datetime) -> int:
        hour = now.replace(minute=0, second=0, microsecond=0)
        start, used = self._windows.get(user_id, (hour, 0))
        return used if start == hour else 0
