"""Fetch plans: which Fitbit endpoints bring one (owner, collection, date) up to date.

Pure: no I/O. Every call costs one of the user's 150 calls per hour, so a plan is the fewest
calls that cover the collection's data for the date. No `Accept-Language` header is ever sent,
so Fitbit answers in metric units.
"""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

from service.providers.base import UnknownCollection

# Fitbit's maximum page size for the activity log list.
ACTIVITY_PAGE_SIZE = 100
# A day with more pages than this is not a day of a person's activities; stop rather than loop.
MAX_ACTIVITY_PAGES = 10


class Endpoint(enum.Enum):
    ACTIVITY_SUMMARY = "activity_summary"
    ACTIVITY_LOGS = "activity_logs"
    SLEEP = "sleep"
    WEIGHT = "weight"
    BODY_FAT = "body_fat"
    FOOD_LOG = "food_log"
    WATER = "water"


@dataclass(frozen=True, slots=True)
class Call:
    endpoint: Endpoint
    path: str  # path and query, relative to the API root
    page: int = 1


def plan(owner_id: str, collection: str, date: dt.date) -> tuple[Call, ...]:
    """The calls for one key, in the order they are made."""
    owner = quote(owner_id, safe="")
    user = f"/1/user/{owner}"
    day = date.isoformat()
    match collection:
        case "activities":
            return (
                Call(Endpoint.ACTIVITY_SUMMARY, f"{user}/activities/date/{day}.json"),
                Call(Endpoint.ACTIVITY_LOGS, f"{user}/activities/list.json?{_after(date)}"),
            )
        case "body":
            return (
                Call(Endpoint.WEIGHT, f"{user}/body/log/weight/date/{day}.json"),
                Call(Endpoint.BODY_FAT, f"{user}/body/log/fat/date/{day}.json"),
            )
        case "foods":
            return (
                Call(Endpoint.FOOD_LOG, f"{user}/foods/log/date/{day}.json"),
                Call(Endpoint.WATER, f"{user}/foods/log/water/date/{day}.json"),
            )
        case "sleep":
            # v1.2: sleep stages; `dateOfSleep` is the day the sleep ended.
            return (Call(Endpoint.SLEEP, f"/1.2/user/{owner}/sleep/date/{day}.json"),)
    raise UnknownCollection(f"no data endpoints for collection {collection!r}")


def _after(date: dt.date) -> str:
    """The activity log list from the start of `date`, oldest first.

    The list takes only one bound. Asking for entries after the last second of the previous day
    includes an activity that starts at midnight whether Fitbit's bound is inclusive or not;
    entries of later days are cut off by the caller (`next_page`, `records`).
    """
    bound = dt.datetime.combine(date - dt.timedelta(days=1), dt.time(23, 59, 59))
    query = {
        "afterDate": bound.isoformat(),
        "sort": "asc",
        "offset": 0,
        "limit": ACTIVITY_PAGE_SIZE,
    }
    return urlencode(query)


def next_page(call: Call, body: Any, date: dt.date) -> Call | None:
    """The call for the next page of an activity log list, while it may still hold `date`."""
    if call.endpoint is not Endpoint.ACTIVITY_LOGS or call.page >= MAX_ACTIVITY_PAGES:
        return None
    if not isinstance(body, dict) or _reaches_past(body.get("activities"), date):
        return None
    pagination = body.get("pagination")
    link = pagination.get("next") if isinstance(pagination, dict) else None
    if not isinstance(link, str) or not link:
        return None
    # Only the path and query of Fitbit's link are used: the host stays the configured one.
    parts = urlsplit(link)
    path = f"{parts.path}?{parts.query}" if parts.query else parts.path
    return None if path == call.path else Call(call.endpoint, path, call.page + 1)


def _reaches_past(activities: Any, date: dt.date) -> bool:
    """Entries come oldest first, so one that starts after `date` ends the day's entries."""
    if not isinstance(activities, list):
        return True
    day = date.isoformat()
    # Local ISO timestamps: their first ten characters are the local date, comparable as text.
    return any(
        isinstance(item, dict) and str(item.get("startTime", ""))[:10] > day for item in activities
    )
