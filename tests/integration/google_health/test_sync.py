"""From a change at the emulated Google to rows here: signed notification, queue, a real arq
worker, the same tables as Fitbit's; DELETE operations, and 429 RESOURCE_EXHAUSTED deferring."""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

import pytest
from arq.connections import ArqRedis
from redis.asyncio import Redis
from sqlalchemy import insert, select, text

from service import queue
from service.providers.base import SyncKey
from service.providers.google_health import values
from service.providers.google_health.datatypes import (
    HEALTH_METRICS_SCOPE,
    SLEEP_SCOPE,
    SUMMARY_TYPES,
    SYNCED_TYPES,
)
from service.providers.google_health.oauth import DEFAULT_SCOPES
from service.queue import QUEUE_NAME
from service.store.models import SyncRequest, SyncStatus
from tests.integration.google_health.conftest import GoogleStack

USER = "g-sync-user"
DAY = dt.date(2026, 11, 20)


async def _connected(
    google: GoogleStack, timezone: str = "UTC", grant: list[str] | None = None
) -> None:
    """`grant`: the scopes the person leaves ticked on the consent screen (default: all)."""
    await google.create_subscriber()
    await google.emulator.google.put_user(USER, timezone=timezone, grant_scopes=grant)
    answer = await google.consent(f"ref-{USER}", USER)
    assert answer.status_code == 200, answer.text


async def _queue_key(google: GoogleStack, redis: Redis, key: SyncKey) -> None:
    """A pending sync request and its job, as the webhook would have left them."""
    async with google.engine.begin() as conn:
        await conn.execute(
            insert(SyncRequest).values(
                provider=key.provider, owner_id=key.owner_id, collection=key.collection, date=DAY
            )
        )
    assert await queue.enqueue_sync(ArqRedis(connection_pool=redis.connection_pool), key)


async def _rows(google: GoogleStack, table: str) -> list[dict[str, Any]]:
    async with google.engine.connect() as conn:
        result = await conn.execute(text(f"SELECT * FROM {table} ORDER BY 1"))
        return [dict(row._mapping) for row in result]


async def _served_ids(google: GoogleStack, data_type: str, day: dt.date) -> set[int]:
    served = await google.emulator.google.day(USER, data_type, day)
    return {values.point_id(str(p["point"]["name"]), data_type, "") for p in served}


async def _requests(google: GoogleStack) -> list[Any]:
    async with google.engine.connect() as conn:
        return list(await conn.execute(select(SyncRequest)))


async def test_a_new_sleep_lands_with_its_stages(google: GoogleStack) -> None:
    await _connected(google)
    end = dt.datetime.combine(DAY, dt.time(7), tzinfo=dt.UTC)
    await google.emulator.google.add_point(
        USER, "sleep", DAY, start=end - dt.timedelta(hours=8), end=end
    )
    await google.deliver()
    await google.run_worker()
    rows = await _rows(google, "sleep_log")
    assert {r["provider"] for r in rows} == {"google_health"}
    # The sleep began the evening before: both local dates were notified, and each holds
    # the sleeps that ended on it.
    for day in (DAY - dt.timedelta(days=1), DAY):
        here = {int(r["log_id"]) for r in rows if r["date"] == day}
        assert here == await _served_ids(google, "sleep", day)
    added = next(r for r in rows if r["end_time"] == end.replace(tzinfo=None))
    assert added["start_time"] == (end - dt.timedelta(hours=8)).replace(tzinfo=None)
    assert added["date"] == DAY
    levels = {stage["level"] for stage in added["stages"]}
    assert levels
    assert levels <= {"wake", "light", "deep", "rem", "awake", "restless", "asleep"}
    assert 0 < sum(stage["seconds"] for stage in added["stages"]) <= 8 * 3600
    requests = await _requests(google)
    assert {(r.collection, r.status) for r in requests} == {("sleep", SyncStatus.SYNCED)}


async def test_a_weight_lands_and_a_delete_removes_it(google: GoogleStack) -> None:
    await _connected(google)
    at = dt.datetime.combine(DAY, dt.time(8), tzinfo=dt.UTC)
    first = await google.emulator.google.add_point(
        USER, "weight", DAY, start=at, values={"weightGrams": 70500}
    )
    await google.emulator.google.add_point(
        USER, "weight", DAY, start=at + dt.timedelta(hours=2), values={"weightGrams": 71000}
    )
    await google.deliver()
    await google.run_worker()
    rows = await _rows(google, "weight_log")
    assert {int(r["log_id"]) for r in rows} == await _served_ids(google, "weight", DAY)
    assert {float(r["weight_kg"]) for r in rows} >= {70.5, 71.0}

    await google.emulator.google.delete_point(USER, "weight", DAY, str(first["id"]))
    await google.deliver()
    await google.run_worker()
    after = await _rows(google, "weight_log")
    assert {int(r["log_id"]) for r in after} == await _served_ids(google, "weight", DAY)
    assert 70.5 not in {float(r["weight_kg"]) for r in after}
    assert len(after) == len(rows) - 1


async def test_steps_fill_the_daily_summary(google: GoogleStack) -> None:
    await _connected(google)
    start = dt.datetime.combine(DAY, dt.time(9), tzinfo=dt.UTC)
    await google.emulator.google.add_point(USER, "steps", DAY, start=start)
    await google.deliver()
    await google.run_worker()
    served = await google.emulator.google.day(USER, "steps", DAY)
    total = sum(int(p["point"]["steps"]["count"]) for p in served)
    [summary] = await _rows(google, "activity_summary")
    assert (summary["provider"], summary["date"], summary["steps"]) == (
        "google_health",
        DAY,
        total,
    )


async def test_changes_to_several_summary_types_are_one_fetch_of_the_summary(
    google: GoogleStack,
) -> None:
    await _connected(google)
    start = dt.datetime.combine(DAY, dt.time(9), tzinfo=dt.UTC)
    touched = ("steps", "distance", "total-calories", "activity-level")
    for data_type in touched:
        await google.emulator.google.add_point(USER, data_type, DAY, start=start)
    await google.deliver()
    await google.emulator.google.reset_counters()
    await google.run_worker()
    [request] = await _requests(google)
    assert (request.collection, request.status) == ("activity-summary", SyncStatus.SYNCED)
    calls = (await google.emulator.google.counters()).calls_by_endpoint
    # One read of the summary: a daily roll-up of each member but the resting heart rate.
    rollups = sum(n for endpoint, n in calls.items() if endpoint.endswith(":dailyRollUp"))
    assert rollups == len(SUMMARY_TYPES) - 1
    [summary] = await _rows(google, "activity_summary")
    served = await google.emulator.google.day(USER, "steps", DAY)
    assert summary["steps"] == sum(int(p["point"]["steps"]["count"]) for p in served)


async def test_a_key_named_after_a_summary_type_still_syncs_the_summary(
    google: GoogleStack, redis: Redis
) -> None:
    """Keys made before the summary types shared one collection stay in sync_request."""
    await _connected(google)
    await _queue_key(google, redis, SyncKey("google_health", USER, "distance", DAY))
    await google.run_worker()
    [request] = await _requests(google)
    assert (request.collection, request.status) == ("distance", SyncStatus.SYNCED)
    [summary] = await _rows(google, "activity_summary")
    served = await google.emulator.google.day(USER, "distance", DAY)
    millimetres = sum(int(p["point"]["distance"]["millimeters"]) for p in served)
    assert float(summary["distance_km"]) == pytest.approx(millimetres / 1e6)
    assert summary["steps"] is not None


async def test_a_summary_type_whose_scope_was_not_granted_is_left_empty(
    google: GoogleStack,
) -> None:
    # The resting heart rate needs health_metrics_and_measurements; the rest activity.
    grant = [s for s in DEFAULT_SCOPES if s != HEALTH_METRICS_SCOPE]
    await _connected(google, grant=grant)
    start = dt.datetime.combine(DAY, dt.time(9), tzinfo=dt.UTC)
    await google.emulator.google.add_point(USER, "steps", DAY, start=start)
    await google.deliver()
    await google.run_worker()
    [request] = await _requests(google)
    assert (request.status, request.last_error) == (SyncStatus.SYNCED, None)
    [summary] = await _rows(google, "activity_summary")
    served = await google.emulator.google.day(USER, "steps", DAY)
    assert summary["steps"] == sum(int(p["point"]["steps"]["count"]) for p in served)
    assert summary["distance_km"] is not None
    assert summary["resting_heart_rate"] is None
    assert summary["raw"]["notGranted"] == ["daily-resting-heart-rate"]
    # Google did refuse it: the person has a resting heart rate that day.
    assert await google.emulator.google.day(USER, "daily-resting-heart-rate", DAY)


async def test_a_summary_with_no_member_granted_fails_with_the_reason(
    google: GoogleStack, redis: Redis
) -> None:
    await _connected(google, grant=[SLEEP_SCOPE])
    await _queue_key(google, redis, SyncKey("google_health", USER, "activity-summary", DAY))
    await google.run_worker()
    [request] = await _requests(google)
    assert request.status is SyncStatus.FAILED
    assert request.last_error.startswith("InsufficientScope")
    assert await _rows(google, "activity_summary") == []


# The tables each synced data type lands in.
TABLES = {
    "activity_summary": SUMMARY_TYPES,
    "activity_log": ("exercise",),
    "sleep_log": ("sleep",),
    "weight_log": ("weight",),
    "body_fat_log": ("body-fat",),
    "food_log": ("nutrition-log",),
    "nutrition_summary": ("nutrition-log",),
    "water_log": ("hydration-log",),
    "water_summary": ("hydration-log",),
}
LEVEL_COLUMNS = {
    "SEDENTARY": "sedentary_minutes",
    "LIGHTLY_ACTIVE": "lightly_active_minutes",
    "MODERATELY_ACTIVE": "fairly_active_minutes",
    "VERY_ACTIVE": "very_active_minutes",
}


async def test_every_synced_data_type_lands(google: GoogleStack) -> None:
    assert {t for types in TABLES.values() for t in types} == SYNCED_TYPES
    await _connected(google)
    for data_type in sorted(SYNCED_TYPES):
        await google.emulator.google.add_point(USER, data_type, DAY)
    await google.deliver()
    await google.run_worker()
    requests = await _requests(google)
    assert requests
    assert {(r.status, r.last_error) for r in requests} == {(SyncStatus.SYNCED, None)}
    for table in TABLES:
        rows = [r for r in await _rows(google, table) if r["date"] == DAY]
        assert rows, f"nothing in {table}"
        assert {r["provider"] for r in rows} == {"google_health"}
    [summary] = await _rows(google, "activity_summary")
    [resting] = await google.emulator.google.day(USER, "daily-resting-heart-rate", DAY)
    bpm = int(resting["point"]["dailyRestingHeartRate"]["beatsPerMinute"])
    assert summary["resting_heart_rate"] == bpm
    minutes = dict.fromkeys(LEVEL_COLUMNS.values(), 0)
    for served in await google.emulator.google.day(USER, "activity-level", DAY):
        level = served["point"]["activityLevel"]
        start, end = (values.instant(level["interval"][k]) for k in ("startTime", "endTime"))
        minutes[LEVEL_COLUMNS[level["activityLevelType"]]] += round((end - start).seconds / 60)
    assert {column: summary[column] for column in minutes} == minutes
    assert sum(minutes.values()) > 0


async def test_a_spent_minute_defers_the_sync(google: GoogleStack, redis: Redis) -> None:
    await _connected(google)
    await google.emulator.google.configure(rate_limit_per_minute=0)  # every call: 429
    at = dt.datetime.combine(DAY, dt.time(8), tzinfo=dt.UTC)
    await google.emulator.google.add_point(USER, "weight", DAY, start=at)
    await google.deliver()

    async def refused() -> bool:
        return (await google.emulator.google.counters()).rate_limited_total >= 1

    await google.run_worker_until(refused)
    [request] = await _requests(google)
    assert request.status is SyncStatus.PENDING
    job = SyncKey("google_health", USER, "weight", DAY).job_id()
    due = await redis.zscore(QUEUE_NAME, job)
    assert due is not None, "the job is still queued"
    # Deferred to the end of the spent minute (Google sends no Retry-After), not retried now.
    assert due / 1000 > time.time() + 1
    assert (await google.emulator.google.counters()).rate_limited_total == 1
