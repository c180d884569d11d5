"""Typed values out of Fitbit's JSON: what a user lacks is None, a wrong structure is an error."""

from __future__ import annotations

import datetime as dt
from typing import Any

from service.providers.errors import UnexpectedResponse
from service.providers.json import Obj as Obj
from service.providers.json import flag as flag
from service.providers.json import inner as inner
from service.providers.json import obj as obj
from service.providers.json import objects as objects
from service.providers.json import text as text

MAX_LOG_ID = 2**64 - 1


def log_id(item: Obj) -> int:
    value = item.get("logId")
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_LOG_ID:
        raise UnexpectedResponse(f"logId is not an unsigned 64-bit integer: {value!r}")
    return value


def _number(item: Obj, key: str) -> int | float | None:
    """A JSON number (never a bool, which Python counts as one)."""
    value = item.get(key)
    if value is None or isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return value


def integer(item: Obj, key: str) -> int | None:
    value = _number(item, key)
    return round(value) if value is not None else None


def real(item: Obj, key: str) -> float | None:
    value = _number(item, key)
    return float(value) if value is not None else None


def date_or(item: Obj, key: str, default: dt.date) -> dt.date:
    """The entry's own local date; the requested one when the entry carries none."""
    value = item.get(key)
    if value is None:
        return default
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise UnexpectedResponse(f"{key} is not a date: {value!r}") from None


def time(value: Any) -> dt.time | None:
    if value is None:
        return None
    try:
        return dt.time.fromisoformat(str(value))
    except ValueError:
        raise UnexpectedResponse(f"not a time of day: {value!r}") from None


def local_datetime(value: Any) -> dt.datetime:
    """Fitbit's local timestamp, kept as the wall-clock time it names.

    Some answers append the offset of that local time (`-08:00`) or a `Z`; the wall-clock part
    is still local, so the suffix is dropped and the user's UTC offset is stored beside it.
    """
    try:
        return dt.datetime.fromisoformat(str(value)).replace(tzinfo=None)
    except ValueError:
        raise UnexpectedResponse(f"not a timestamp: {value!r}") from None
