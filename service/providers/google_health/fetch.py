"""Fetch plans: the Google Health calls that bring one (user, data type, local date) up to date.

Pure: no I/O. Reads are `users/me/...` with the person's token (the parent must be `me`,
FACTS §5.1). Which call, per FACTS §5:
- daily totals (steps, distance, floors, altitude, total calories, activity level, water,
  nutrition) come from `dataPoints:dailyRollUp` over the one civil day: Google's own per-day
  sums, right across travel and DST, and de-duplicated across sources (summing `list`
  double-counts);
- individual points (exercise, sleep, weight, body fat, food and water logs, the daily resting
  heart rate) come from `dataPoints:reconcile`, the merged stream across sources (`list`
  returns each source's copy; sleep cannot be filtered by source at all), with an AIP-160
  filter on the civil time that decides the point's date: session start for exercise, food
  and water, session end for sleep (the day a sleep ended is its date, as Fitbit's
  `dateOfSleep`), sample time for weight and body fat, `date` for daily types.
Pages follow `nextPageToken` to the end, bounded by `MAX_PAGES`. Page sizes are the largest
allowed, as the service was seen to drop points sharing a timestamp with a page's last one.

Every call costs one of the person's 300 calls a minute (`USER_BUDGET`, as the budget's
`RateRules`); a key's plan is spent before its first call, so it is fetched whole or deferred
whole.
"""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass, field, replace
from typing import Any

from service.providers.base import RateRules, UnknownCollection
from service.providers.google_health.datatypes import (
    SUMMARY_COLLECTION,
    SUMMARY_TYPES,
    filter_name,
)

__all__ = ["UnknownCollection"]

MAX_PAGES = 20
PAGE_SIZE = 10000
SESSION_PAGE_SIZE = 25  # exercise and sleep: the default and the maximum
# A daily type read point by point: the roll-up of its personal range is not the day's value.
RESTING_HEART_RATE = "daily-resting-heart-rate"


USER_BUDGET = RateRules(limit=300, window_seconds=60.0)  # per person (FACTS §6)
PROJECT_BUDGET = RateRules(limit=120_000, window_seconds=60.0)  # per Cloud project, shared


class Kind(enum.Enum):
    RECONCILE = "reconcile"
    DAILY_ROLLUP = "daily_rollup"


@dataclass(frozen=True, slots=True)
class Call:
    data_type: str
    kind: Kind
    method: str
    path: str
    params: dict[str, str | int] = field(default_factory=dict, hash=False)
    body: dict[str, Any] | None = field(default=None, hash=False)
    page: int = 1


def plan(collection: str, date: dt.date) -> tuple[Call, ...]:
    """The calls for one key, in the order they are made.

    The summary's calls read every member data type; a key of one member's name (made before
    the members shared `activity-summary`) is read as the summary too."""
    if collection == SUMMARY_COLLECTION or collection in SUMMARY_TYPES:
        rollups = tuple(daily_rollup(t, date) for t in SUMMARY_TYPES if t != RESTING_HEART_RATE)
        return (*rollups, reconcile(RESTING_HEART_RATE, _daily_filter(RESTING_HEART_RATE, date)))
    match collection:
        case "exercise":
            return (reconcile(collection, _session_filter(collection, date), SESSION_PAGE_SIZE),)
        case "sleep":
            return (reconcile(collection, _sleep_filter(date), SESSION_PAGE_SIZE),)
        case "weight" | "body-fat":
            return (reconcile(collection, _sample_filter(collection, date)),)
        case "nutrition-log" | "hydration-log":
            return (
                reconcile(collection, _session_filter(collection, date)),
                daily_rollup(collection, date),
            )
    raise UnknownCollection(f"no data calls for data type {collection!r}")


def cost(collection: str) -> int:
    """Calls the key takes before any further page: what the budget must hold for it."""
    return len(plan(collection, dt.date(2000, 1, 1)))


def reconcile(data_type: str, filter_text: str, page_size: int = PAGE_SIZE) -> Call:
    path = f"/v4/users/me/dataTypes/{data_type}/dataPoints:reconcile"
    params: dict[str, str | int] = {"filter": filter_text, "pageSize": page_size}
    return Call(data_type, Kind.RECONCILE, "GET", path, params=params)


def daily_rollup(data_type: str, date: dt.date) -> Call:
    path = f"/v4/users/me/dataTypes/{data_type}/dataPoints:dailyRollUp"
    body = {
        "range": {"start": {"date": _date(date)}, "end": {"date": _date(date + _DAY)}},
        "windowSizeDays": 1,
    }
    return Call(data_type, Kind.DAILY_ROLLUP, "POST", path, body=body)


def next_page(call: Call, body: Any) -> Call | None:
    """The call for the next page, while Google has one and the bound is not reached."""
    token = body.get("nextPageToken") if isinstance(body, dict) else None
    if not isinstance(token, str) or not token or call.page >= MAX_PAGES:
        return None
    if call.method == "GET":
        return replace(call, params={**call.params, "pageToken": token}, page=call.page + 1)
    return replace(call, body={**(call.body or {}), "pageToken": token}, page=call.page + 1)


_DAY = dt.timedelta(days=1)


def _date(date: dt.date) -> dict[str, int]:
    return {"year": date.year, "month": date.month, "day": date.day}


def _between(member: str, start: str, end: str) -> str:
    return f'{member} >= "{start}" AND {member} < "{end}"'


def _civil_day(member: str, date: dt.date) -> str:
    start = dt.datetime.combine(date, dt.time()).isoformat()
    end = dt.datetime.combine(date + _DAY, dt.time()).isoformat()
    return _between(member, start, end)


def _session_filter(data_type: str, date: dt.date) -> str:
    # Sessions other than sleep filter on the civil start only (FACTS §5.2).
    return _civil_day(f"{filter_name(data_type)}.interval.civil_start_time", date)


def _sleep_filter(date: dt.date) -> str:
    return _civil_day("sleep.interval.civil_end_time", date)


def _sample_filter(data_type: str, date: dt.date) -> str:
    return _civil_day(f"{filter_name(data_type)}.sample_time.civil_time", date)


def _daily_filter(data_type: str, date: dt.date) -> str:
    member = f"{filter_name(data_type)}.date"
    return _between(member, date.isoformat(), (date + _DAY).isoformat())
