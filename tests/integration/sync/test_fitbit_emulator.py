"""Fetching and storing against the emulator over real HTTP, with real PostgreSQL and Redis.

The emulator is an independent implementation of Fitbit's side, so these tests check that our
plans, client, parsing, budget and store agree with Fitbit's behaviour as it was written down
there: paths, paging, rate limit headers and 429s, faults, expired tokens.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
from redis.asyncio import Redis
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from service.emulator.config import EmulatorConfig
from service.emulator.testing import EmulatorControl, run_emulator
from service.providers import errors, rows
from service.providers.fitbit import records
from service.providers.fitbit.client import FitbitClient
from service.providers.fitbit.day import fetch_day
from service.providers.rows import DayData
from service.store import data, models
from service.store.db import session_factory
from service.sync.budget import BudgetPolicy, Priority, RateBudget
from tests import examples
from tests.integration.scrape import Moved

NOW = dt.datetime(2024, 3, 10, 18, 15, tzinfo=dt.UTC)  # 10:15 in Los Angeles
DAY = dt.date(2024, 3, 9)
USER = "EMU001"


class Clock:
    """The budget's clock, moved together with the emulator's."""

    def __init__(self) -> None:
        self.now = NOW.timestamp()

    def __call__(self) -> float:
        return self.now


@pytest.fixture(scope="module")
def emulator_url() -> Iterator[str]:
    with run_emulator(EmulatorConfig(batch_window_ms=None)) as url:
        yield url


@pytest.fixture
async def control(emulator_url: str) -> AsyncIterator[EmulatorControl]:
    async with EmulatorControl(emulator_url) as control:
        await control.reset()
        await control.set_clock(NOW)
        await control.put_user(USER, timezone="America/Los_Angeles", member_since="2020-01-01")
        yield control


@pytest.fixture
async def token(control: EmulatorControl) -> str:
    return (await control.issue_tokens(USER)).access_token


@pytest.fixture
async def client(emulator_url: str) -> AsyncIterator[FitbitClient]:
    async with httpx.AsyncClient(timeout=10) as http:
        yield FitbitClient(http, emulator_url)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def budget(redis: Redis, clock: Clock) -> RateBudget:
    return RateBudget(redis, BudgetPolicy(jitter_seconds=0), clock)


class Sync:
    """Fetch a key from the emulator and replace it in PostgreSQL, as the sync task will."""

    def __init__(self, client: FitbitClient, budget: RateBudget, engine: AsyncEngine) -> None:
        self.client, self.budget, self.sessions = client, budget, session_factory(engine)
        self.user_id = 0

    async def __call__(self, collection: str, token: str, date: dt.date = DAY) -> DayData:
        meter = self.budget.meter("fitbit", USER, Priority.LIVE)
        day = await fetch_day(self.client, USER, collection, date, token=token, meter=meter)
        async with self.sessions.begin() as session:
            await data.replace_day(
                session, day, user_id=self.user_id, provider="fitbit", utc_offset_ms=-25200000
            )
        return day

    async def stored(self, kind: type[rows.Row]) -> list[dict[str, Any]]:
        table = data.table_for(kind)
        async with self.sessions() as session:
            result = await session.execute(select(table).order_by(table.c.id))
            return [dict(row._mapping) for row in result]


@pytest.fixture
async def sync(client: FitbitClient, budget: RateBudget, db: AsyncEngine) -> Sync:
    sync = Sync(client, budget, db)
    async with sync.sessions.begin() as session:
        user = models.User(timezone="America/Los_Angeles", utc_offset_ms=-25200000)
        session.add(user)
        await session.flush()
        sync.user_id = user.id
    return sync


def _log_ids(found: list[dict[str, Any]]) -> list[int]:
    return sorted(row["log_id"] for row in found)


async def _emulated_ids(control: EmulatorControl, resource: str) -> list[int]:
    return sorted(int(log["logId"]) for log in (await control.day(USER, resource, DAY)).logs)


RESOURCES = {
    rows.ActivityLog: "activities",
    rows.WeightLog: "weight",
    rows.BodyFatLog: "fat",
    rows.FoodLog: "foods",
    rows.WaterLog: "water",
    rows.SleepLog: "sleep",
}


@pytest.mark.parametrize("collection", ["activities", "body", "foods", "sleep"])
async def test_each_collection_lands(
    control: EmulatorControl, token: str, sync: Sync, collection: str
) -> None:
    for resource in {"activities": ["activities"], "body": ["weight", "fat"]}.get(collection, []):
        await control.add_log(USER, resource, DAY, notify=False)  # at least one of each
    day = await sync(collection, token)
    assert (await control.counters()).calls_total == (1 if collection == "sleep" else 2)
    for kind in day.tables:
        if kind in RESOURCES:
            expected = await _emulated_ids(control, RESOURCES[kind])
            assert _log_ids(await sync.stored(kind)) == expected, kind
        else:
            assert len(await sync.stored(kind)) == 1, kind  # the day's summary


async def test_a_changed_or_deleted_log_follows(
    control: EmulatorControl, token: str, sync: Sync
) -> None:
    added = await control.add_log(USER, "weight", DAY, {"weight": 80.5}, notify=False)
    await sync("body", token)
    log_id = int(added["logId"])
    await control.change_log(USER, "weight", DAY, log_id, {"weight": 79.75}, notify=False)
    await sync("body", token)
    (changed,) = [row for row in await sync.stored(rows.WeightLog) if row["log_id"] == log_id]
    assert changed["weight_kg"] == 79.75

    await control.delete_log(USER, "weight", DAY, log_id, notify=False)
    await sync("body", token)
    assert log_id not in _log_ids(await sync.stored(rows.WeightLog))
    assert _log_ids(await sync.stored(rows.WeightLog)) == await _emulated_ids(control, "weight")


RECORDED = {
    "activities": "fitbit-dotnet/GetActivities.json",
    "weight": "fitbit-dotnet/GetWeight.json",
    "fat": "fitbit-dotnet/GetFat.json",
    "foods": "fitbit-dotnet/GetFoodLogs.json",
    "water": "fitbit-dotnet/GetWater-WaterData.json",
    "sleep": "fitbit-dotnet/GetSleep.json",
}


async def test_recorded_examples_served_by_the_emulator(
    control: EmulatorControl, token: str, sync: Sync
) -> None:
    for resource, name in RECORDED.items():
        await control.load_raw(USER, resource, DAY, examples.load(name), notify=False)
    for collection in ("activities", "body", "foods", "sleep"):
        await sync(collection, token)
    for resource, name in RECORDED.items():
        expected = records.parse(examples.DATA[name][0], DAY, examples.load(name))
        for kind, found in expected.items():
            if kind is rows.ActivityLog:
                continue  # the list endpoint serves the emulator's own logs
            stored = await sync.stored(kind)
            assert len(stored) == len(found), (resource, kind)
            assert [row["raw"] for row in stored] == [row.raw for row in found]


async def test_the_budget_defers_before_fitbit_says_429(
    control: EmulatorControl, token: str, sync: Sync, clock: Clock
) -> None:
    await control.configure(rate_limit_per_hour=3)
    await sync("activities", token)  # two calls; the answers say one is left
    with pytest.raises(errors.RateLimited) as caught:
        await sync("body", token)
    assert caught.value.retry_after == pytest.approx(45 * 60, abs=2)  # the top of the hour
    counters = await control.counters()
    assert (counters.calls_total, counters.rate_limited_total) == (2, 0)

    await control.advance_clock(45 * 60)
    clock.now += 45 * 60
    await sync("body", token)
    assert (await control.counters()).rate_limited_total == 0


async def test_a_429_from_fitbit_spends_the_budget(
    control: EmulatorControl, token: str, sync: Sync, emulator_url: str, budget: RateBudget
) -> None:
    await control.configure(rate_limit_per_hour=2)
    async with httpx.AsyncClient(base_url=emulator_url) as other:  # calls made elsewhere
        for _ in range(2):
            await other.get("/1/user/-/profile.json", headers={"Authorization": f"Bearer {token}"})
    with pytest.raises(errors.RateLimited):
        await sync("sleep", token)
    assert (await budget.state("fitbit", USER)).remaining == 0
    with pytest.raises(errors.RateLimited):
        await sync("sleep", token)  # refused by the budget: Fitbit is not asked again
    assert (await control.counters()).rate_limited_total == 1


async def test_calls_and_budget_readings_are_counted_for_metrics(
    control: EmulatorControl, token: str, sync: Sync
) -> None:
    moved = Moved()
    await sync("activities", token)
    await control.configure(rate_limit_per_hour=0)
    with pytest.raises(errors.RateLimited):
        await sync("sleep", token)

    calls = "fitbit_subscriber_provider_calls_total"
    summary = "GET /1/user/{id}/activities/date/{date}.json"
    assert moved(calls, provider="fitbit", endpoint=summary, status="200") == 1
    sleep = "GET /1.2/user/{id}/sleep/date/{date}.json"
    assert moved(calls, provider="fitbit", endpoint=sleep, status="429") == 1
    assert moved("fitbit_subscriber_rate_limited_total", provider="fitbit") == 1
    assert moved("fitbit_subscriber_rate_budget_remaining_count", provider="fitbit") == 3


async def test_5xx_is_transient(control: EmulatorControl, token: str, sync: Sync) -> None:
    await control.set_faults(fail_next=1, error_status=502)
    with pytest.raises(errors.ProviderUnavailable):
        await sync("sleep", token)
    await sync("sleep", token)


async def test_an_expired_token(control: EmulatorControl, token: str, sync: Sync) -> None:
    await control.advance_clock(9 * 3600)
    with pytest.raises(errors.AuthExpired):
        await sync("sleep", token, date=DAY)


async def test_a_scope_not_granted(control: EmulatorControl, sync: Sync) -> None:
    token = (await control.issue_tokens(USER, scopes=["sleep"])).access_token
    with pytest.raises(errors.InsufficientScope):
        await sync("foods", token)


async def test_activity_list_pages_stop_at_the_day(
    control: EmulatorControl, token: str, sync: Sync
) -> None:
    for hour in range(3):
        start = f"{DAY.isoformat()}T{20 + hour}:00:00.000-08:00"
        await control.add_log(USER, "activities", DAY, {"startTime": start}, notify=False)
    day = await sync("activities", token)
    found = day.tables[rows.ActivityLog]
    assert found
    assert {log.date for log in found} == {DAY}
    assert _log_ids(await sync.stored(rows.ActivityLog)) == await _emulated_ids(
        control, "activities"
    )
