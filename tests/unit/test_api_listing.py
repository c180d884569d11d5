"""Cursor positions against column types: a cursor value reaches SQL only as its column's type.

A synthetic table stands for the kinds of columns resources have (aware and local times,
dates, times of day, exact numbers, enums), so no database is needed.
"""

from __future__ import annotations

import datetime as dt
import enum
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Enum,
    MetaData,
    Numeric,
    Table,
    Time,
)

from service.api import listing
from service.api.paging import Cursor, CursorPage, ParameterError, SkipPage
from service.api.params import CollectionQuery, parse_sort
from service.api.resource import Attribute, Resource


class Colour(enum.StrEnum):
    RED = "red"


THINGS = Table(
    "thing",
    MetaData(),
    Column("id", BigInteger, primary_key=True),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("local", DateTime(timezone=False)),
    Column("day", Date),
    Column("clock", Time),
    Column("amount", Numeric(20, 0)),
    Column("colour", Enum(Colour)),
    Column("flag", Boolean),
)
FIELDS = ("at", "local", "day", "clock", "amount", "colour", "flag")
RESOURCE = Resource(
    type="things",
    source=THINGS,
    id=THINGS.c.id,
    attributes={name: Attribute(THINGS.c[name]) for name in FIELDS},
    sortable=("id", *FIELDS),
)
AWARE = dt.datetime(2026, 11, 21, 8, tzinfo=dt.UTC)
NAIVE = dt.datetime(2026, 11, 21, 8)  # noqa: DTZ001 - a local time on purpose


def position(sort: str, values: tuple[Any, ...], cursor_sort: str | None = None) -> list[Any]:
    query = CollectionQuery(
        parse_sort(sort, RESOURCE.sortable), (), CursorPage(5, Cursor(cursor_sort or sort, values))
    )
    result = listing.position(RESOURCE, query)
    assert result is not None
    return result


@pytest.mark.parametrize(
    ("sort", "values", "typed"),
    [
        ("at", (AWARE, 1), [AWARE, 1]),
        ("local", (NAIVE, 1), [NAIVE, 1]),
        ("day", (dt.date(2026, 11, 21), 1), [dt.date(2026, 11, 21), 1]),
        ("day", (None, 1), [None, 1]),
        ("clock", (dt.time(7, 30), 1), [dt.time(7, 30), 1]),
        ("amount", (2**64 - 1, 1), [2**64 - 1, 1]),
        ("amount", (Decimal(5), 1), [Decimal(5), 1]),
        ("colour", ("red", 1), [Colour.RED, 1]),
        ("flag", (True, 1), [True, 1]),
        ("-id", (9,), [9]),
    ],
)
def test_values_of_the_columns_type_pass(
    sort: str, values: tuple[Any, ...], typed: list[Any]
) -> None:
    assert position(sort, values) == typed


@pytest.mark.parametrize(
    ("sort", "values", "cursor_sort"),
    [
        ("at", (NAIVE, 1), None),  # which 8 o'clock?
        ("local", (AWARE, 1), None),
        ("at", (None, 1), None),  # the column is NOT NULL
        ("day", (AWARE, 1), None),
        ("day", ("2026-11-21", 1), None),
        ("amount", ("5", 1), None),
        ("colour", ("blue", 1), None),
        ("id", (True,), None),
        ("id", (1.5,), None),
        ("id", (1, 2), None),
        ("at", (AWARE, 1), "-at"),
        ("at,id", (AWARE, 1), "at"),
    ],
)
def test_anything_else_is_a_malformed_cursor(
    sort: str, values: tuple[Any, ...], cursor_sort: str | None
) -> None:
    with pytest.raises(ParameterError) as raised:
        position(sort, values, cursor_sort)
    assert raised.value.parameter == "page[after]"


def test_no_cursor_no_position() -> None:
    sort = parse_sort("id", RESOURCE.sortable)
    assert listing.position(RESOURCE, CollectionQuery(sort, (), CursorPage(5))) is None
    assert listing.position(RESOURCE, CollectionQuery(sort, (), SkipPage(5))) is None


def test_mistakes_in_a_description_fail_when_it_is_made() -> None:
    with pytest.raises(ValueError, match="reserves"):
        Resource("x", THINGS, THINGS.c.id, {"type": Attribute(THINGS.c.flag)})
    with pytest.raises(ValueError, match="not attributes"):
        Resource("x", THINGS, THINGS.c.id, {}, sortable=("flag",))
    with pytest.raises(ValueError, match="scope"):
        Resource("x", THINGS, THINGS.c.id, {}, scope="admin")
