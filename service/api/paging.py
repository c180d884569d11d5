"""Paging of collections, as the Fitbit Plus API describes it, in JSON:API `page[...]` terms.

Skip-based: `page[size]` and `page[number]`, the default; links to first, last, prev, next.
Cursor-based: `page[limit]` and `page[after]`, chosen by either parameter; a `next` link only
when there is a next page. The cursor is the position after the last row sent: the values of
the sort keys and the id of that row, so rows inserted while a client iterates can neither
repeat nor push rows out of its walk. Pure functions: no web framework, no database.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

PAGE_SIZE = "page[size]"
PAGE_NUMBER = "page[number]"
PAGE_LIMIT = "page[limit]"
PAGE_AFTER = "page[after]"
SKIP_PARAMETERS = (PAGE_SIZE, PAGE_NUMBER)
CURSOR_PARAMETERS = (PAGE_LIMIT, PAGE_AFTER)

# Offsets beyond this would overflow PostgreSQL's bigint long before they are useful.
MAX_INTEGER = 999_999_999  # page numbers and sizes have at most 9 digits
_DIGITS = re.compile(r"[0-9]{1,9}")
_MAX_CURSOR_CHARS = 4096

CursorValue = None | bool | int | float | str | Decimal | dt.date | dt.datetime | dt.time


class ParameterError(ValueError):
    """A query parameter the client got wrong; `parameter` names it for `source.parameter`."""

    def __init__(self, parameter: str, detail: str) -> None:
        super().__init__(f"{parameter}: {detail}")
        self.parameter = parameter
        self.detail = detail


class CursorError(ValueError):
    """A `page[after]` value that is not a cursor this service made."""


@dataclass(frozen=True, slots=True)
class Cursor:
    sort: str  # the `sort` the cursor was made for: positions under another order mean nothing
    values: tuple[CursorValue, ...]


@dataclass(frozen=True, slots=True)
class SkipPage:
    size: int
    number: int = 1

    @property
    def offset(self) -> int:
        return (self.number - 1) * self.size

    def parameters(self) -> dict[str, str]:
        return {PAGE_SIZE: str(self.size), PAGE_NUMBER: str(self.number)}


@dataclass(frozen=True, slots=True)
class CursorPage:
    limit: int
    after: Cursor | None = None

    def parameters(self, cursor: str | None = None) -> dict[str, str]:
        after = {PAGE_AFTER: cursor} if cursor else {}
        return {PAGE_LIMIT: str(self.limit), **after}


Page = SkipPage | CursorPage


def parse_page(params: Mapping[str, str], *, default: int, maximum: int) -> Page:
    """The paging a client asked for, from its `page[...]` parameters (names as given)."""
    for name in params:
        if name not in SKIP_PARAMETERS + CURSOR_PARAMETERS:
            raise ParameterError(
                name,
                "unknown paging parameter; use page[size] and "
                "page[number], or page[limit] and page[after]",
            )
    skip = [name for name in SKIP_PARAMETERS if name in params]
    cursor = [name for name in CURSOR_PARAMETERS if name in params]
    if skip and cursor:
        raise ParameterError(
            cursor[0],
            f"cannot be combined with {skip[0]}: skip-based and "
            "cursor-based paging are different strategies; use one",
        )
    if cursor:
        limit = _size(params, PAGE_LIMIT, default, maximum)
        return CursorPage(limit, _after(params.get(PAGE_AFTER)))
    number = _integer(PAGE_NUMBER, params[PAGE_NUMBER], 1) if PAGE_NUMBER in params else 1
    return SkipPage(_size(params, PAGE_SIZE, default, maximum), number)


def skip_links(page: SkipPage, count: int) -> dict[str, SkipPage | None]:
    """The pages around `page` of a collection of `count` items; None where there is none."""
    last = max(1, math.ceil(count / page.size))
    return {
        "first": SkipPage(page.size, 1),
        "last": SkipPage(page.size, last),
        "prev": SkipPage(page.size, min(page.number - 1, last)) if page.number > 1 else None,
        "next": SkipPage(page.size, page.number + 1) if page.number < last else None,
    }


def encode_cursor(cursor: Cursor) -> str:
    """An opaque, URL-safe token for `cursor`."""
    document = {"s": cursor.sort, "v": [_tag(value) for value in cursor.values]}
    raw = json.dumps(document, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def decode_cursor(token: str) -> Cursor:
    """The cursor `encode_cursor` made, or CursorError for anything else."""
    if not token or len(token) > _MAX_CURSOR_CHARS:
        raise CursorError("not a cursor")
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        document = json.loads(raw)
    except (binascii.Error, ValueError) as exc:
        raise CursorError("not a cursor") from exc
    if not isinstance(document, dict) or set(document) != {"s", "v"}:
        raise CursorError("not a cursor")
    sort, values = document["s"], document["v"]
    if not isinstance(sort, str) or not isinstance(values, list) or not values:
        raise CursorError("not a cursor")
    return Cursor(sort, tuple(_untag(value) for value in values))


def _size(params: Mapping[str, str], name: str, default: int, maximum: int) -> int:
    size = _integer(name, params[name], 0) if name in params else default
    if size > maximum:
        raise ParameterError(name, f"must be at most {maximum}")
    return size


def _integer(name: str, text: str, minimum: int) -> int:
    if not _DIGITS.fullmatch(text) or int(text) < minimum:
        raise ParameterError(name, f"must be an integer of at least {minimum}, not {text!r}")
    return int(text)


def _after(token: str | None) -> Cursor | None:
    if token is None:
        return None
    try:
        return decode_cursor(token)
    except CursorError as exc:
        raise ParameterError(
            PAGE_AFTER, "malformed cursor; use the links.next URL as given"
        ) from exc


# JSON has no dates or decimals: such values travel as one-key objects naming their type.
_TAGS: dict[str, Any] = {
    "dt": dt.datetime.fromisoformat,
    "d": dt.date.fromisoformat,
    "t": dt.time.fromisoformat,
    "n": Decimal,
}


def _tag(value: CursorValue) -> object:
    if isinstance(value, dt.datetime):
        return {"dt": value.isoformat()}
    if isinstance(value, dt.date):
        return {"d": value.isoformat()}
    if isinstance(value, dt.time):
        return {"t": value.isoformat()}
    if isinstance(value, Decimal):
        return {"n": str(value)}
    return value


def _untag(value: object) -> CursorValue:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, dict) and len(value) == 1:
        ((tag, text),) = value.items()
        if tag in _TAGS and isinstance(text, str):
            try:
                result: CursorValue = _TAGS[tag](text)
            except (ValueError, InvalidOperation) as exc:
                raise CursorError("not a cursor") from exc
            return result
    raise CursorError("not a cursor")
