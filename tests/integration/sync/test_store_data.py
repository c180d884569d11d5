"""Replacing a user's (collection, date) in real PostgreSQL: upserts, deletions, idempotency."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

import pytest
from sqlalchemy import Table, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from service.providers import rows
from service.providers.fitbit import records
from service.providers.fitbit.fetch import Endpoint
from service.providers.rows import DayData
from service.store import data, models
from service.store.db import session_factory
from tests import examples

DAY = dt.date(2026, 3, 9)
OFFSET = -8 * 3600 * 1000


async def _user(session: AsyncSession) -> int:
    user = models.User(timezone="America/Los_Angeles", utc_offset_ms=OFFSET)
    session.add(user)
    await session.flush()
    return user.id


@pytest.fixture
async def session(db: AsyncEngine) -> Any:
    async with session_factory(db)() as session:
        yield session


async def _replace(
    session: AsyncSession, user_id: int, day: DayData, provider: str = "fitbit"
) -> data.Replaced:
    async with session.begin_nested():
        return await data.replace_day(
            session, day, user_id=user_id, provider=provider, utc_offset_ms=OFFSET
        )


async def _stored(session: AsyncSession, kind: type[rows.Row]) -> list[dict[str, Any]]:
    table = data.table_for(kind)
    result = await session.execute(select(table).order_by(*_order(table)))
    return [dict(row._mapping) for row in result]


def _order(table: Table) -> list[Any]:
    return [table.c[name] for name in data.natural_key(table)]


def _without(stored: list[dict[str, Any]], *names: str) -> list[dict[str, Any]]:
    return [{k: v for k, v in row.items() if k not in names} for row in stored]


def _activity(log_id: int, start: str) -> rows.ActivityLog:
    (log,) = records.parse(
        Endpoint.ACTIVITY_LOGS,
        dt.date.fromisoformat(start[:10]),
        {"activities": [{"logId": log_id, "startTime": start, "steps": log_id % 1000}]},
    )[rows.ActivityLog]
    assert isinstance(log, rows.ActivityLog)
    return log


def _logs(*found: rows.ActivityLog, date: dt.date = DAY) -> DayData:
    return DayData(date, {rows.ActivityLog: list(found)})


@pytest.mark.parametrize("name", sorted(examples.DATA))
async def test_every_example_round_trips(session: AsyncSession, name: str) -> None:
    endpoint, date = examples.DATA[name]
    tables = records.parse(endpoint, date, examples.load(name))
    user_id = await _user(session)
    await _replace(session, user_id, DayData(date, tables))
    for kind, found in tables.items():
        stored = await _stored(session, kind)
        assert len(stored) == len(found)
        for row in found:
            expected = {**dataclasses.asdict(row), "user_id": user_id, "utc_offset_ms": OFFSET}
            assert any(expected.items() <= item.items() for item in stored), row


async def test_replacing_twice_yields_the_same_rows(session: AsyncSession) -> None:
    user_id = await _user(session)
    day = _logs(_activity(1, "2026-03-09T08:00:00"), _activity(2, "2026-03-09T18:30:00"))
    first = await _replace(session, user_id, day)
    before = await _stored(session, rows.ActivityLog)
    second = await _replace(session, user_id, day)
    after = await _stored(session, rows.ActivityLog)
    assert (first, second) == (data.Replaced(2, 0), data.Replaced(2, 0))
    assert _without(before, "synced_at") == _without(after, "synced_at")


async def test_a_log_deleted_at_the_provider_disappears(session: AsyncSession) -> None:
    user_id, other_user = await _user(session), await _user(session)
    kept, gone = _activity(1, "2026-03-09T08:00:00"), _activity(2, "2026-03-09T18:00:00")
    next_day = _activity(3, "2026-03-10T08:00:00")
    await _replace(session, user_id, _logs(kept, gone))
    await _replace(session, user_id, _logs(next_day, date=DAY + dt.timedelta(days=1)))
    await _replace(session, other_user, _logs(gone))
    await _replace(session, user_id, _logs(gone), provider="google-health")

    replaced = await _replace(session, user_id, _logs(kept))

    assert replaced == data.Replaced(1, 1)
    stored = await _stored(session, rows.ActivityLog)
    remaining = {(row["user_id"], row["provider"], row["log_id"]) for row in stored}
    assert remaining == {
        (user_id, "fitbit", 1),
        (user_id, "fitbit", 3),  # another day
        (other_user, "fitbit", 2),  # another user
        (user_id, "google-health", 2),  # another provider
    }


async def test_an_empty_kind_empties_the_day_and_an_absent_kind_is_left_alone(
    session: AsyncSession,
) -> None:
    user_id = await _user(session)
    tables = records.parse(
        Endpoint.WATER, DAY, examples.load("fitbit-dotnet/GetWater-WaterData.json")
    )
    await _replace(session, user_id, DayData(DAY, tables))
    await _replace(session, user_id, _logs())  # activities: nothing to do with water

    assert len(await _stored(session, rows.WaterLog)) == 5
    replaced = await _replace(session, user_id, DayData(DAY, {rows.WaterLog: []}))
    assert replaced == data.Replaced(0, 5)
    assert await _stored(session, rows.WaterLog) == []
    assert len(await _stored(session, rows.WaterSummary)) == 1


async def test_weight_entries_sharing_a_log_id_are_both_stored(session: AsyncSession) -> None:
    user_id = await _user(session)
    name = "fitbit-dotnet/GetWeight.json"
    tables = records.parse(*examples.DATA[name], examples.load(name))
    date = examples.DATA[name][1]
    await _replace(session, user_id, DayData(date, tables))
    await _replace(session, user_id, DayData(date, tables))
    stored = await _stored(session, rows.WeightLog)
    assert [(row["log_id"], row["source"], row["weight_kg"]) for row in stored] == [
        (1330991999000, "API", 73.0),
        (1330991999000, "Aria", 72.5),
    ]


async def test_a_weight_entry_gone_from_one_source_goes_and_the_other_stays(
    session: AsyncSession,
) -> None:
    user_id = await _user(session)
    name = "fitbit-dotnet/GetWeight.json"
    tables = records.parse(*examples.DATA[name], examples.load(name))
    date = examples.DATA[name][1]
    await _replace(session, user_id, DayData(date, tables))
    aria = [
        r for r in tables[rows.WeightLog] if isinstance(r, rows.WeightLog) and r.source == "Aria"
    ]
    replaced = await _replace(session, user_id, DayData(date, {rows.WeightLog: aria}))
    assert replaced == data.Replaced(1, 1)
    stored = await _stored(session, rows.WeightLog)
    assert [(row["log_id"], row["source"]) for row in stored] == [(1330991999000, "Aria")]


@pytest.mark.parametrize("log_id", [2**63 - 1, 2**63, 2**64 - 1])
async def test_unsigned_64_bit_log_ids(session: AsyncSession, log_id: int) -> None:
    user_id = await _user(session)
    await _replace(session, user_id, _logs(_activity(log_id, "2026-03-09T08:00:00")))
    await _replace(session, user_id, _logs(_activity(log_id, "2026-03-09T09:00:00")))
    (stored,) = await _stored(session, rows.ActivityLog)
    assert stored["log_id"] == log_id
    assert stored["start_time"] == dt.datetime(2026, 3, 9, 9)  # noqa: DTZ001 - local time


async def test_a_key_answered_twice_is_stored_once(session: AsyncSession) -> None:
    user_id = await _user(session)
    early, late = _activity(7, "2026-03-09T08:00:00"), _activity(7, "2026-03-09T10:00:00")
    await _replace(session, user_id, _logs(early, late))
    (stored,) = await _stored(session, rows.ActivityLog)
    assert stored["start_time"].hour == 10


async def test_a_log_moved_to_another_day_follows_it(session: AsyncSession) -> None:
    user_id = await _user(session)
    await _replace(session, user_id, _logs(_activity(5, "2026-03-09T23:00:00")))
    moved = _activity(5, "2026-03-10T00:30:00")
    await _replace(session, user_id, _logs(moved, date=moved.date))
    await _replace(session, user_id, _logs())  # the old day no longer lists it
    (stored,) = await _stored(session, rows.ActivityLog)
    assert stored["date"] == dt.date(2026, 3, 10)


async def test_a_summary_is_replaced_in_place(session: AsyncSession) -> None:
    user_id = await _user(session)
    body = examples.load("fitbit-dotnet/GetActivities.json")
    await _replace(session, user_id, DayData(DAY, records.parse(_SUMMARY, DAY, body)))
    body["summary"]["steps"] = 20000
    await _replace(session, user_id, DayData(DAY, records.parse(_SUMMARY, DAY, body)))
    (stored,) = await _stored(session, rows.ActivitySummary)
    assert (stored["steps"], stored["date"], stored["raw"]["summary"]["steps"]) == (
        20000,
        DAY,
        20000,
    )


_SUMMARY = Endpoint.ACTIVITY_SUMMARY
