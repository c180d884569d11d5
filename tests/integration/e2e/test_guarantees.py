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
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import pytest
from arq.constants import in_progress_key_prefix
from redis.asyncio import Redis
from sqlalchemy import func, select, text
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from service import queue
from service.providers.base import SyncKey
from service.settings import Settings
from service.store.models import (
    AccountEvent,
    Notification,
    ProviderAccount,
    Subscription,
    SyncRequest,
    SyncStatus,
    User,
    UserStatus,
)
from tests.integration import processes
from tests.integration.conftest import Stack, serving
from tests.integration.test_webhook import encode, fitbit_signature

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


async def _work(stack: Stack, workers: int = 1, deadline: float = EVENTUALLY) -> None:
    """Real arq workers in burst mode, side by side, until the queue is empty."""
    async with asyncio.timeout(deadline):
        await asyncio.gather(*(stack.run_worker() for _ in range(workers)))


async def _connect(stack: Stack, *fitbit_users: str) -> dict[str, int]:
    """Connect each person through the OAuth flow at the emulator; their user ids here."""
    gate = asyncio.Semaphore(4)

    async def connect(fitbit_user: str) -> int:
        async with gate:
            answer = await stack.consent(f"ref-{fitbit_user}", fitbit_user)
        assert answer.status_code == 200, answer.text
        return int(answer.json()["user_id"])

    ids = await asyncio.gather(*(connect(fitbit_user) for fitbit_user in fitbit_users))
    return dict(zip(fitbit_users, ids, strict=True))


async def _deliver(stack: Stack) -> int:
    """Push what the emulator holds to our webhook; how many items it accepted."""
    deliveries = await stack.emulator.flush()
    assert deliveries
    assert {d.status for d in deliveries} == {204}, deliveries
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
            emulated = await asyncio.gather(
                *(_emulated_logs(stack, owner, resource, day) for owner, day in wanted)
            )
            expected = {key: ids for key, ids in zip(wanted, emulated, strict=True) if ids}
            assert await _stored_logs(stack, table) == expected, table


async def _eventually(check: Callable[[], Awaitable[bool]], what: str) -> None:
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
RESOURCES = ("activities", "weight", "fat", "foods", "water", "sleep")
COLLECTIONS = {"weight": "body", "fat": "body", "water": "foods"} | {
    c: c for c in ("activities", "foods", "sleep")
}
BATCH = 100  # items per POST, as the emulator batches them


async def _subscription_ids(stack: Stack) -> dict[tuple[str, str | None], str]:
    return {
        (s.owner_id, s.collection): s.subscription_id for s in await stack.emulator.subscriptions()
    }


async def _post_notifications(
    stack: Stack,
    keys: list[tuple[str, str, dt.date]],
    subscription_ids: dict[tuple[str, str | None], str],
) -> None:
    """Post signed notifications exactly as the emulator would push them for these keys."""
    items = [
        {
            "collectionType": collection,
            "date": day.isoformat(),
            "ownerId": owner,
            "ownerType": "user",
            "subscriptionId": subscription_ids[owner, collection],
        }
        for owner, collection, day in keys
    ]
    for start in range(0, len(items), BATCH):
        body = encode(items[start : start + BATCH])
        headers = {"content-type": "application/json", "x-fitbit-signature": fitbit_signature(body)}
        answer = await stack.service.post("/fitbit/webhook", content=body, headers=headers)
        assert answer.status_code == 204, answer.text


# Some 240 keys through one process that also runs the API and the emulator: on a busy
# machine this takes a while; the deadlines are generous, never measurements.
@pytest.mark.timeout(300)
async def test_a_thousand_notifications_cost_exactly_the_calls_their_keys_need(
    stack: Stack,
) -> None:
    await _connect(stack, *MANY_USERS)
    today = (await stack.emulator.clock()).now.date()
    days = [today - dt.timedelta(days=n) for n in (3, 2, 1)]
    await stack.emulator.reset_counters()  # the connect flow's calls are not the sync's
    draw = random.Random(6)
    # Real changes at Fitbit behind some keys, pushed by the emulator...
    changes = [
        (owner, resource, draw.choice(days)) for owner in MANY_USERS for resource in RESOURCES
    ]
    gate = asyncio.Semaphore(8)

    async def change(owner: str, resource: str, day: dt.date) -> None:
        async with gate:
            await stack.emulator.add_log(owner, resource, day)

    await asyncio.gather(*(change(*c) for c in changes))
    assert await _deliver(stack) == len(changes)
    # ...then repeats and notifications with no change behind them, as Fitbit sends them.
    repeats = [
        (draw.choice(MANY_USERS), draw.choice(list(CALLS)), draw.choice(days))
        for _ in range(NOTIFICATIONS - len(changes))
    ]
    await _post_notifications(stack, repeats, await _subscription_ids(stack))
    notified = collections.Counter(repeats)
    notified.update((owner, COLLECTIONS[resource], day) for owner, resource, day in changes)
    await _work(stack, workers=2, deadline=240)

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
            select(
                Notification.owner_id, Notification.collection_type, Notification.date, func.count()
            ).group_by(Notification.owner_id, Notification.collection_type, Notification.date)
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


# -- 4. a worker killed half-way ----------------------------------------------------------------


async def _weights(stack: Stack) -> dict[int, float]:
    async with stack.engine.connect() as conn:
        rows = await conn.execute(text("SELECT log_id, weight_kg FROM weight_log"))
        return {int(log_id): float(kg) for log_id, kg in rows}


async def test_a_worker_killed_mid_sync_leaves_whole_days_and_the_retry_completes(
    stack: Stack, tmp_path: Path
) -> None:
    # arq's in-progress mark of the killed job lives job_timeout + 10 s = 70 s; the next worker
    # takes the job over once the dead worker's lease lapses, within seconds.
    stack = _tuned(stack, job_timeout=60)
    owner = "KILL01"
    day = _yesterday((await stack.emulator.clock()).now)
    await _connect(stack, owner)
    weight = await stack.emulator.add_log(owner, "weight", day, {"weight": 70.0})
    await stack.emulator.add_log(owner, "fat", day)
    await _deliver(stack)
    await _work(stack)
    await _assert_rows_match(stack, [(owner, "body", day)])
    before = {table: await _stored_logs(stack, table) for table in ("weight_log", "body_fat_log")}
    weights = await _weights(stack)
    assert weights[int(weight["logId"])] == 70.0

    # A new version of the day at Fitbit, whose calls now answer slowly: the kill lands after
    # the weight answer and before the body fat answer.
    await stack.emulator.change_log(owner, "weight", day, int(weight["logId"]), {"weight": 68.5})
    await stack.emulator.add_log(owner, "fat", day)
    await stack.emulator.reset_counters()
    await stack.emulator.set_faults(latency_ms=700, path_prefix=f"/1/user/{owner}/body/")
    await _deliver(stack)
    output = tmp_path / "worker.log"
    env = processes.service_env(stack.settings)
    answered_at_kill = []
    with processes.running("worker", env=env, output=output) as worker:

        async def weight_answered() -> bool:
            assert worker.poll() is None, output.read_text()
            answered = (await stack.emulator.counters()).calls_total
            if answered:
                worker.kill()  # SIGKILL: no clean-up, no re-queueing
                answered_at_kill.append(answered)
            return answered > 0

        await _eventually(weight_answered, "the worker process fetched the weights")
        await asyncio.to_thread(worker.wait, processes.STOP_TIMEOUT)
    assert answered_at_kill == [1], "the kill did not land between the two calls"
    assert {t: await _stored_logs(stack, t) for t in before} == before  # the old day, whole
    assert await _weights(stack) == weights
    request = await _sync_request(stack, owner, "body", day)
    assert request.status is SyncStatus.PENDING
    assert request.synced_generation < request.generation

    await stack.emulator.clear_faults()
    await _work(stack, deadline=20)  # a new worker takes over the dead one's job
    request = await _sync_request(stack, owner, "body", day)
    assert request.status is SyncStatus.SYNCED
    assert request.synced_generation == request.generation
    assert (await _weights(stack))[int(weight["logId"])] == 68.5
    await _assert_rows_match(stack, [(owner, "body", day)])


# -- 5. changed while fetching ------------------------------------------------------------------


class Watch:
    """A pass-through in front of the emulator that records how many calls of each path were
    in flight at once: two fetches of one key in parallel would show as two."""

    def __init__(self, upstream: str, http: httpx.AsyncClient) -> None:
        self.upstream, self.http = upstream, http
        self.in_flight: collections.Counter[str] = collections.Counter()
        self.most: collections.Counter[str] = collections.Counter()
        methods = ["GET", "POST", "DELETE"]
        self.app = Starlette(routes=[Route("/{path:path}", self.forward, methods=methods)])

    async def forward(self, request: Request) -> Response:
        path, query = request.url.path, request.url.query
        self.in_flight[path] += 1
        self.most[path] = max(self.most[path], self.in_flight[path])
        try:
            answer = await self.http.request(
                request.method,
                f"{self.upstream}{path}" + (f"?{query}" if query else ""),
                headers={k: v for k, v in request.headers.items() if k != "host"},
                content=await request.body(),
            )
        finally:
            self.in_flight[path] -= 1
        hop = {"content-length", "content-encoding", "transfer-encoding", "connection"}
        headers = {k: v for k, v in answer.headers.items() if k not in hop}
        return Response(answer.content, answer.status_code, headers=headers)


async def test_a_change_during_the_fetch_is_fetched_once_more_never_in_parallel(
    stack: Stack, redis: Redis
) -> None:
    owner = "LIVE01"
    day = _yesterday((await stack.emulator.clock()).now)
    path = f"/1.2/user/{owner}/sleep/date/{day.isoformat()}.json"
    await _connect(stack, owner)
    first = await stack.emulator.add_log(owner, "sleep", day)
    await stack.emulator.reset_counters()
    await stack.emulator.set_faults(latency_ms=2500, path_prefix="/1.2/user/")
    await _deliver(stack)
    async with httpx.AsyncClient(timeout=30) as http:
        watch = Watch(stack.emulator.base_url, http)
        async with serving(watch.app) as url:
            workers = asyncio.create_task(_work(_tuned(stack, fitbit_api_url=url), workers=2))

            async def fetching() -> bool:
                return watch.in_flight[path] == 1

            await _eventually(fetching, "the sleep fetch started")
            # Fitbit changes the day while we fetch it, and tells us twice.
            second = await stack.emulator.add_log(owner, "sleep", day)
            await stack.emulator.delete_log(owner, "sleep", day, int(first["logId"]))
            assert await _deliver(stack) == 2
            assert watch.in_flight[path] == 1, "the notifications came after the fetch"
            await workers

    assert watch.most[path] == 1
    assert (await stack.emulator.counters()).calls_by_user == {owner: 2}
    request = await _sync_request(stack, owner, "sleep", day)
    assert request.status is SyncStatus.SYNCED
    assert request.synced_generation == request.generation
    stored = (await _stored_logs(stack, "sleep_log"))[owner, day]
    assert int(second["logId"]) in stored
    assert int(first["logId"]) not in stored
    await _assert_rows_match(stack, [(owner, "sleep", day)])


# -- 5b. storms: the debounce window, counted from the key's first notification -------------


async def _storm(stack: Stack, owner: str, day: dt.date, seconds: float) -> dict[str, Any]:
    """Fitbit changes the day every 0.1 s for `seconds` and tells us each time; the last log."""
    last: dict[str, Any] = {}
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        last = await stack.emulator.add_log(owner, "sleep", day)
        await _deliver(stack)
        await asyncio.sleep(0.1)
    return last


async def _storm_fetches(stack: Stack, owner: str, seconds: float, **tuning: Any) -> int:
    """Sleep fetches of one key while a storm of notifications runs against a worker."""
    day = _yesterday((await stack.emulator.clock()).now)
    await _connect(stack, owner)
    await stack.emulator.reset_counters()
    await stack.emulator.add_log(owner, "sleep", day)
    await _deliver(stack)
    workers = asyncio.create_task(_work(_tuned(stack, **tuning)))
    last = await _storm(stack, owner, day, seconds)
    await workers
    await _work(stack)  # a burst worker stops when the queue is empty for a moment
    request = await _sync_request(stack, owner, "sleep", day)
    assert request.status is SyncStatus.SYNCED
    assert int(last["logId"]) in (await _stored_logs(stack, "sleep_log"))[owner, day]
    await _assert_rows_match(stack, [(owner, "sleep", day)])
    return (await stack.emulator.counters()).calls_by_user[owner]


async def test_a_storm_within_the_debounce_costs_one_fetch(stack: Stack) -> None:
    # Notified every 0.1 s for 2 s; fetched 4 s after the first notification, once.
    fetches = await _storm_fetches(stack, "STORM1", 2.0, sync_debounce_seconds=4.0)
    assert fetches == 1


async def test_a_storm_longer_than_the_debounce_is_fetched_during_it(stack: Stack) -> None:
    # The window counts from the first notification, so changes made without pause still reach
    # us every debounce: once (or twice) while the storm lasts, once after, never per change.
    fetches = await _storm_fetches(stack, "STORM2", 4.0, sync_debounce_seconds=1.5)
    assert 2 <= fetches <= 4


# -- 6. revoked, deleted ------------------------------------------------------------------------


async def test_revoke_and_delete_disconnect_without_calling_fitbit_and_skip_later_syncs(
    stack: Stack,
) -> None:
    users = await _connect(stack, "GONE01", "GONE02")
    day = _yesterday((await stack.emulator.clock()).now)
    subscription_ids = await _subscription_ids(stack)
    await stack.emulator.reset_counters()
    await stack.emulator.revoke_user("GONE01")  # userRevokedAccess, to each subscription
    await stack.emulator.delete_user("GONE02")  # deleteUser, likewise
    assert await _deliver(stack) == 8
    await _work(stack)

    assert (await stack.emulator.counters()).calls_total == 0
    async with stack.engine.connect() as conn:
        statuses = dict((await conn.execute(select(User.id, User.status))).all())
        tokens = (
            await conn.execute(select(ProviderAccount.access_token, ProviderAccount.refresh_token))
        ).all()
        subscriptions = await conn.scalar(select(func.count()).select_from(Subscription))
        events = (
            await conn.execute(
                select(AccountEvent.user_id, AccountEvent.kind).where(
                    AccountEvent.kind.startswith("account_")
                )
            )
        ).all()
        requests = (
            await conn.execute(
                select(SyncRequest.owner_id, SyncRequest.collection, SyncRequest.status)
            )
        ).all()
    assert statuses == dict.fromkeys(users.values(), UserStatus.DISCONNECTED)
    assert tokens == [(None, None), (None, None)]
    assert subscriptions == 0
    assert sorted(events) == sorted(
        [(users["GONE01"], "account_revoked"), (users["GONE02"], "account_deleted")]
    )
    assert sorted(requests) == [
        ("GONE01", "account_revoked", SyncStatus.SYNCED),
        ("GONE02", "account_deleted", SyncStatus.SYNCED),
    ]

    # A late data notification (at-least-once delivery) finds nobody to sync for.
    await _post_notifications(
        stack, [("GONE01", "sleep", day), ("GONE02", "body", day)], subscription_ids
    )
    await _work(stack)
    assert (await stack.emulator.counters()).calls_total == 0
    for owner, collection in (("GONE01", "sleep"), ("GONE02", "body")):
        request = await _sync_request(stack, owner, collection, day)
        assert request.status is SyncStatus.FAILED
        assert request.last_error == "the provider account is not connected"
    assert await _stored_logs(stack, "sleep_log") == {}
