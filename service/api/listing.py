"""Reading a resource's rows: conditions, order, skip or keyset paging, and the total count.

Keyset paging compares the sort keys of each row with the cursor's values lexicographically,
the id breaking ties, so a row lands on exactly one page however many rows arrive meanwhile.
NULLs sort last ascending and first descending (PostgreSQL's own default, so indexes apply).
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, RowMapping, and_, false, func, literal, or_, select, tuple_
from sqlalchemy.ext.asyncio import AsyncConnection

from service.api.paging import PAGE_AFTER, Cursor, CursorPage, ParameterError, SkipPage
from service.api.params import ID, CollectionQuery, Condition, SortKey, keyset_fields
from service.api.resource import Resource, nullable, python_type


@dataclass(frozen=True, slots=True)
class Rows:
    rows: Sequence[RowMapping]
    count: int
    next_after: Cursor | None = None  # cursor paging only: where the next page starts


@dataclass(frozen=True, slots=True)
class _Key:
    expression: ColumnElement[Any]
    descending: bool
    nullable: bool


async def read_page(conn: AsyncConnection, resource: Resource, query: CollectionQuery) -> Rows:
    start = position(resource, query)
    where = conditions(resource, query.conditions)
    counting = select(func.count()).select_from(resource.source).where(*where)
    count = int(await conn.scalar(counting) or 0)
    page = query.page
    size = page.size if isinstance(page, SkipPage) else page.limit
    if size == 0:
        return Rows((), count)
    keys = _keys(resource, query)
    statement = resource.select().where(*where).order_by(*(_order(key) for key in keys))
    if isinstance(page, SkipPage):
        result = await conn.execute(statement.offset(page.offset).limit(size))
        return Rows(result.mappings().all(), count)
    if start is not None:
        statement = statement.where(_after(keys, start))
    rows, after = await _keyset_page(conn, statement, page.limit, query)
    return Rows(rows, count, after)


async def read_one(conn: AsyncConnection, resource: Resource, id_: object) -> RowMapping | None:
    result = await conn.execute(resource.select().where(resource.expression(ID) == id_))
    row: RowMapping | None = result.mappings().first()
    return row


def conditions(resource: Resource, given: Sequence[Condition]) -> list[ColumnElement[bool]]:
    filters = {f.name: f for f in resource.filters}
    return [filters[c.name].where(c.operator, c.values) for c in given]


def position(resource: Resource, query: CollectionQuery) -> list[Any] | None:
    """Where a cursor page starts: the cursor's values, checked against this query and typed
    as its columns are (else a 400 for page[after]); None when there is no cursor."""
    page = query.page
    if not isinstance(page, CursorPage) or page.after is None:
        return None
    cursor, keys = page.after, _keys(resource, query)
    if cursor.sort != query.sort_text:
        raise ParameterError(PAGE_AFTER, f"this cursor belongs to sort={cursor.sort}")
    if len(cursor.values) != len(keys):
        raise ParameterError(PAGE_AFTER, "malformed cursor")
    return [_typed(key, value) for key, value in zip(keys, cursor.values, strict=True)]


async def _keyset_page(
    conn: AsyncConnection, statement: Any, limit: int, query: CollectionQuery
) -> tuple[Sequence[RowMapping], Cursor | None]:
    # One row more than asked tells whether a next page exists without a second query.
    rows = (await conn.execute(statement.limit(limit + 1))).mappings().all()
    if len(rows) <= limit:
        return rows, None
    last = rows[limit - 1]
    values = tuple(last[key.field] for key in keyset_fields(query.sort))
    return rows[:limit], Cursor(query.sort_text, values)


def _keys(resource: Resource, query: CollectionQuery) -> list[_Key]:
    return [_key(resource, field) for field in keyset_fields(query.sort)]


def _key(resource: Resource, sort: SortKey) -> _Key:
    expression = resource.expression(sort.field)
    return _Key(expression, sort.descending, nullable(expression))


def _order(key: _Key) -> Any:
    ordered = key.expression.desc() if key.descending else key.expression.asc()
    if not key.nullable:
        return ordered
    return ordered.nulls_first() if key.descending else ordered.nulls_last()


def _after(keys: Sequence[_Key], values: Sequence[Any]) -> ColumnElement[bool]:
    """Rows strictly after `values` in the order of `keys`."""
    directions = {key.descending for key in keys}
    if len(directions) == 1 and not any(key.nullable for key in keys):
        # The common case, in the form PostgreSQL matches to a multicolumn index.
        row = tuple_(*(key.expression for key in keys))
        bound = tuple_(
            *(literal(v, key.expression.type) for key, v in zip(keys, values, strict=True))
        )
        return row < bound if keys[0].descending else row > bound
    branches = []
    for i, key in enumerate(keys):
        same = [_equal(k, v) for k, v in zip(keys[:i], values[:i], strict=True)]
        branches.append(and_(*same, _beyond(key, values[i])))
    return or_(*branches)


def _equal(key: _Key, value: Any) -> ColumnElement[bool]:
    return key.expression.is_(None) if value is None else key.expression == value


def _beyond(key: _Key, value: Any) -> ColumnElement[bool]:
    if key.descending:  # NULLs come first, so every non-NULL value is beyond a NULL
        return key.expression.is_not(None) if value is None else key.expression < value
    if value is None:  # NULLs come last: nothing is beyond them
        return false()
    return (
        or_(key.expression > value, key.expression.is_(None))
        if key.nullable
        else (key.expression > value)
    )


def _typed(key: _Key, value: Any) -> Any:
    """A cursor value as the column's Python type; anything else would fail in the driver."""
    kind = python_type(key.expression)
    if value is None:
        if key.nullable:
            return None
    elif kind is not None and issubclass(kind, enum.Enum):
        if isinstance(value, str) and value in {member.value for member in kind}:
            return kind(value)
    elif kind is not None and _conforms(value, kind, key.expression.type):
        return value
    raise ParameterError(PAGE_AFTER, "malformed cursor")


def _conforms(value: Any, kind: type[Any], sql_type: Any) -> bool:
    if isinstance(value, bool) and kind is not bool:  # a bool is an int, in Python
        return False
    if kind is dt.datetime:  # an aware time for a timestamptz, a naive one for a local time
        aware = bool(getattr(sql_type, "timezone", False))
        return isinstance(value, dt.datetime) and (value.tzinfo is not None) == aware
    if kind is dt.date:  # a datetime is a date, in Python
        return type(value) is dt.date
    if kind in (Decimal, float):  # numbers travel as exactly as JSON carries them
        return isinstance(value, int | float | Decimal)
    return isinstance(value, kind)
