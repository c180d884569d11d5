"""The activity log list (`GET /1/user/-/activities/list.json`) and its paging.

Fitbit's rules: exactly one of `beforeDate` (with `sort=desc`) or `afterDate` (with
`sort=asc`), as `yyyy-MM-dd` or `yyyy-MM-ddTHH:mm:ss` in the user's local time; `limit` at
most 100; the answer's `pagination.next` holds the URL of the next page ("" at the end).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from urllib.parse import urlencode

from service.emulator.errors import validation
from service.emulator.generate import JSON

MAX_LIMIT = 100


@dataclass(frozen=True)
class ListQuery:
    bound_name: str  # "afterDate" or "beforeDate"
    bound_text: str  # as the caller wrote it, echoed in pagination
    bound: datetime
    sort: str
    limit: int
    offset: int

    @property
    def ascending(self) -> bool:
        return self.sort == "asc"


def parse(params: Mapping[str, str]) -> ListQuery:
    name, text = _bound_param(params)
    sort = params.get("sort", "")
    expected = "asc" if name == "afterDate" else "desc"
    if sort != expected:
        raise validation("sort", f"sort must be {expected} with {name}.")
    limit, offset = _integer(params, "limit"), _integer(params, "offset", default=0)
    if not 1 <= limit <= MAX_LIMIT:
        raise validation("limit", f"Invalid limit: {limit}. limit must be between 1 and 100.")
    return ListQuery(name, text, _bound(name, text), sort, limit, offset)


def _bound_param(params: Mapping[str, str]) -> tuple[str, str]:
    after, before = params.get("afterDate"), params.get("beforeDate")
    if after is not None and before is None:
        return "afterDate", after
    if before is not None and after is None:
        return "beforeDate", before
    raise validation("afterDate", "Either beforeDate or afterDate must be specified.")


def _integer(params: Mapping[str, str], name: str, default: int | None = None) -> int:
    text = params.get(name)
    if text is None and default is not None:
        return default
    if text is None or not text.isdigit():
        raise validation(name, f"Invalid {name}: {text}. It must be a non-negative integer.")
    return int(text)


def _bound(name: str, text: str) -> datetime:
    try:
        if len(text) == len("yyyy-mm-dd"):
            return datetime.combine(date.fromisoformat(text), datetime.min.time())
        return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S")  # noqa: DTZ007 - user-local, naive
    except ValueError as exc:
        raise validation(
            name, f"Invalid {name}: {text}. Use yyyy-MM-dd or yyyy-MM-ddTHH:mm:ss."
        ) from exc


def page(
    query: ListQuery, logs_of: Callable[[date], list[JSON]], first: date, last: date
) -> tuple[list[JSON], bool]:
    """This page's logs and whether another follows, scanning days from the bound outwards."""
    wanted = query.offset + query.limit + 1
    found: list[JSON] = []
    for day in _days(query, first, last):
        found.extend(_matching(query, logs_of(day)))
        if len(found) >= wanted:
            break
    return found[query.offset : query.offset + query.limit], len(found) > query.offset + query.limit


def _days(query: ListQuery, first: date, last: date) -> Iterator[date]:
    step = timedelta(days=1 if query.ascending else -1)
    day = max(query.bound.date(), first) if query.ascending else min(query.bound.date(), last)
    while first <= day <= last:
        yield day
        day += step


def _matching(query: ListQuery, logs: list[JSON]) -> list[JSON]:
    def local_start(log: JSON) -> datetime:
        return datetime.fromisoformat(log["startTime"]).replace(tzinfo=None)

    if query.ascending:
        kept = [log for log in logs if local_start(log) >= query.bound]
    else:
        kept = [log for log in logs if local_start(log) < query.bound]
    return sorted(kept, key=local_start, reverse=not query.ascending)


def pagination(query: ListQuery, url: str, has_more: bool) -> JSON:
    def link(offset: int) -> str:
        params = {"offset": offset, "limit": query.limit, "sort": query.sort}
        return f"{url}?{urlencode(params | {query.bound_name: query.bound_text})}"

    return {
        query.bound_name: query.bound_text,
        "limit": query.limit,
        "next": link(query.offset + query.limit) if has_more else "",
        "offset": query.offset,
        "previous": link(max(query.offset - query.limit, 0)) if query.offset else "",
        "sort": query.sort,
    }
