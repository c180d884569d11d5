"""From a change at the emulator to rows here: webhook, queue, a real arq worker, the store."""

from __future__ import annotations

import datetime as dt
from typing import Any

from arq.connections import ArqRedis
from redis.asyncio import Redis
from sqlalchemy import select, text

from service import queue
from service.providers.base import SyncKey
from service.providers.fitbit.provider import DESCRIPTOR as FITBIT
from service.store.models import SyncRequest, SyncStatus
from tests.integration.conftest import Stack

DAY = dt.date(2026, 11, 20)


async def _connect(stack: Stack, fitbit_user: str) -> None:
    response = await stack.consent(f"ref-{fitbit_user}", fitbit_user)
    assert response.status_code == 200, response.text


async def _rows(stack: Stack, table: str) -> list[dict[str, Any]]:
    async with stack.engine.connect() as conn:
        result = await conn.execute(text(f"SELECT * FROM {table} ORDER BY 1"))
        return [dict(row._mapping) for row in result]


async def _deliver(stack: Stack) -> None:
    deliveries = await stack.emulator.flush()
    assert deliveries
    assert {d.status for d in deliveries} == {204}


async def test_a_new_sleep_log_lands(stack: Stack) -> None:
    await _connect(stack, "SLEEP1")
    added = await stack.emulator.add_log("SLEEP1", "sleep", DAY)
    await _deliver(stack)
    await stack.run_worker()
    rows = await _rows(stack, "sleep_log")
    at_fitbit = await stack.emulator.day("SLEEP1", "sleep", DAY)
    assert int(added["logId"]) in {int(r["log_id"]) for r in rows}
    assert {int(r["log_id"]) for r in rows} == {int(log["logId"]) for log in at_fitbit.logs}
    assert {r["date"] for r in rows} == {DAY}
    async with stack.engine.connect() as conn:
        [request] = list(await conn.execute(select(SyncRequest)))
    assert request.status is SyncStatus.SYNCED
    assert request.synced_generation == request.generation


async def test_a_deleted_log_disappears_and_a_changed_one_changes(stack: Stack) -> None:
    await _connect(stack, "WEIGH1")
    first = await stack.emulator.add_log("WEIGH1", "weight", DAY, {"weight": 70.5})
    second = await stack.emulator.add_log("WEIGH1", "weight", DAY, {"weight": 71.0})
    await _deliver(stack)
    await stack.run_worker()
    assert await _weights(stack) == await _weights_at_fitbit(stack)
    assert {int(first["logId"]), int(second["logId"])} <= set(await _weights(stack))

    await stack.emulator.delete_log("WEIGH1", "weight", DAY, int(first["logId"]))
    await stack.emulator.change_log("WEIGH1", "weight", DAY, int(second["logId"]), {"weight": 69.9})
    await _deliver(stack)
    await stack.run_worker()
    weights = await _weights(stack)
    assert weights == await _weights_at_fitbit(stack)
    assert int(first["logId"]) not in weights
    assert weights[int(second["logId"])] == 69.9


async def _weights(stack: Stack) -> dict[int, float]:
    return {int(r["log_id"]): float(r["weight_kg"]) for r in await _rows(stack, "weight_log")}


async def _weights_at_fitbit(stack: Stack) -> dict[int, float]:
    day = await stack.emulator.day("WEIGH1", "weight", DAY)
    return {int(log["logId"]): float(log["weight"]) for log in day.logs}


async def test_syncing_twice_yields_the_same_rows(stack: Stack, redis: Redis) -> None:
    """A notification of a day that did not change costs one more fetch (the notification
    bumped the generation, so the job fetches again, once) and updates the same rows in
    place: same ids and values, `synced_at` moved on, nothing doubled. A job for a key that is
    already up to date (Redis delivering it again) fetches and writes nothing."""
    await _connect(stack, "TWICE1")
    await stack.emulator.add_log("TWICE1", "activities", DAY)  # and notifies
    await _deliver(stack)
    await stack.run_worker()
    first = await _day_rows(stack)
    assert len(first["activity_summary"]) == 1
    at_fitbit = await stack.emulator.day("TWICE1", "activities", DAY)
    assert len(first["activity_log"]) == len(at_fitbit.logs) >= 1

    await stack.emulator.reset_counters()
    key = SyncKey("fitbit", "TWICE1", "activities", DAY)
    assert await queue.enqueue_sync(ArqRedis(connection_pool=redis.connection_pool), key)
    await stack.run_worker()  # burst: until the queue is empty
    assert (await stack.emulator.counters()).calls_total == 0
    assert await _day_rows(stack) == first  # not written at all: synced_at too

    await stack.emulator.notify("TWICE1", "activities", DAY)
    await _deliver(stack)
    await stack.run_worker()
    counters = await stack.emulator.counters()
    assert counters.calls_by_user == {"TWICE1": FITBIT.calls["activities"]}, counters
    again = await _day_rows(stack)
    for table, rows in first.items():
        # The same rows (ids too: updated, not deleted and inserted again), no more of them.
        assert [_unsynced(r) for r in again[table]] == [_unsynced(r) for r in rows], table
        assert all(a["synced_at"] > b["synced_at"] for a, b in zip(again[table], rows, strict=True))
    async with stack.engine.connect() as conn:
        [request] = list(await conn.execute(select(SyncRequest)))
    assert (request.status, request.generation, request.synced_generation) == (
        SyncStatus.SYNCED,
        2,
        2,
    )


async def _day_rows(stack: Stack) -> dict[str, list[dict[str, Any]]]:
    """Every row of the activities collection's tables, by id."""
    return {table: await _rows(stack, table) for table in ("activity_summary", "activity_log")}


def _unsynced(row: dict[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in row.items() if name != "synced_at"}
