"""The Google Health data types the emulator serves, with their record shape, the scope that
reads them, the methods they support and how their points render as JSON.

Shapes: `interval` points carry an ObservationTimeInterval, `sample` points an
ObservationSampleTime, `session` points (exercise, hydration, nutrition) and `sleep` a
SessionTimeInterval, `daily` points (the daily resting heart rate) only the local `date` they
describe. Every time is the physical UTC instant plus the UTC offset at that
instant, with the civil (local) time as output-only fields; int64 values are JSON strings and
durations `"1800s"`, as Google's JSON mapping of protobuf writes them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal

from service.emulator.google import oauth

JSON = dict[str, Any]
Shape = Literal["interval", "sample", "session", "sleep", "daily"]

LIST, GET, RECONCILE, ROLL_UP, DAILY_ROLL_UP = "list", "get", "reconcile", "rollUp", "dailyRollUp"
_ALL = frozenset({LIST, RECONCILE, ROLL_UP, DAILY_ROLL_UP})
_LOGS = frozenset({LIST, GET, RECONCILE, ROLL_UP, DAILY_ROLL_UP})
_SESSIONS = frozenset({LIST, GET, RECONCILE})
_DAILY = frozenset({LIST, RECONCILE})


@dataclass(frozen=True)
class DataType:
    name: str
    shape: Shape
    scope: str
    operations: frozenset[str]
    identifiable: bool = False
    # The longest range a roll-up may cover.
    rollup_max_days: int = 90

    @property
    def snake(self) -> str:
        return self.name.replace("-", "_")

    @property
    def camel(self) -> str:
        head, *rest = self.name.split("-")
        return head + "".join(part.title() for part in rest)

    @property
    def page_max(self) -> int:
        return 25 if self.name in ("sleep", "exercise") else 10_000

    @property
    def page_default(self) -> int:
        return 25 if self.name in ("sleep", "exercise") else 1440


DATA_TYPES = {
    kind.name: kind
    for kind in (
        DataType("steps", "interval", oauth.ACTIVITY, _ALL),
        DataType("distance", "interval", oauth.ACTIVITY, _ALL),
        DataType("altitude", "interval", oauth.ACTIVITY, _ALL),
        DataType("floors", "interval", oauth.ACTIVITY, _ALL - {LIST}),
        DataType(
            "total-calories",
            "interval",
            oauth.ACTIVITY,
            frozenset({ROLL_UP, DAILY_ROLL_UP}),
            rollup_max_days=14,
        ),
        DataType("activity-level", "interval", oauth.ACTIVITY, _ALL),
        DataType("daily-resting-heart-rate", "daily", oauth.METRICS, _DAILY),
        DataType("exercise", "session", oauth.ACTIVITY, _SESSIONS, identifiable=True),
        DataType("sleep", "sleep", oauth.SLEEP, _SESSIONS, identifiable=True),
        DataType("weight", "sample", oauth.METRICS, _LOGS, identifiable=True),
        DataType("body-fat", "sample", oauth.METRICS, _LOGS, identifiable=True),
        DataType("hydration-log", "session", oauth.NUTRITION, _LOGS, identifiable=True),
        DataType("nutrition-log", "session", oauth.NUTRITION, _LOGS, identifiable=True),
    )
}
# The activity types one day's movement is split into, in Fitbit's daily-summary terms.
ACTIVITY_TYPES = ("steps", "distance", "altitude", "floors", "total-calories", "activity-level")


@dataclass
class Point:
    """One data point: when it happened (UTC, with the UTC offsets of its ends) and the
    type's own fields, already in Google's JSON shape."""

    point_id: str
    data_type: str
    start: datetime
    end: datetime
    start_offset: timedelta
    end_offset: timedelta
    values: JSON
    source: JSON = field(default_factory=dict)
    created: datetime | None = None

    def anchor(self) -> date:
        """The local date the point belongs to: a sleep's is the day it ended."""
        if self.data_type == "sleep":
            return (self.end + self.end_offset).date()
        return (self.start + self.start_offset).date()

    def civil_start(self) -> datetime:
        return (self.start + self.start_offset).replace(tzinfo=None)

    def civil_end(self) -> datetime:
        return (self.end + self.end_offset).replace(tzinfo=None)


def timestamp(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def duration(delta: timedelta) -> str:
    return f"{int(delta.total_seconds())}s"


def civil(at: datetime) -> JSON:
    """A CivilDateTime, zero fields left out as protobuf's JSON mapping does."""
    time = {"hours": at.hour, "minutes": at.minute, "seconds": at.second}
    return {
        "date": {"year": at.year, "month": at.month, "day": at.day},
        "time": {name: value for name, value in time.items() if value},
    }


def time_fields(point: Point, shape: Shape) -> JSON:
    if shape == "daily":
        return {"date": civil(point.civil_start())["date"]}
    if shape == "sample":
        return {
            "sampleTime": {
                "physicalTime": timestamp(point.start),
                "utcOffset": duration(point.start_offset),
                "civilTime": civil(point.civil_start()),
            }
        }
    return {
        "interval": {
            "startTime": timestamp(point.start),
            "startUtcOffset": duration(point.start_offset),
            "endTime": timestamp(point.end),
            "endUtcOffset": duration(point.end_offset),
            "civilStartTime": civil(point.civil_start()),
            "civilEndTime": civil(point.civil_end()),
        }
    }


def name(user_id: str, point: Point) -> str:
    return f"users/{user_id}/dataTypes/{point.data_type}/dataPoints/{point.point_id}"


def render(user_id: str, point: Point, *, reconciled: bool) -> JSON:
    """A DataPoint (list) or ReconciledDataPoint (reconcile)."""
    kind = DATA_TYPES[point.data_type]
    out: JSON = {}
    if kind.identifiable:
        out["dataPointName" if reconciled else "name"] = name(user_id, point)
    if not reconciled:
        out["dataSource"] = point.source
    out[kind.camel] = time_fields(point, kind.shape) | point.values
    return out
