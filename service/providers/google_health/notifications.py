"""Google Health webhook bodies: the verification challenge and data change notifications.

A notification (FACTS §4.1) is `{"data": {healthUserId, dataType, operation, intervals, ...}}`;
Google's example is one object, open-wearables saw a JSON array of them, so both are accepted
(FACTS §8.3; no batch size is assumed). Each interval may carry a `physicalTimeInterval`
(UTC), a `civilDateTimeInterval` (date/time objects) and a `civilIso8601TimeInterval` (local
ISO text); OSS tests saw only `civilIso8601TimeInterval.startTime`, so every part is optional
and the local (civil) forms are preferred: sync keys are local dates.

Decisions:
- One `ReceivedChange` per (item, local date) the item's intervals touch: an interval that
  spans midnight yields one per date. Items repeat keys across a batch exactly as Fitbit's
  do; the ingest upsert coalesces equal keys. The raw item is kept with each change.
- A purely physical interval (no civil form) has unknown local dates: it yields the UTC dates
  widened by a day on each side, since any UTC offset moves a date by at most one day.
  Re-reading a day that did not change costs calls but never loses data.
- An item touching more than `MAX_DAYS` dates yields its latest `MAX_DAYS`: a DELETE after a
  revoked consent may span a person's whole history, which is not one sync storm's work.
- `UPSERT`, `DELETE` and any operation not yet known are all re-reads of the day: the store
  deletes what the provider no longer returns, so a DELETE needs no separate path, and a new
  operation name cannot make us lose a change. The operation stays in `raw`.
- A change of any daily activity summary member (steps, distance, ...) is keyed on the one
  `activity-summary` collection (`datatypes.collection`): the members make one row, so a
  device sync touching several of them coalesces into one fetch. `raw` keeps the data type.
- Data types we do not store are `ChangeKind.UNKNOWN`: recorded, never synced. There is no
  account-revoked notification (FACTS §2.5): revocation shows up as refused tokens.
- `clientProvidedSubscriptionName` is a random UUID per notification under the AUTOMATIC
  policy (FACTS §4.1): kept as the subscription id for the audit log, never keyed on.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any

from service.providers.base import ChangeKind, InvalidNotification, ReceivedChange
from service.providers.google_health import PROVIDER
from service.providers.google_health.datatypes import SYNCED_TYPES, collection

MAX_DAYS = 31
HEALTH_USER_ID = re.compile(r"[A-Za-z0-9-]{1,63}")
DATA_TYPE = re.compile(r"[a-z][a-z0-9-]{0,62}")
_ONE_DAY = dt.timedelta(days=1)
_TICK = dt.timedelta(microseconds=1)


def is_verification(body: bytes) -> bool:
    """True for the subscriber verification challenge, `{"type": "verification"}`.

    A push never carries that word, so the scan lets a push be parsed once, by `parse`."""
    if b"verification" not in body:
        return False
    try:
        document = json.loads(body)
    except (UnicodeDecodeError, ValueError):
        return False
    return isinstance(document, dict) and document.get("type") == "verification"


def parse(body: bytes) -> list[ReceivedChange]:
    """The changes of a notification body; `InvalidNotification` says what is wrong."""
    try:
        document = json.loads(body)
    except (UnicodeDecodeError, ValueError) as exc:
        raise InvalidNotification(f"body is not JSON: {exc}") from None
    items = document if isinstance(document, list) else [document]
    changes: list[ReceivedChange] = []
    for index, item in enumerate(items):
        changes.extend(_parse_item(index, item))
    return changes


def _parse_item(index: int, item: Any) -> list[ReceivedChange]:
    data = item.get("data") if isinstance(item, dict) else None
    if not isinstance(data, dict):
        raise InvalidNotification(f"item {index}: no data object")
    owner = _text(index, data, "healthUserId", HEALTH_USER_ID)
    data_type = _text(index, data, "dataType", DATA_TYPE)
    if not isinstance(data.get("operation"), str) or not data["operation"]:
        raise InvalidNotification(f"item {index}: operation is missing or not a string")
    intervals = data.get("intervals", [])
    if not isinstance(intervals, list):
        raise InvalidNotification(f"item {index}: intervals must be a list")
    dates: set[dt.date] = set()
    for interval in intervals:
        dates.update(_dates(index, interval))
    synced = data_type in SYNCED_TYPES
    kind = ChangeKind.DATA if synced else ChangeKind.UNKNOWN
    key_collection = collection(data_type) if synced else data_type
    subscription = data.get("clientProvidedSubscriptionName")

    def change(date: dt.date | None, change_kind: ChangeKind) -> ReceivedChange:
        return ReceivedChange(
            provider=PROVIDER,
            kind=change_kind,
            owner_id=owner,
            collection=key_collection,
            date=date,
            owner_type="user",
            subscription_id=subscription if isinstance(subscription, str) else None,
            raw=item,
        )

    if not dates:  # nothing to sync, but Google sent it: keep it for the audit log
        return [change(None, ChangeKind.UNKNOWN)]
    return [change(date, kind) for date in sorted(dates)[-MAX_DAYS:]]


def _text(index: int, data: dict[str, Any], key: str, pattern: re.Pattern[str]) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not pattern.fullmatch(value):
        raise InvalidNotification(f"item {index}: {key} is missing or malformed")
    return value


def _dates(index: int, interval: Any) -> list[dt.date]:
    if not isinstance(interval, dict):
        raise InvalidNotification(f"item {index}: an interval is not an object")
    try:
        civil = _civil_iso(interval.get("civilIso8601TimeInterval"))
        civil = civil or _civil_parts(interval.get("civilDateTimeInterval"))
        if civil is not None:
            return _span(*civil)
        physical = _physical(interval.get("physicalTimeInterval"))
    except (TypeError, ValueError, OverflowError):
        raise InvalidNotification(f"item {index}: an interval has a malformed time") from None
    if physical is None:
        return []
    start, end = physical
    return _span(start - _ONE_DAY, end + _ONE_DAY)


Span = tuple[dt.datetime, dt.datetime | None]


def _civil_iso(value: Any) -> Span | None:
    if not isinstance(value, dict) or not isinstance(value.get("startTime"), str):
        return None
    end = value.get("endTime")
    return _naive(value["startTime"]), _naive(end) if isinstance(end, str) else None


def _civil_parts(value: Any) -> Span | None:
    if not isinstance(value, dict) or not isinstance(value.get("startDateTime"), dict):
        return None
    end = value.get("endDateTime")
    return _from_parts(value["startDateTime"]), _from_parts(end) if isinstance(end, dict) else None


def _from_parts(value: dict[str, Any]) -> dt.datetime:
    date, time = value.get("date") or {}, value.get("time") or {}
    return dt.datetime(  # noqa: DTZ001 - a civil (local wall-clock) time has no zone
        int(date["year"]),
        int(date["month"]),
        int(date["day"]),
        int(time.get("hours", 0)),
        int(time.get("minutes", 0)),
        int(time.get("seconds", 0)),
    )


def _physical(value: Any) -> tuple[dt.datetime, dt.datetime] | None:
    if not isinstance(value, dict) or not isinstance(value.get("startTime"), str):
        return None
    start = _naive(value["startTime"])
    end = value.get("endTime")
    return start, _naive(end) if isinstance(end, str) else start


def _naive(text: str) -> dt.datetime:
    """A timestamp's wall-clock part (a `Z` or offset suffix names the same wall clock)."""
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00")).replace(tzinfo=None)


def _span(start: dt.datetime, end: dt.datetime | None) -> list[dt.date]:
    """The dates of [start, end): an end at midnight does not touch the next day."""
    last = (end - _TICK).date() if end is not None and end > start else start.date()
    first = max(start.date(), last - dt.timedelta(days=MAX_DAYS - 1))
    return [first + dt.timedelta(days=n) for n in range((last - first).days + 1)]
