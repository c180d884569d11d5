"""The health data resources, over rows the store wrote from the recorded Fitbit examples.

Two people hold every example's rows; the first also holds a copy a day later whose log ids
lie above 2**63 (`UNSIGNED_64_MAX - id`), where a signed BIGINT or a JSON number would fail.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from service.api.documents import jsonable
from service.api.params import UNSIGNED_64_MAX
from service.api.resources import RESOURCES
from service.providers import rows as kinds
from service.providers.fitbit import records
from service.providers.rows import DayData
from service.store import data
from service.store.db import session_factory
from tests import examples
from tests.integration.api import rows

TYPES: dict[str, type[kinds.Row]] = {
    "activity-summaries": kinds.ActivitySummary,
    "activity-logs": kinds.ActivityLog,
    "sleep-logs": kinds.SleepLog,
    "weight-logs": kinds.WeightLog,
    "body-fat-logs": kinds.BodyFatLog,
    "food-logs": kinds.FoodLog,
    "nutrition-summaries": kinds.NutritionSummary,
    "water-logs": kinds.WaterLog,
    "water-summaries": kinds.WaterSummary,
}
LOGS = [type_ for type_, kind in TYPES.items() if hasattr(kind, "log_id")]
SORTABLE = {r.type: r.sortable for r in RESOURCES if r.type in TYPES}
OFFSETS = {"228TQ4": -8 * 3600 * 1000, "BBBBBB": 3600 * 1000}  # Los Angeles, Berlin (winter)
LATER = dt.timedelta(days=1)
ALL = "page[size]=500"

Key = tuple[str, str, str | None, str | None]  # user, date, log id, source
Where = Callable[["Stored"], bool]


@dataclass(frozen=True)
class Stored:
    user_id: int
    owner: str
    row: kinds.Row

    @property
    def key(self) -> Key:
        log_id, source = getattr(self.row, "log_id", None), getattr(self.row, "source", None)
        return (str(self.user_id), self.row.date.isoformat(), _text(log_id), source)

    def attributes(self) -> dict[str, Any]:
        """The row's fields as the API shows them."""
        shown = {f.name: jsonable(getattr(self.row, f.name)) for f in dataclasses.fields(self.row)}
        if "log_id" in shown:
            shown["log_id"] = str(shown["log_id"])
        return shown | {"provider": "fitbit", "utc_offset_ms": OFFSETS[self.owner]}


@dataclass(frozen=True)
class Data:
    users: dict[str, int]  # owner -> our user id
    stored: dict[str, list[Stored]]  # by resource type

    def keys(self, type_: str, where: Where = lambda s: True) -> set[Key]:
        return {s.key for s in self.stored[type_] if where(s)}


def _text(value: object) -> str | None:
    return None if value is None else str(value)


def later(row: kinds.Row) -> kinds.Row:
    """The row a day later, with a log id above 2**63."""
    changes: dict[str, Any] = {"date": row.date + LATER}
    for name in ("start_time", "end_time"):
        if getattr(row, name, None) is not None:
            changes[name] = getattr(row, name) + LATER
    if hasattr(row, "log_id"):
        changes["log_id"] = UNSIGNED_64_MAX - row.log_id
    return dataclasses.replace(row, **changes)


def example_days() -> Iterator[DayData]:
    """Every recorded example's rows, merged per date (one replace per date and kind)."""
    by_date: dict[dt.date, dict[type[kinds.Row], list[kinds.Row]]] = defaultdict(dict)
    for name, (endpoint, date) in examples.DATA.items():
        records.merge(by_date[date], records.parse(endpoint, date, examples.load(name)))
    for date, tables in sorted(by_date.items()):
        unique = {
            kind: list({_natural(r): r for r in found}.values()) for kind, found in tables.items()
        }
        yield DayData(date, unique)


def _natural(row: kinds.Row) -> tuple[Any, ...]:
    return (row.date, getattr(row, "log_id", None), getattr(row, "source", None))


@pytest.fixture
async def stored(db: AsyncEngine) -> Data:
    users = {owner: await rows.user(db, owner) for owner in OFFSETS}
    found: dict[str, list[Stored]] = defaultdict(list)
    by_kind = {kind: type_ for type_, kind in TYPES.items()}
    async with session_factory(db)() as session, session.begin():
        for owner, user_id in users.items():
            copies = [False, True] if owner == "228TQ4" else [False]
            for shifted in copies:
                for day in example_days():
                    tables = {
                        kind: [later(r) if shifted else r for r in found_rows]
                        for kind, found_rows in day.tables.items()
                    }
                    date = day.date + LATER if shifted else day.date
                    await data.replace_day(
                        session,
                        DayData(date, tables),
                        user_id=user_id,
                        provider="fitbit",
                        utc_offset_ms=OFFSETS[owner],
                    )
                    for kind, kind_rows in tables.items():
                        found[by_kind[kind]] += [Stored(user_id, owner, r) for r in kind_rows]
    assert set(found) == set(TYPES)
    return Data(users, dict(found))


def key_of(item: dict[str, Any]) -> Key:
    attributes = item["attributes"]
    user = item["relationships"]["user"]["data"]["id"]
    return (user, attributes["date"], attributes.get("log_id"), attributes.get("source"))


async def listed(v1: httpx.AsyncClient, type_: str, query: str = ALL) -> list[dict[str, Any]]:
    answer = await v1.get(f"/v1/{type_}?{query}")
    assert answer.status_code == 200, (type_, query, answer.text)
    document = answer.json()
    items: list[dict[str, Any]] = document["data"]
    if ALL in query:
        assert document["meta"]["count"] == len(items), (type_, query)
    return items


async def test_every_row_is_listed_with_its_typed_attributes(
    v1: httpx.AsyncClient, stored: Data
) -> None:
    for type_, rows_of_type in stored.stored.items():
        items = {key_of(item): item for item in await listed(v1, type_)}
        assert set(items) == stored.keys(type_), type_
        for row in rows_of_type:
            item = items[row.key]
            assert item["type"] == type_
            attributes = item["attributes"]
            expected = row.attributes()
            assert {name: attributes[name] for name in expected} == expected, (type_, row.key)
            dt.datetime.fromisoformat(attributes["synced_at"])
            user = item["relationships"]["user"]
            assert user["data"] == {"type": "users", "id": str(row.user_id)}
            assert (await v1.get(user["links"]["related"])).status_code == 200


async def test_one_is_got_as_it_is_listed(v1: httpx.AsyncClient, stored: Data) -> None:
    for type_ in TYPES:
        for item in await listed(v1, type_, "page[size]=3"):
            answer = await v1.get(item["links"]["self"])
            assert answer.status_code == 200, type_
            assert answer.json()["data"] == item
        missing = await v1.get(f"/v1/{type_}/999999999")
        assert missing.status_code == 404, type_


def filter_cases(first: int, second: int, low: dt.date, high: dt.date) -> dict[str, Where]:
    """Filters and which rows they keep, for two users and two dates (`low` < `high`)."""
    return {
        f"filter[user]={first}": lambda s: s.user_id == first,
        f"filter[user]={first},{second}": lambda s: True,
        "filter[owner]=BBBBBB": lambda s: s.user_id == second,
        "filter[owner]=NOBODY": lambda s: False,
        "filter[provider]=google-health": lambda s: False,
        f"filter[date]={low}": lambda s: s.row.date == low,
        f"filter[date]={low},{high}": lambda s: s.row.date in (low, high),
        f"filter[date][gte]={high}": lambda s: s.row.date >= high,
        f"filter[date][gt]={low}&filter[date][lte]={high}": lambda s: low < s.row.date <= high,
        f"filter[date][lte]={high}&filter[user]={second}": lambda s: (
            s.row.date <= high and s.user_id == second
        ),
    }


async def test_filters_by_user_owner_and_date(v1: httpx.AsyncClient, stored: Data) -> None:
    first, second = stored.users["228TQ4"], stored.users["BBBBBB"]
    for type_ in TYPES:
        dates = sorted({s.row.date for s in stored.stored[type_]})
        low, high = dates[0], dates[len(dates) // 2]
        assert low < high, type_
        for query, where in filter_cases(first, second, low, high).items():
            found = {key_of(item) for item in await listed(v1, type_, f"{query}&{ALL}")}
            assert found == stored.keys(type_, where), (type_, query)


async def test_logs_filter_by_log_id_and_start_time(v1: httpx.AsyncClient, stored: Data) -> None:
    for type_ in LOGS:
        row = stored.stored[type_][0].row
        log_id = str(row.log_id)  # type: ignore[union-attr]
        found = await listed(v1, type_, f"filter[log_id]={log_id}")
        assert {item["attributes"]["log_id"] for item in found} == {log_id}, type_
    for type_ in ("activity-logs", "sleep-logs"):
        starts = sorted(s.row.start_time for s in stored.stored[type_])  # type: ignore[union-attr]
        middle = starts[len(starts) // 2]
        found = await listed(v1, type_, f"filter[start_time][gte]={middle.isoformat()}&{ALL}")
        expected = {s.key for s in stored.stored[type_] if s.row.start_time >= middle}  # type: ignore[union-attr]
        assert {key_of(item) for item in found} == expected, type_


async def test_log_ids_above_2_63_are_exact_strings(v1: httpx.AsyncClient, stored: Data) -> None:
    for type_ in LOGS:
        biggest = max(s.row.log_id for s in stored.stored[type_])  # type: ignore[union-attr]
        assert biggest > 2**63, type_
        answer = await v1.get(f"/v1/{type_}?filter[log_id]={biggest}")
        found = answer.json()["data"]
        assert found, type_
        assert all(item["attributes"]["log_id"] == str(biggest) for item in found), type_
        assert f'"log_id":"{biggest}"' in answer.text, type_


async def test_times_have_their_utc_instants(v1: httpx.AsyncClient, stored: Data) -> None:
    utc = dt.timedelta(milliseconds=-OFFSETS["228TQ4"])  # UTC = local - offset
    user = f"filter[user]={stored.users['228TQ4']}&{ALL}"
    instants = {
        "activity-logs": [("start_time", "start_at")],
        "sleep-logs": [("start_time", "start_at"), ("end_time", "end_at")],
        "weight-logs": [("time", "measured_at")],
        "body-fat-logs": [("time", "measured_at")],
    }
    for type_, pairs in instants.items():
        items = await listed(v1, type_, user)
        assert items, type_
        checked = 0
        for item, (local_name, utc_name) in ((i, p) for i in items for p in pairs):
            attributes = item["attributes"]
            local = attributes[local_name]
            if local is None:
                assert attributes[utc_name] is None, (type_, item)
                continue
            if "T" not in local:  # a time of day, on the row's date
                local = f"{attributes['date']}T{local}"
            instant = dt.datetime.fromisoformat(local).replace(tzinfo=dt.UTC) + utc
            assert dt.datetime.fromisoformat(attributes[utc_name]) == instant, (type_, item)
            checked += 1
        assert checked >= len(items), type_


def _ordered(items: list[dict[str, Any]], field: str, descending: bool) -> list[str]:
    """`items` ordered as PostgreSQL orders them: NULLs last ascending, ties by id."""

    def key(item: dict[str, Any]) -> tuple[bool, str, int]:
        value = item["attributes"][field]
        return (value is None, value or "", int(item["id"]))

    ordered = sorted(items, key=key, reverse=descending)
    return [item["id"] for item in ordered]


async def test_sorts_on_every_sortable_field(v1: httpx.AsyncClient, stored: Data) -> None:
    for type_, sortable in SORTABLE.items():
        everything = await listed(v1, type_)
        assert [item["id"] for item in everything] == _ordered(everything, "date", False), type_
        assert {"date"} <= set(sortable)
        if type_ in ("activity-logs", "sleep-logs"):
            assert "start_time" in sortable
        for field in sortable:
            for descending in (False, True):
                sort = f"-{field}" if descending else field
                got = [item["id"] for item in await listed(v1, type_, f"sort={sort}&{ALL}")]
                if field == "id":
                    expected = sorted(got, key=int, reverse=descending)
                else:
                    expected = _ordered(everything, field, descending)
                assert got == expected, (type_, sort)


async def test_both_paging_strategies_walk_every_row(v1: httpx.AsyncClient, stored: Data) -> None:
    for type_ in TYPES:
        everything = [item["id"] for item in await listed(v1, type_, f"sort=-date&{ALL}")]
        for paging in ("page[size]=2", "page[limit]=2"):
            seen: list[str] = []
            url: str | None = f"/v1/{type_}?sort=-date&{paging}"
            while url:
                assert len(seen) <= len(everything), (type_, paging, "the walk does not end")
                page = (await v1.get(url)).json()
                assert page["meta"]["count"] == len(everything)
                seen += [item["id"] for item in page["data"]]
                url = page["links"].get("next")
            assert seen == everything, (type_, paging)


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ("filter[steps]=1", "filter[steps]"),
        ("filter[date]=21.11.2026", "filter[date]"),
        ("filter[date][ne]=2026-11-21", "filter[date][ne]"),
        ("filter[user]=me", "filter[user]"),
        ("sort=raw", "sort"),
    ],
)
async def test_a_bad_parameter_is_a_400_naming_it(
    v1: httpx.AsyncClient, query: str, parameter: str
) -> None:
    for type_ in TYPES:
        answer = await v1.get(f"/v1/{type_}?{query}")
        assert answer.status_code == 400, (type_, answer.text)
        (error,) = answer.json()["errors"]
        assert error["source"] == {"parameter": parameter}, type_


@pytest.mark.parametrize("log_id", ["18446744073709551616", "-1", "1e3", "١٢"])
async def test_a_log_id_outside_unsigned_64_bits_is_a_400(
    v1: httpx.AsyncClient, log_id: str
) -> None:
    for type_ in LOGS:
        answer = await v1.get(f"/v1/{type_}", params={"filter[log_id]": log_id})
        assert answer.status_code == 400, (type_, answer.text)
        assert answer.json()["errors"][0]["source"] == {"parameter": "filter[log_id]"}


async def test_openapi_describes_the_filters_and_log_ids_as_strings(
    api: httpx.AsyncClient,
) -> None:
    spec = (await api.get("/openapi.json")).json()
    for type_ in TYPES:
        operation = spec["paths"][f"/v1/{type_}"]["get"]
        names = {parameter["name"] for parameter in operation["parameters"]}
        wanted = {"filter[user]", "filter[owner]", "filter[date]", "filter[date][gte]"}
        assert wanted | {"filter[date][lte]", "page[limit]", "page[size]"} <= names, type_
        name = "".join(part.capitalize() for part in type_.split("-"))
        attributes = spec["components"]["schemas"][f"{name}Attributes"]["properties"]
        assert {"date", "utc_offset_ms", "raw", "synced_at"} <= set(attributes), type_
        if type_ in LOGS:
            shown = {option.get("type") for option in attributes["log_id"]["anyOf"]}
            assert shown == {"string", "null"}, type_
            (log_id,) = (p for p in operation["parameters"] if p["name"] == "filter[log_id]")
            assert log_id["schema"]["items"]["maximum"] == 2**64 - 1, type_
    assert {"start_at", "end_at"} <= set(
        spec["components"]["schemas"]["SleepLogsAttributes"]["properties"]
    )
