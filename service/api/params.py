"""Query parameters of collection endpoints: JSON:API `sort`, `filter[...]` and `page[...]`.

JSON:API 1.0 requires a 400 for a parameter the server does not understand, so everything a
client sends is accounted for here, and every mistake names its parameter. Pure functions.
"""

from __future__ import annotations

import datetime as dt
import enum
import re
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from service.api.paging import Page, ParameterError, parse_page

SORT = "sort"
RANGE_OPERATORS = ("gt", "gte", "lt", "lte")
MAX_FILTER_VALUES = 100
UNSIGNED_64_MAX = 2**64 - 1
ID = "id"

_FILTER = re.compile(r"filter\[([^\[\]]+)\](?:\[([^\[\]]+)\])?")
_UNSUPPORTED = {"include": "compound documents", "fields": "sparse fieldsets"}


class FilterSyntax(Protocol):
    """What parsing needs to know of a filter: its name, whether it takes ranges, its values."""

    @property
    def name(self) -> str: ...

    @property
    def ranged(self) -> bool: ...

    def parse(self, text: str) -> object: ...


@dataclass(frozen=True, slots=True)
class SortKey:
    field: str
    descending: bool = False

    def __str__(self) -> str:
        return f"-{self.field}" if self.descending else self.field


@dataclass(frozen=True, slots=True)
class Condition:
    name: str
    operator: str  # "in", or one of RANGE_OPERATORS
    values: tuple[object, ...]


@dataclass(frozen=True, slots=True)
class CollectionQuery:
    sort: tuple[SortKey, ...]
    conditions: tuple[Condition, ...]
    page: Page

    @property
    def sort_text(self) -> str:
        return ",".join(str(key) for key in self.sort)


@dataclass(frozen=True, slots=True)
class Limits:
    default: int
    maximum: int


def parse_collection_query(
    items: Iterable[tuple[str, str]],
    *,
    sortable: Collection[str],
    default_sort: str,
    filters: Sequence[FilterSyntax],
    limits: Limits,
) -> CollectionQuery:
    """A collection request's query string, checked whole: anything not understood is an error."""
    params = unique(items)
    pages = {name: value for name, value in params.items() if name.startswith("page[")}
    filtering = {name: value for name, value in params.items() if name.startswith("filter[")}
    for name in params.keys() - pages.keys() - filtering.keys() - {SORT}:
        raise unknown_parameter(name)
    sort = parse_sort(params.get(SORT, default_sort), sortable)
    page = parse_page(pages, default=limits.default, maximum=limits.maximum)
    return CollectionQuery(sort, parse_filters(filtering, filters), page)


def unique(items: Iterable[tuple[str, str]]) -> dict[str, str]:
    """Parameters by name; a name given twice is ambiguous, so it is an error."""
    params: dict[str, str] = {}
    for name, value in items:
        if name in params:
            raise ParameterError(name, "given more than once")
        params[name] = value
    return params


def unknown_parameter(name: str) -> ParameterError:
    family = name.split("[", 1)[0]
    if family in _UNSUPPORTED:
        return ParameterError(name, f"{_UNSUPPORTED[family]} are not supported")
    return ParameterError(name, "unknown query parameter")


def parse_sort(text: str, sortable: Collection[str]) -> tuple[SortKey, ...]:
    """`field,-field` into keys; every field must be one the resource documents as sortable."""
    keys = tuple(_sort_key(part, sortable) for part in text.split(","))
    if len({key.field for key in keys}) != len(keys):
        raise ParameterError(SORT, "a field appears more than once")
    return keys


def keyset_fields(sort: Sequence[SortKey]) -> tuple[SortKey, ...]:
    """The sort, made total by the id: equal sort values would otherwise leave rows unordered."""
    if any(key.field == ID for key in sort):
        return tuple(sort)
    return (*sort, SortKey(ID, sort[-1].descending if sort else False))


def parse_filters(
    params: Mapping[str, str], filters: Sequence[FilterSyntax]
) -> tuple[Condition, ...]:
    by_name = {f.name: f for f in filters}
    return tuple(_condition(name, value, by_name) for name, value in sorted(params.items()))


def _sort_key(part: str, sortable: Collection[str]) -> SortKey:
    field = part.removeprefix("-")
    if field not in sortable:
        raise ParameterError(SORT, f"cannot sort by {field!r}; sortable: {', '.join(sortable)}")
    return SortKey(field, part.startswith("-"))


def _condition(param: str, text: str, filters: Mapping[str, FilterSyntax]) -> Condition:
    match = _FILTER.fullmatch(param)
    spec = filters.get(match.group(1)) if match else None
    if match is None or spec is None:
        names = ", ".join(f"filter[{name}]" for name in filters) or "none"
        raise ParameterError(param, f"unknown filter; filters: {names}")
    operator = match.group(2) or "in"
    if operator != "in" and (not spec.ranged or operator not in RANGE_OPERATORS):
        allowed = ", ".join(RANGE_OPERATORS) if spec.ranged else "none"
        raise ParameterError(param, f"unknown operator {operator!r}; operators: {allowed}")
    texts = text.split(",") if operator == "in" else [text]
    if len(texts) > MAX_FILTER_VALUES:
        raise ParameterError(param, f"at most {MAX_FILTER_VALUES} values")
    return Condition(spec.name, operator, tuple(_value(param, spec, t) for t in texts))


def _value(param: str, spec: FilterSyntax, text: str) -> object:
    try:
        return spec.parse(text)
    except ValueError as exc:
        raise ParameterError(param, f"{text!r} is not valid: {exc}") from exc


# -- value parsers for filters --------------------------------------------------------------


def integer(text: str) -> int:
    if not re.fullmatch(r"[0-9]{1,18}", text):
        raise ValueError("expected a non-negative integer")
    return int(text)


def unsigned_64(text: str) -> int:
    """A provider's log id: unsigned 64-bit, beyond `integer` (and a signed BIGINT)."""
    if not re.fullmatch(r"[0-9]{1,20}", text) or int(text) > UNSIGNED_64_MAX:
        raise ValueError("expected an unsigned 64-bit integer")
    return int(text)


def word(text: str) -> str:
    # PostgreSQL text cannot hold NUL, so comparing with one fails in the database.
    if not text or "\x00" in text:
        raise ValueError("expected a non-empty value without NUL characters")
    return text


def date(text: str) -> dt.date:
    if not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", text):
        raise ValueError("expected a date, YYYY-MM-DD")
    return dt.date.fromisoformat(text)


def timestamp(text: str) -> dt.datetime:
    """An ISO 8601 date and time with its UTC offset: without one, an instant is ambiguous."""
    try:
        value = dt.datetime.fromisoformat(text)
    except ValueError:
        value = None
    if value is None or value.tzinfo is None:
        raise ValueError(
            "expected an ISO 8601 time with its offset, e.g. 2026-11-21T08:00:00Z "
            "(write + as %2B in a URL)"
        )
    return value


def local_timestamp(text: str) -> dt.datetime:
    """An ISO 8601 date and time without offset, for columns of a person's local time."""
    try:
        value = dt.datetime.fromisoformat(text)
    except ValueError:
        value = None
    if value is None or value.tzinfo is not None:
        raise ValueError("expected a local ISO 8601 time without offset, e.g. 2026-11-21T08:00")
    return value


@dataclass(frozen=True, slots=True)
class OneOf:
    """A parser accepting the values of an enum, which it keeps so the API can document them."""

    values: tuple[str, ...]

    def __call__(self, text: str) -> str:
        if text not in self.values:
            raise ValueError(f"expected one of {', '.join(self.values)}")
        return text


def one_of(kind: type[enum.StrEnum]) -> OneOf:
    return OneOf(tuple(member.value for member in kind))
