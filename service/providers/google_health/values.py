"""Typed values out of Google Health JSON (proto3 JSON mapping, FACTS §5.6).

int64 values are strings (`"count": "1234"`), durations are strings of seconds (`"1800s"`,
`"-25200s"`, `"0.5s"`), timestamps are RFC 3339 UTC, dates and civil times are objects
(`{"year": 2026, "month": 3, "day": 7}`, `{"hours": 17, "minutes": 29}`). What a person lacks is
None; a wrong structure raises `UnexpectedResponse`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from typing import Any

from service.providers.errors import UnexpectedResponse
from service.providers.json import Obj as Obj
from service.providers.json import flag as flag
from service.providers.json import inner as inner
from service.providers.json import obj as obj
from service.providers.json import objects as objects
from service.providers.json import text as text

_DURATION = re.compile(r"(-?\d+(?:\.\d+)?)s")


def number(item: Obj, key: str) -> float | None:
    """A JSON number or an int64-as-string; never a bool."""
    value = item.get(key)
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            raise UnexpectedResponse(f"{key} is not a number: {value!r}") from None
    return None


def integer(item: Obj, key: str) -> int | None:
    value = number(item, key)
    return round(value) if value is not None else None


def duration_seconds(value: Any) -> float | None:
    if value is None:
        return None
    match = _DURATION.fullmatch(value) if isinstance(value, str) else None
    if match is None:
        raise UnexpectedResponse(f"not a duration: {value!r}")
    return float(match.group(1))


def instant(value: Any) -> dt.datetime:
    """An RFC 3339 timestamp as an aware UTC datetime."""
    try:
        parsed = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise UnexpectedResponse(f"not a timestamp: {value!r}") from None
    if parsed.tzinfo is None:
        raise UnexpectedResponse(f"timestamp without an offset: {value!r}")
    return parsed.astimezone(dt.UTC)


def local(item: Obj, time_key: str, offset_key: str) -> dt.datetime | None:
    """The wall-clock time at `item[time_key]` under the point's own UTC offset, naive.

    Each point carries the offset in force when it was recorded (a trip, a DST change), so a
    point's local time is its instant plus its own offset, not the person's offset of today.
    """
    if item.get(time_key) is None:
        return None
    at = instant(item[time_key])
    offset = duration_seconds(item.get(offset_key)) or 0.0
    return (at + dt.timedelta(seconds=offset)).replace(tzinfo=None)


def date_of(value: Any, what: str) -> dt.date:
    """A `google.type.Date` object."""
    parts = obj(value, what)
    try:
        return dt.date(int(parts["year"]), int(parts["month"]), int(parts["day"]))
    except (KeyError, TypeError, ValueError):
        raise UnexpectedResponse(f"{what}: not a full date: {parts!r}") from None


def civil(value: Any, what: str) -> dt.datetime:
    """A `CivilDateTime` object ({date, time}) as a naive local datetime."""
    parts = obj(value, what)
    day = date_of(parts.get("date"), what)
    time = inner(parts, "time")
    try:
        return dt.datetime.combine(
            day,
            dt.time(
                int(time.get("hours", 0)),
                int(time.get("minutes", 0)),
                int(time.get("seconds", 0)),
            ),
        )
    except (TypeError, ValueError):
        raise UnexpectedResponse(f"{what}: not a time of day: {time!r}") from None


def point_id(name: str | None, data_type: str, fallback: str) -> int:
    """An unsigned 64-bit log id for a data point.

    Google names identifiable points (`users/{u}/dataTypes/{t}/dataPoints/{id}`) with string
    ids, while the store keys logs on `NUMERIC(20, 0)`; the first 8 bytes of SHA-256 of the id
    are stable across syncs and collide with odds of ~n²/2⁶⁵. A point without a name is keyed
    on what identifies it in its data type (its start or sample time).
    """
    key = name.rsplit("/", 1)[-1] if name else f"{data_type}@{fallback}"
    return int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big")
