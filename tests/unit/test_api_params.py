"""Sort and filter parameters of the internal API: pure parsing, from vectors."""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass

import pytest

from service.api import params
from service.api.paging import CursorPage, ParameterError, SkipPage
from service.api.params import Condition, Limits, SortKey


@dataclass(frozen=True)
class Spec:
    name: str
    ranged: bool = False
    parser: object = params.word

    def parse(self, text: str) -> object:
        assert callable(self.parser)
        return self.parser(text)


FILTERS = [Spec("user", parser=params.integer), Spec("date", True, params.date), Spec("kind")]


def query(*items: tuple[str, str]) -> params.CollectionQuery:
    return params.parse_collection_query(
        items,
        sortable=("id", "date", "kind"),
        default_sort="id",
        filters=FILTERS,
        limits=Limits(default=20, maximum=100),
    )


def test_nothing_given_is_the_default_sort_and_page() -> None:
    assert query() == params.CollectionQuery((SortKey("id"),), (), SkipPage(20))


def test_a_whole_query() -> None:
    parsed = query(
        ("sort", "-date,kind"),
        ("filter[user]", "3,4"),
        ("filter[date][gte]", "2026-11-01"),
        ("page[limit]", "5"),
    )
    assert parsed.sort == (SortKey("date", descending=True), SortKey("kind"))
    assert parsed.sort_text == "-date,kind"
    assert parsed.conditions == (
        Condition("date", "gte", (dt.date(2026, 11, 1),)),
        Condition("user", "in", (3, 4)),
    )
    assert parsed.page == CursorPage(5)


@pytest.mark.parametrize(
    ("items", "parameter"),
    [
        ((("sort", "name"),), "sort"),
        ((("sort", "-"),), "sort"),
        ((("sort", "date,-date"),), "sort"),
        ((("sort", "id"), ("sort", "id")), "sort"),
        ((("filter[nobody]", "1"),), "filter[nobody]"),
        ((("filter[user]", "x"),), "filter[user]"),
        ((("filter[user]", "1,,2"),), "filter[user]"),
        ((("filter[user]", ",".join(["1"] * 101)),), "filter[user]"),
        ((("filter[user][gte]", "1"),), "filter[user][gte]"),
        ((("filter[date][like]", "2026-11-01"),), "filter[date][like]"),
        ((("filter[date][gte]", "2026-11-01,2026-11-02"),), "filter[date][gte]"),
        ((("filter[date][gte][x]", "1"),), "filter[date][gte][x]"),
        ((("filter[kind]", ""),), "filter[kind]"),
        ((("filter", "1"),), "filter"),
        ((("include", "user"),), "include"),
        ((("fields[x]", "a"),), "fields[x]"),
        ((("q", "1"),), "q"),
        ((("page[size]", "x"),), "page[size]"),
    ],
)
def test_mistakes_name_the_parameter(items: tuple[tuple[str, str], ...], parameter: str) -> None:
    with pytest.raises(ParameterError) as raised:
        query(*items)
    assert raised.value.parameter == parameter


def test_the_id_makes_every_sort_total_in_the_last_fields_direction() -> None:
    assert params.keyset_fields([SortKey("date")]) == (SortKey("date"), SortKey("id"))
    assert params.keyset_fields([SortKey("kind"), SortKey("date", True)]) == (
        SortKey("kind"),
        SortKey("date", True),
        SortKey("id", True),
    )
    assert params.keyset_fields([SortKey("id", True)]) == (SortKey("id", True),)


class Colour(enum.StrEnum):
    RED = "red"


@pytest.mark.parametrize(
    ("parse", "text", "value"),
    [
        (params.integer, "42", 42),
        (params.unsigned_64, "18446744073709551615", 2**64 - 1),
        (params.unsigned_64, "0", 0),
        (params.date, "2026-11-21", dt.date(2026, 11, 21)),
        (params.timestamp, "2026-11-21T08:00:00Z", dt.datetime(2026, 11, 21, 8, tzinfo=dt.UTC)),
        (params.one_of(Colour), "red", "red"),
        (params.word, "x", "x"),
    ],
)
def test_value_parsers(parse: object, text: str, value: object) -> None:
    assert callable(parse)
    assert parse(text) == value


@pytest.mark.parametrize(
    ("parse", "text"),
    [
        (params.integer, "-1"),
        (params.integer, "1.0"),
        (params.integer, "9" * 19),
        (params.unsigned_64, "18446744073709551616"),  # 2**64
        (params.unsigned_64, "-1"),
        (params.unsigned_64, "١٢"),  # digits, but not ASCII ones
        (params.date, "2026-11-31"),
        (params.date, "20261121"),
        (params.timestamp, "2026-11-21T08:00:00"),  # no offset: which 8 o'clock?
        (params.timestamp, "2026-11-21T08:00:00 01:00"),  # a + lost to form decoding
        (params.one_of(Colour), "blue"),
        (params.word, ""),
        (params.word, "a\x00b"),  # PostgreSQL text holds no NUL
    ],
)
def test_value_parsers_refuse(parse: object, text: str) -> None:
    assert callable(parse)
    with pytest.raises(ValueError):  # noqa: PT011 - any ValueError becomes a 400
        parse(text)
