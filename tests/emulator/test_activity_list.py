"""The activity log list: Fitbit's parameter rules and paging by `pagination.next`."""

from __future__ import annotations

import datetime as dt
from typing import Any

import httpx
import pytest

from tests.emulator.emulator_support import NOW, BearerFactory

LIST = "/1/user/-/activities/list.json"


def local_start(log: dict[str, Any]) -> dt.datetime:
    return dt.datetime.fromisoformat(log["startTime"]).replace(tzinfo=None)


async def daily_log_ids(
    fitbit: httpx.AsyncClient, headers: dict[str, str], first: dt.date
) -> list[int]:
    ids, day = [], first
    while day <= NOW.date():
        url = f"/1/user/-/activities/date/{day}.json"
        ids += [
            entry["logId"]
            for entry in (await fitbit.get(url, headers=headers)).json()["activities"]
        ]
        day += dt.timedelta(days=1)
    return ids


async def test_following_next_links_pages_through_every_log_in_order(
    fitbit: httpx.AsyncClient, bearer: BearerFactory
) -> None:
    headers, first = await bearer(), dt.date(2024, 2, 25)
    url: str = f"{LIST}?afterDate={first}&sort=asc&limit=2&offset=0"
    seen: list[dict[str, Any]] = []
    while url:
        page = (await fitbit.get(url, headers=headers)).json()
        assert len(page["activities"]) <= 2
        seen += page["activities"]
        url = page["pagination"]["next"]
    assert [log["logId"] for log in seen] == await daily_log_ids(fitbit, headers, first)
    assert seen == sorted(seen, key=local_start)
    assert len(seen) > 2  # so paging really happened


async def test_before_date_lists_newest_first_and_strictly_before(
    fitbit: httpx.AsyncClient, bearer: BearerFactory
) -> None:
    url = f"{LIST}?beforeDate=2024-03-05T12:00:00&sort=desc&limit=5&offset=0"
    body = (await fitbit.get(url, headers=await bearer())).json()
    starts = [local_start(log) for log in body["activities"]]
    assert len(starts) == 5
    assert starts == sorted(starts, reverse=True)
    bound = dt.datetime.fromisoformat("2024-03-05T12:00:00")  # the user's local time
    assert all(start < bound for start in starts)
    assert body["pagination"]["beforeDate"] == "2024-03-05T12:00:00"
    assert "offset=5" in body["pagination"]["next"]
    assert body["pagination"]["previous"] == ""


async def test_the_last_page_has_no_next(fitbit: httpx.AsyncClient, bearer: BearerFactory) -> None:
    url = f"{LIST}?afterDate={NOW.date()}T23:00:00&sort=asc&limit=10&offset=0"
    body = (await fitbit.get(url, headers=await bearer())).json()
    assert body["activities"] == []
    assert body["pagination"]["next"] == ""


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("sort=asc&limit=10", "afterDate"),  # neither bound
        ("afterDate=2024-03-01&beforeDate=2024-03-05&sort=asc&limit=10", "afterDate"),  # both
        ("afterDate=2024-03-01&sort=desc&limit=10", "sort"),  # afterDate goes with asc
        ("beforeDate=2024-03-01&sort=asc&limit=10", "sort"),  # beforeDate goes with desc
        ("afterDate=2024-03-01&sort=asc&limit=101", "limit"),
        ("afterDate=2024-03-01&sort=asc", "limit"),
        ("afterDate=01-03-2024&sort=asc&limit=10", "afterDate"),
    ],
)
async def test_fitbits_parameter_rules_are_enforced(
    fitbit: httpx.AsyncClient, bearer: BearerFactory, query: str, field: str
) -> None:
    response = await fitbit.get(f"{LIST}?{query}", headers=await bearer())
    assert response.status_code == 400
    assert response.json()["errors"][0]["fieldName"] == field
