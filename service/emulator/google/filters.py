"""The AIP-160 subset that `dataPoints.list` and `:reconcile` accept, as a pure parser.

`{type}.interval.start_time >= "2024-03-09T00:00:00Z" AND {type}.interval.start_time < "…"`:
comparisons `>=` and `<` of one time member against a quoted literal, joined by `AND`. The
member depends on the type's shape (FACTS §5.2): physical (RFC 3339) or civil
(`YYYY-MM-DD[THH:mm:ss]`) start for intervals, sample time for samples, civil start only for
sessions, end time for sleep, `date` (`YYYY-MM-DD`) for daily types.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from service.emulator.google.datatypes import DataType, Point
from service.emulator.google.errors import GoogleError, invalid_argument

_TERM = re.compile(r'^\s*([a-z_]+)\.([a-z_.]+)\s*(>=|<)\s*"([^"]*)"\s*$')

# member -> (physical?, which end of the point)
MEMBERS = {
    "interval": {
        "interval.start_time": (True, "start"),
        "interval.civil_start_time": (False, "start"),
    },
    "sample": {
        "sample_time.physical_time": (True, "start"),
        "sample_time.civil_time": (False, "start"),
    },
    "session": {"interval.civil_start_time": (False, "start")},
    "sleep": {"interval.end_time": (True, "end"), "interval.civil_end_time": (False, "end")},
    "daily": {"date": (False, "start")},
}


@dataclass(frozen=True)
class Term:
    physical: bool
    end: bool
    op: str
    value: datetime  # aware UTC when physical, naive local when civil

    def matches(self, point: Point) -> bool:
        if self.physical:
            at = point.end if self.end else point.start
        else:
            at = point.civil_end() if self.end else point.civil_start()
        return at >= self.value if self.op == ">=" else at < self.value


def parse(text: str | None, kind: DataType) -> list[Term]:
    if not text or not text.strip():
        return []
    return [_term(part, kind) for part in re.split(r"\s+AND\s+", text.strip())]


def _term(text: str, kind: DataType) -> Term:
    match = _TERM.match(text)
    if match is None:
        raise invalid_argument(f"Invalid filter: {text!r}.", "INVALID_FILTER_FORMAT")
    prefix, member, op, literal = match.groups()
    if prefix != kind.snake:
        raise invalid_argument(
            f"Filter field {prefix!r} does not name the data type {kind.snake!r}.",
            "INVALID_DATA_POINT_FILTER_DATA_TYPE",
        )
    known = MEMBERS[kind.shape].get(member)
    if known is None:
        raise invalid_argument(
            f"{kind.snake}.{member} cannot be filtered on for this data type.",
            "INVALID_DATA_POINT_FILTER_DATA_TYPE_MEMBER",
        )
    physical, end = known
    return Term(physical, end == "end", op, _literal(literal, physical))


def _literal(text: str, physical: bool) -> datetime:
    try:
        if physical:
            if not re.search(r"(Z|[+-]\d\d:\d\d)$", text):
                raise ValueError(text)
            return datetime.fromisoformat(text).astimezone(UTC)
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            return datetime.combine(date.fromisoformat(text), datetime.min.time())
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}", text):
            return datetime.fromisoformat(text)
        raise ValueError(text)
    except ValueError as exc:
        raise invalid_argument(f"Invalid time literal {text!r}.", "INVALID_FILTER_FORMAT") from exc


def date_bounds(terms: list[Term], to_local: timedelta) -> tuple[date | None, date | None]:
    """The local dates a query can touch (a day of slack either side of physical bounds)."""
    low: date | None = None
    high: date | None = None
    for term in terms:
        local = (term.value + to_local).replace(tzinfo=None) if term.physical else term.value
        slack = timedelta(days=1 if term.physical or term.end else 0)
        if term.op == ">=":
            day = (local - slack - timedelta(days=1 if term.end else 0)).date()
            low = day if low is None else max(low, day)
        else:
            day = (local + slack).date()
            high = day if high is None else min(high, day)
    return low, high


def check_range(terms: list[Term]) -> None:
    lows = [t.value for t in terms if t.op == ">="]
    highs = [t.value for t in terms if t.op == "<"]
    for low in lows:
        for high in highs:
            if type(low.tzinfo) is type(high.tzinfo) and low >= high:
                raise GoogleError(
                    400, "The filter's time range is empty.", reason="INVALID_TIME_RANGE"
                )
