"""The Google Health API's user endpoints: `users/me/identity`, `users/me/settings` and the
`users/me/dataTypes/{type}/dataPoints` reads (list, get, `:reconcile`, `:rollUp`,
`:dailyRollUp`), with paging by `pageToken`/`nextPageToken` to the end.

Only `users/me` is accepted as the parent, as Google answers 400 to a numeric user there.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from datetime import UTC, date, datetime, timedelta
from typing import Any

from fastapi import APIRouter, Request

from service.emulator.google import filters, oauth, rollup
from service.emulator.google.datatypes import (
    DAILY_ROLL_UP,
    DATA_TYPES,
    GET,
    JSON,
    LIST,
    RECONCILE,
    ROLL_UP,
    DataType,
    civil,
    duration,
    render,
    timestamp,
)
from service.emulator.google.deps import Caller, GoogleDep, user_call
from service.emulator.google.errors import GoogleError, invalid_argument, not_found
from service.emulator.google.state import GoogleHealth

router = APIRouter(prefix="/v4/users/{user}", tags=["Google Health API"])
IDENTITY_SCOPES = oauth.READ_SCOPES - {f"{oauth.PREFIX}location.readonly"}
POINTS = "/dataTypes/{data_type}/dataPoints"


def _me(user: str) -> None:
    if user != "me":
        raise invalid_argument(f"Invalid parent users/{user}: only users/me is supported.")


@router.get("/identity")
async def identity(user: str, request: Request, google: GoogleDep) -> JSON:
    caller = await user_call(request, google, IDENTITY_SCOPES)
    _me(user)
    out = {"name": "users/me/identity", "healthUserId": caller.user.health_user_id}
    if caller.user.legacy_user_id:
        out["legacyUserId"] = caller.user.legacy_user_id
    return out


@router.get("/settings")
async def settings(user: str, request: Request, google: GoogleDep) -> JSON:
    caller = await user_call(request, google, frozenset({oauth.SETTINGS}))
    _me(user)
    return {
        "name": "users/me/settings",
        "timeZone": caller.user.timezone,
        "utcOffset": duration(caller.user.offset(google.now())),
        "distanceUnit": "DISTANCE_UNIT_KILOMETERS",
        "weightUnit": "WEIGHT_UNIT_KILOGRAMS",
        "heightUnit": "HEIGHT_UNIT_CENTIMETERS",
        "waterUnit": "WATER_UNIT_ML",
        "temperatureUnit": "TEMPERATURE_UNIT_CELSIUS",
        "glucoseUnit": "GLUCOSE_UNIT_MG_DL",
        "swimUnit": "SWIM_UNIT_METERS",
        "languageLocale": "en_US",
    }


async def _data_call(
    user: str, data_type: str, method: str, request: Request, google: GoogleHealth
) -> tuple[Caller, DataType]:
    kind = DATA_TYPES.get(data_type)
    scopes = frozenset({kind.scope}) if kind else oauth.READ_SCOPES
    caller = await user_call(request, google, scopes)
    _me(user)
    if kind is None:
        raise invalid_argument(
            f"Unknown or unsupported data type {data_type!r}.", "INVALID_DATA_TYPE"
        )
    if method not in kind.operations:
        raise invalid_argument(f"{method} is not supported for the data type {data_type!r}.")
    return caller, kind


@router.get(POINTS)
async def list_points(user: str, data_type: str, request: Request, google: GoogleDep) -> JSON:
    caller, kind = await _data_call(user, data_type, LIST, request, google)
    return _page(caller, kind, request, google, reconciled=False)


@router.get(POINTS + ":reconcile")
async def reconcile(user: str, data_type: str, request: Request, google: GoogleDep) -> JSON:
    caller, kind = await _data_call(user, data_type, RECONCILE, request, google)
    return _page(caller, kind, request, google, reconciled=True)


def _page(
    caller: Caller, kind: DataType, request: Request, google: GoogleHealth, *, reconciled: bool
) -> JSON:
    params = request.query_params
    text = params.get("filter")
    terms = filters.parse(text, kind)
    filters.check_range(terms)
    size = _page_size(params.get("pageSize"), kind.page_default, kind.page_max)
    query = f"{kind.name}|{text}|{reconciled}"
    offset = _offset(params.get("pageToken"), query)
    now = google.now()
    bounds = filters.date_bounds(terms, caller.user.offset(now))
    found, more = google.data.query(
        caller.user, kind.name, terms, bounds, now, offset=offset, limit=size
    )
    uid = caller.user.health_user_id
    out: JSON = {"dataPoints": [render(uid, point, reconciled=reconciled) for point in found]}
    if more:
        out["nextPageToken"] = _token(query, offset + size)
    return out


@router.get(POINTS + "/{point_id}")
async def get_point(
    user: str, data_type: str, point_id: str, request: Request, google: GoogleDep
) -> JSON:
    caller, kind = await _data_call(user, data_type, GET, request, google)
    try:
        day = datetime.strptime(point_id[:8], "%Y%m%d").replace(tzinfo=UTC).date()
    except ValueError:
        raise not_found(f"Data point {point_id} not found.") from None
    for on in (day, day - timedelta(days=1), day + timedelta(days=1)):
        for point in google.data.day(caller.user, kind.name, on, google.now()):
            if point.point_id == point_id:
                return render(caller.user.health_user_id, point, reconciled=False)
    raise not_found(f"Data point {point_id} not found.")


@router.post(POINTS + ":rollUp")
async def roll_up(user: str, data_type: str, request: Request, google: GoogleDep) -> JSON:
    caller, kind = await _data_call(user, data_type, ROLL_UP, request, google)
    body = await _body(request)
    span = body.get("range") or {}
    start, end = _instant(span.get("startTime")), _instant(span.get("endTime"))
    window = _seconds(body.get("windowSize"))
    _check_span(kind, start, end)
    edges = _windows(start, end, window)
    zone_offset = caller.user.offset(google.now())
    low, high = (
        (start + zone_offset).date() - timedelta(days=1),
        (end + zone_offset).date() + timedelta(days=1),
    )
    points = [
        p
        for p in google.data.points(caller.user, kind.name, low, high, google.now())
        if start <= p.start < end
    ]
    rows = []
    for begin, stop in edges:
        row: JSON = {"startTime": timestamp(begin), "endTime": timestamp(stop)}
        value = rollup.value(kind.name, [p for p in points if begin <= p.start < stop])
        rows.append(row | ({kind.camel: value} if value is not None else {}))
    return _rollup_page(
        rows, body, f"rollUp|{kind.name}|{json.dumps(span, sort_keys=True)}|{window}"
    )


@router.post(POINTS + ":dailyRollUp")
async def daily_roll_up(user: str, data_type: str, request: Request, google: GoogleDep) -> JSON:
    caller, kind = await _data_call(user, data_type, DAILY_ROLL_UP, request, google)
    body = await _body(request)
    span = body.get("range") or {}
    first, last = _civil_date(span.get("start")), _civil_date(span.get("end"))
    days = int(body.get("windowSizeDays") or 1)
    if days < 1:
        raise invalid_argument("windowSizeDays must be positive.", "INVALID_ROLLUP_WINDOW")
    if last <= first:
        raise GoogleError(400, "The range is empty.", reason="INVALID_TIME_RANGE")
    if (last - first).days > kind.rollup_max_days:
        raise invalid_argument(
            f"The range may cover at most {kind.rollup_max_days} days for {kind.name}.",
            "INVALID_ROLLUP_QUERY_DURATION",
        )
    points = list(
        google.data.points(caller.user, kind.name, first, last - timedelta(days=1), google.now())
    )
    rows = []
    begin = first
    while begin < last:
        stop = min(begin + timedelta(days=days), last)
        row: JSON = {
            "civilStartTime": civil(_midnight(begin)),
            "civilEndTime": civil(_midnight(stop)),
        }
        value = rollup.value(
            kind.name, [p for p in points if begin <= p.civil_start().date() < stop]
        )
        rows.append(row | ({kind.camel: value} if value is not None else {}))
        begin = stop
    return _rollup_page(
        rows, body, f"dailyRollUp|{kind.name}|{json.dumps(span, sort_keys=True)}|{days}"
    )


def _rollup_page(rows: list[JSON], body: JSON, query: str) -> JSON:
    size = _page_size(body.get("pageSize"), 1440, 10_000)
    offset = _offset(body.get("pageToken"), query)
    out: JSON = {"rollupDataPoints": rows[offset : offset + size]}
    if offset + size < len(rows):
        out["nextPageToken"] = _token(query, offset + size)
    return out


def _check_span(kind: DataType, start: datetime, end: datetime) -> None:
    if end <= start:
        raise GoogleError(400, "The range is empty.", reason="INVALID_TIME_RANGE")
    if end - start > timedelta(days=kind.rollup_max_days):
        raise invalid_argument(
            f"The range may cover at most {kind.rollup_max_days} days for {kind.name}.",
            "INVALID_ROLLUP_QUERY_DURATION",
        )


def _windows(start: datetime, end: datetime, seconds: int) -> list[tuple[datetime, datetime]]:
    step = timedelta(seconds=seconds)
    if (end - start) / step > 10_000:
        raise invalid_argument("Too many roll-up windows.", "INVALID_ROLLUP_WINDOW")
    edges = []
    at = start
    while at < end:
        edges.append((at, min(at + step, end)))
        at += step
    return edges


async def _body(request: Request) -> JSON:
    try:
        body = json.loads(await request.body() or b"{}")
    except ValueError:
        raise invalid_argument("Invalid JSON payload received.") from None
    if not isinstance(body, dict):
        raise invalid_argument("Invalid JSON payload received.")
    return body


def _instant(value: Any) -> datetime:
    try:
        at = datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        at = None
    if at is None or at.tzinfo is None:
        raise invalid_argument(f"Invalid timestamp {value!r} in range.", "INVALID_TIME_RANGE")
    return at.astimezone(UTC)


def _seconds(value: Any) -> int:
    try:
        if not isinstance(value, str) or not value.endswith("s"):
            raise ValueError(value)
        seconds = float(value[:-1])
    except ValueError:
        raise invalid_argument(f"Invalid windowSize {value!r}.", "INVALID_ROLLUP_WINDOW") from None
    if seconds < 1:
        raise invalid_argument("windowSize must be at least 1s.", "INVALID_ROLLUP_WINDOW")
    return int(seconds)


def _civil_date(value: Any) -> date:
    try:
        parts = value["date"]
        day = date(int(parts["year"]), int(parts["month"]), int(parts["day"]))
        time = value.get("time") or {}
    except (TypeError, KeyError, ValueError):
        raise invalid_argument(
            f"Invalid civil date time {value!r} in range.", "INVALID_TIME_RANGE"
        ) from None
    if any(time.get(name) for name in ("hours", "minutes", "seconds", "nanos")):
        raise invalid_argument(
            "The range must be aligned with whole days.", "INVALID_ROLLUP_WINDOW"
        )
    return day


def _midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day)  # noqa: DTZ001 - a civil (local) time


def _page_size(value: Any, default: int, most: int) -> int:
    if value in (None, "", 0, "0"):
        return default
    try:
        size = int(value)
    except (TypeError, ValueError):
        raise invalid_argument(f"Invalid page size {value!r}.", "INVALID_PAGE_SIZE") from None
    if size < 0:
        raise invalid_argument(f"Invalid page size {value!r}.", "INVALID_PAGE_SIZE")
    return min(size, most)


def _token(query: str, offset: int) -> str:
    raw = json.dumps({"o": offset, "q": hashlib.sha256(query.encode()).hexdigest()[:16]})
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _offset(token: Any, query: str) -> int:
    if not token:
        return 0
    try:
        raw = json.loads(base64.urlsafe_b64decode(str(token) + "=" * (-len(str(token)) % 4)))
        if raw["q"] != hashlib.sha256(query.encode()).hexdigest()[:16]:
            raise ValueError("the page token belongs to another query")
        return int(raw["o"])
    except (ValueError, KeyError, TypeError, binascii.Error):
        raise invalid_argument("Invalid page token.", "INVALID_PAGE_TOKEN") from None
