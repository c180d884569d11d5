"""The sync guarantees, end to end: changes at the emulator, signed pushes to our running API,
real arq workers (in this process, and a separate worker process that is SIGKILLed), rows in
PostgreSQL compared with what the emulator holds, and Fitbit calls counted at the emulator.
"""

from __future__ import annotations

import asyncio
import collections
import datetime as dt
import random
import time
from collections.abc import Iterable
from dataclasses import replace
from typing import Any

import pytest
from arq.constants import in_progress_key_prefix
from redis.asyncio import Redis
from sqlalchemy import func, select, text

from service import queue
from service.providers.base import SyncKey
from service.settings import Settings
from service.store.models import (
    Notification,
    SyncRequest,
    SyncStatus,
)
from tests.integration.conftest import Stack

pytestmark = pytest.mark.slow

# The calls one key costs (DESIGN.md, "What to fetch"): the activity summary and the day's
# activity log list; weight and body fat; food log and water; sleep. One page each here: the
# emulator's days hold far fewer than 100 activities.
CALLS = {"activities": 2, "body": 2, "foods": 2, "sleep": 1}
# Where each collection's rows land, and the emulator resource that holds them.
LOG_TABLES = {
    "activities": {"activity_log": "activities"},
    "body": {"weight_log": "weight", "body_fat_log": "fat"},
    "foods": {"food_log": "foods", "water_log": "water"},
    "sleep": {"sleep_log": "sleep"},
}
EVENTUALLY = 60.0  # seconds: a generous deadline for what must happen, never a measurement


def _tuned(stack: Stack, **changes: Any) -> Stack:
    """The same stack whose workers run with other settings (the API keeps its own)."""
    return replace(stack, settings=Settings(**{**stack.settings.model_dump(), **changes}))


async def _work(stack: Stack, workers: int = 1) -> None:
    """Real arq workers in burst mode, side by side, until the queue is empty."""
    async with asyncio.timeout(EVENTUALLY):
        await asyncio.gather(*(stack.run_worker() for _ in range(workers)))


async def _connect(stack: Stack, *fitbit_users: str) -> dict[str, int]:
    """Connect each person through the OAuth flow at the emulator; their user ids here."""
    found = {}
    for fitbit_user in fitbit_users:
        answer = await stack.consent(f"ref-{fitbit_user}", fitbit_user)
        assert answer.status_code == 200, answer.text
        found[fitbit_user] = int(answer.json()["user_id"])
    return found


async def _deliver(stack: Stack) -> int:
    """Push what the emulator holds to our webhook; how many items it accepted."""
    deliveries = await stack.emulator.flush()
    assert {d.status for d in deliveries} <= {204}, deliveries
    return sum(len(d.notifications) for d in deliveries)


async def _sync_request(stack: Stack, owner: str, collection: str, day: dt.date) -> Any:
    async with stack.engine.connect() as conn:
        return (
            await conn.execute(
                select(SyncRequest.__table__).where(
                    SyncRequest.owner_id == owner,
                    SyncRequest.collection == collection,
                    SyncRequest.date == day,
                )
            )
        ).one()


async def _stored_logs(stack: Stack, table: str) -> dict[tuple[str, dt.date], set[int]]:
    """Log ids per (Fitbit user, date) in one of our tables."""
    query = text(
        f"SELECT a.external_id, t.date, t.log_id FROM {table} t "
        "JOIN provider_account a ON a.user_id = t.user_id"
    )
    found: dict[tuple[str, dt.date], set[int]] = collections.defaultdict(set)
    async with stack.engine.connect() as conn:
        for owner, day, log_id in await conn.execute(query):
            found[owner, day].add(int(log_id))
    return dict(found)


async def _emulated_logs(stack: Stack, owner: str, resource: str, day: dt.date) -> set[int]:
    return {int(log["logId"]) for log in (await stack.emulator.day(owner, resource, day)).logs}


async def _assert_rows_match(stack: Stack, keys: Iterable[tuple[str, str, dt.date]]) -> None:
    """Every log table holds exactly the emulator's logs of the synced keys, and nothing else."""
    keys = sorted(set(keys))
    for collection, tables in LOG_TABLES.items():
        for table, resource in tables.items():
            wanted = [(owner, day) for owner, c, day in keys if c == collection]
            expected = {
                (owner, day): ids
                for (owner, day), ids in zip(
                    wanted,
                    await asyncio.gather(
                        *(_emulated_logs(stack, owner, resource, day) for owner, day in wanted)
                    ),
                    strict=True,
                )
                if ids
            }
            assert await _stored_logs(stack, table) == expected, table


async def _eventually(check: Any, what: str) -> None:
    deadline = time.monotonic() + EVENTUALLY
    while not await check():
        assert time.monotonic() < deadline, f"not within {EVENTUALLY} s: {what}"
        await asyncio.sleep(0.02)


async def _in_progress(redis: Redis, key: SyncKey) -> bool:
    return bool(await redis.exists(in_progress_key_prefix + key.job_id()))


def _yesterday(now: dt.datetime) -> dt.date:
    return now.date() - dt.timedelta(days=1)


# -- 1. coalescing ------------------------------------------------------------------------------

MANY_USERS = [f"MANY{n:02d}" for n in range(20)]
NOTIFICATIONS = 1000


async def test_a_thousand_notifications_cost_exactly_the_calls_their_keys_need(
    stack: Stack,
) -> None:
    t0 = time.monotonic()
    await _connect(stack, *MANY_USERS)
    print('connect', time.monotonic() - t0)
    today = (await stack.emulator.clock()).now.date()
    days = [today - dt.timedelta(days=n) for n in (3, 2, 1)]
    await stack.emulator.reset_counters()  # the connect flow's calls are not the sync's
    draw = random.Random(6)
    notified: collections.Counter[tuple[str, str, dt.date]] = collections.Counter()
    # Real changes behind some keys, so every table has rows to compare...
    changes = [
        (owner, resource, draw.choice(days))
        for owner in MANY_USERS
        for resource in ("activities", "weight", "fat", "sleep", "foods")
    ]
    for owner, resource, day in changes:
        collection = {"weight": "body", "fat": "body"}.get(resource, resource)
        notified[owner, collection, day] += 1
    # ...and the rest repeats and notifications with no change behind them, as Fitbit sends.
    repeats = [
        (draw.choice(MANY_USERS), draw.choice(list(CALLS)), draw.choice(days))
        for _ in range(NOTIFICATIONS - len(changes))
    ]
    notified.update(repeats)
    gate = asyncio.Semaphore(8)

    async def change(owner: str, resource: str, day: dt.date) -> None:
        async with gate:
            await stack.emulator.add_log(owner, resource, day)

    async def repeat(owner: str, collection: str, day: dt.date) -> None:
        async with gate:
            assert len(await stack.emulator.notify(owner, collection, day)) == 1

    await asyncio.gather(*(change(*c) for c in changes), *(repeat(*r) for r in repeats))
    print('changes', time.monotonic() - t0)
    assert await _deliver(stack) == NOTIFICATIONS
    print('deliver', time.monotonic() - t0)
    await _work(stack, workers=2)
    print('work', time.monotonic() - t0)

    counters = await stack.emulator.counters()
    needed: collections.Counter[str] = collections.Counter()
    for owner, collection, _ in notified:
        needed[owner] += CALLS[collection]
    assert len(notified) < NOTIFICATIONS / 3  # mostly repeats
    assert counters.calls_by_user == dict(needed)
    assert counters.calls_total == sum(needed.values())
    assert counters.rate_limited_total == 0
    async with stack.engine.connect() as conn:
        audit = await conn.execute(
            select(Notification.owner_id, Notification.collection_type, Notification.date, func.count())
            .group_by(Notification.owner_id, Notification.collection_type, Notification.date)
        )
        assert {(o, c, d): n for o, c, d, n in audit} == dict(notified)
        requests = await conn.execute(
            select(
                SyncRequest.owner_id,
                SyncRequest.collection,
                SyncRequest.date,
                SyncRequest.synced_generation - SyncRequest.generation,
                SyncRequest.status,
            )
        )
        found = {(o, c, d): (behind, status) for o, c, d, behind, status in requests}
    assert found == dict.fromkeys(notified, (0, SyncStatus.SYNCED))
    await _assert_rows_match(stack, notified)
    await _assert_steps_match(stack, [k for k in notified if k[1] == "activities"])


async def _assert_steps_match(stack: Stack, keys: list[tuple[str, str, dt.date]]) -> None:
    query = text(
        "SELECT a.external_id, s.date, s.steps FROM activity_summary s "
        "JOIN provider_account a ON a.user_id = s.user_id"
    )
    async with stack.engine.connect() as conn:
        stored = {(owner, day): steps for owner, day, steps in await conn.execute(query)}
    days = await asyncio.gather(*(stack.emulator.day(o, "activities", d) for o, _, d in keys))
    expected = {(o, d): day.summary["steps"] for (o, _, d), day in zip(keys, days, strict=True)}
    assert stored == expected


# -- 2. a spent budget --------------------------------------------------------------------------


async def test_a_spent_budget_defers_until_the_reset_without_a_429(
    stack: Stack, redis: Redis
) -> None:
    stack = _tuned(stack, rate_defer_jitter_seconds=0)
    owner = "BUDGET1"
    # Fitbit's hour has ten seconds left, and its clock stands still until we move it.
    now = (await stack.emulator.clock()).now
    await stack.emulator.set_clock(now.replace(minute=59, second=50, microsecond=0))
    day = _yesterday(now)
    await _connect(stack, owner)
    used = (await stack.emulator.counters()).calls_by_user[owner]  # profile, subscriptions
    await stack.emulator.configure(rate_limit_per_hour=used + CALLS["activities"] + 1)
    await stack.emulator.notify(owner, "activities", day)
    await _deliver(stack)
    await _work(stack)  # Fitbit's answers say one call is left, for ten seconds

    added = await stack.emulator.add_log(owner, "weight", day)
    await _deliver(stack)
    worker = asyncio.create_task(_work(stack))
    key = SyncKey("fitbit", owner, "body", day)

    async def deferred() -> bool:
        score = await redis.zscore(queue.QUEUE_NAME, key.job_id())
        later = score is not None and score > time.time() * 1000 + 1000
        return later and not await _in_progress(redis, key)

    await _eventually(deferred, "the body sync deferred to the reset")
    request = await _sync_request(stack, owner, "body", day)
    assert (request.status, request.attempts, request.last_error) == (SyncStatus.PENDING, 0, None)
    assert (await stack.emulator.counters()).calls_by_user[owner] == used + 2

    await stack.emulator.advance_clock(15)  # the top of Fitbit's hour: a fresh window
    await worker
    counters = await stack.emulator.counters()
    assert counters.rate_limited_total == 0
    assert counters.calls_by_user[owner] == used + 2 + CALLS["body"]
    request = await _sync_request(stack, owner, "body", day)
    assert request.status is SyncStatus.SYNCED
    assert request.synced_generation == request.generation
    assert int(added["logId"]) in (await _stored_logs(stack, "weight_log"))[owner, day]
    await _assert_rows_match(stack, [(owner, "activities", day), (owner, "body", day)])


# -- 3. 5xx and timeouts ------------------------------------------------------------------------

SLEEP_PATHS = "/1.2/user/"


async def test_5xx_and_timeouts_are_retried_until_the_sync_completes(stack: Stack) -> None:
    stack = _tuned(stack, sync_max_attempts=4, sync_backoff_seconds=0.05)
    owner = "FLAKY1"
    day = _yesterday((await stack.emulator.clock()).now)
    await _connect(stack, owner)
    await stack.emulator.reset_counters()
    # A hang that ends in 504, then two 503s: three failed attempts, the fourth succeeds.
    await stack.emulator.set_faults(
        timeout_next=1, hang_seconds=0.2, fail_next=2, error_status=503, path_prefix=SLEEP_PATHS
    )
    await stack.emulator.add_log(owner, "sleep", day)
    await _deliver(stack)
    await _work(stack)

    counters = await stack.emulator.counters()
    assert counters.faults == {"hang": 1, "error": 2}
    assert counters.calls_total == 4
    assert counters.calls_by_user == {owner: 1}  # faults strike before Fitbit knows the caller
    request = await _sync_request(stack, owner, "sleep", day)
    assert request.status is SyncStatus.SYNCED
    assert (request.attempts, request.last_error) == (0, None)
    await _assert_rows_match(stack, [(owner, "sleep", day)])


async def test_past_the_attempt_limit_the_request_fails_with_its_last_error(
    stack: Stack,
) -> None:
    stack = _tuned(stack, sync_max_attempts=3, sync_backoff_seconds=0.05)
    owner = "FLAKY2"
    day = _yesterday((await stack.emulator.clock()).now)
    await _connect(stack, owner)
    await stack.emulator.reset_counters()
    await stack.emulator.set_faults(error_rate=1.0, error_status=502, path_prefix=SLEEP_PATHS)
    await stack.emulator.add_log(owner, "sleep", day)
    await _deliver(stack)
    await _work(stack)

    assert (await stack.emulator.counters()).calls_total == 3
    request = await _sync_request(stack, owner, "sleep", day)
    assert request.status is SyncStatus.FAILED
    assert request.attempts == 3
    assert request.last_error is not None
    assert "502" in request.last_error
    assert request.synced_generation < request.generation
    assert await _stored_logs(stack, "sleep_log") == {}

    # Fitbit is back, and the next notification for the key brings it up to date.
    await stack.emulator.clear_faults()
    await stack.emulator.notify(owner, "sleep", day)
    await _deliver(stack)
    await _work(stack)
    request = await _sync_request(stack, owner, "sleep", day)
    assert (request.status, request.attempts, request.last_error) == (SyncStatus.SYNCED, 0, None)
    await _assert_rows_match(stack, [(owner, "sleep", day)])
