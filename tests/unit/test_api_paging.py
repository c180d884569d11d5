"""Paging parameters, links and cursors of the internal API: pure functions, from vectors."""

from __future__ import annotations

import base64
import datetime as dt
import json
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from service.api.paging import (
    Cursor,
    CursorError,
    CursorPage,
    ParameterError,
    SkipPage,
    decode_cursor,
    encode_cursor,
    parse_page,
    skip_links,
)


def parse(**params: str) -> SkipPage | CursorPage:
    named = {f"page[{name}]": value for name, value in params.items()}
    return parse_page(named, default=50, maximum=500)


def test_no_page_parameter_means_skip_paging_with_the_default_size() -> None:
    assert parse() == SkipPage(size=50, number=1)


def test_skip_parameters_choose_skip_paging() -> None:
    assert parse(size="10", number="3") == SkipPage(10, 3)
    assert parse(number="2") == SkipPage(50, 2)
    assert SkipPage(10, 3).offset == 20


def test_limit_or_after_choose_cursor_paging() -> None:
    assert parse(limit="20") == CursorPage(20)
    cursor = Cursor("-date", (dt.date(2026, 11, 20), 7))
    assert parse(limit="5", after=encode_cursor(cursor)) == CursorPage(5, cursor)
    assert parse(after=encode_cursor(cursor)) == CursorPage(50, cursor)


def test_zero_asks_for_the_count_only() -> None:
    assert parse(size="0") == SkipPage(0)
    assert parse(limit="0") == CursorPage(0)


@pytest.mark.parametrize(
    ("params", "parameter"),
    [
        ({"size": "-1"}, "page[size]"),
        ({"size": "+1"}, "page[size]"),
        ({"size": " 1"}, "page[size]"),
        ({"size": "1e2"}, "page[size]"),
        ({"size": "٣"}, "page[size]"),  # a digit, but not an ASCII one
        ({"size": "501"}, "page[size]"),
        ({"size": "9" * 30}, "page[size]"),
        ({"number": "0"}, "page[number]"),
        ({"number": "1234567890"}, "page[number]"),
        ({"limit": ""}, "page[limit]"),
        ({"limit": "501"}, "page[limit]"),
        ({"size": "1", "limit": "1"}, "page[limit]"),
        ({"number": "2", "after": "x"}, "page[after]"),
        ({"after": "%%%"}, "page[after]"),
        ({"cursor": "abc"}, "page[cursor]"),
    ],
)
def test_mistakes_name_the_parameter(params: dict[str, str], parameter: str) -> None:
    with pytest.raises(ParameterError) as raised:
        parse(**params)
    assert raised.value.parameter == parameter


def test_the_maximum_itself_is_allowed() -> None:
    assert parse(size="500") == SkipPage(500)


@pytest.mark.parametrize(
    ("page", "count", "expected"),
    [
        (SkipPage(10, 1), 25, {"first": 1, "last": 3, "prev": None, "next": 2}),
        (SkipPage(10, 2), 25, {"first": 1, "last": 3, "prev": 1, "next": 3}),
        (SkipPage(10, 3), 25, {"first": 1, "last": 3, "prev": 2, "next": None}),
        (SkipPage(10, 3), 30, {"first": 1, "last": 3, "prev": 2, "next": None}),
        (SkipPage(10, 1), 0, {"first": 1, "last": 1, "prev": None, "next": None}),
        (SkipPage(10, 7), 25, {"first": 1, "last": 3, "prev": 3, "next": None}),
    ],
)
def test_skip_links(page: SkipPage, count: int, expected: dict[str, int | None]) -> None:
    links = skip_links(page, count)
    assert {name: p.number if p else None for name, p in links.items()} == expected
    assert all(p.size == page.size for p in links.values() if p)


def test_page_parameters_round_trip() -> None:
    assert parse_page(SkipPage(7, 4).parameters(), default=1, maximum=9) == SkipPage(7, 4)
    cursor = Cursor("id", (3,))
    given_back = parse_page(CursorPage(7).parameters(encode_cursor(cursor)), default=1, maximum=9)
    assert given_back == CursorPage(7, cursor)


values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.text(),
    st.dates(),
    st.times(),
    st.datetimes(),  # a local time
    # As the driver gives timestamptz values. (Zones with DST are left out: Python never
    # finds an ambiguous wall time in one equal to the same instant at a fixed offset.)
    st.datetimes(timezones=st.just(dt.UTC)),
    st.decimals(allow_nan=False, allow_infinity=False),
)


@given(st.text(), st.lists(values, min_size=1, max_size=5))
def test_cursors_round_trip_every_value_type(sort: str, items: list[object]) -> None:
    cursor = Cursor(sort, tuple(items))  # type: ignore[arg-type]
    token = encode_cursor(cursor)
    assert decode_cursor(token) == cursor
    assert set(token) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def test_a_cursor_keeps_types_apart() -> None:
    moment = dt.datetime(2026, 11, 21, 8, tzinfo=dt.UTC)
    decoded = decode_cursor(encode_cursor(Cursor("x", (moment, moment.date(), "2026-11-21"))))
    assert [type(v) for v in decoded.values] == [dt.datetime, dt.date, str]
    assert decode_cursor(encode_cursor(Cursor("x", (Decimal("1.10"),)))).values == (
        Decimal("1.10"),
    )


def b64(document: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(document).encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "token",
    [
        "",
        "!!!",
        "A" * 5000,
        base64.urlsafe_b64encode(b"\xff\xfe").decode(),
        b64([1, 2]),
        b64({"s": "id"}),
        b64({"s": "id", "v": []}),
        b64({"s": 1, "v": [1]}),
        b64({"s": "id", "v": [1], "x": 1}),
        b64({"s": "id", "v": [[1]]}),
        b64({"s": "id", "v": [{"dt": "yesterday"}]}),
        b64({"s": "id", "v": [{"d": 20261121}]}),
        b64({"s": "id", "v": [{"n": "one"}]}),
        b64({"s": "id", "v": [{"q": "1"}]}),
        b64({"s": "id", "v": [{"d": "2026-11-21", "n": "1"}]}),
    ],
)
def test_anything_else_is_not_a_cursor(token: str) -> None:
    with pytest.raises(CursorError):
        decode_cursor(token)
