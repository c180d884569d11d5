"""From a change at the emulator to rows here: webhook, queue, a real arq worker, the store."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select, text

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


async def test_syncing_twice_yields_the_same_rows(stack: Stack) -> None:
    await _connect(stack, "TWICE1")
    await stack.emulator.notify("TWICE1", "activities", DAY)
    await _deliver(stack)
    await stack.run_worker()
    before = await _rows(stack, "activity_summary")
    await stack.emulator.notify("TWICE1", "activities", DAY)
    await _deliver(stack)
    await stack.run_worker()
    after = await _rows(stack, "activity_summary")
    assert len(before) == 1
    assert [{**r, "synced_at": None} for r in after] == [{**r, "synced_at": None} for r in before]
