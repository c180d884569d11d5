"""Backfills and `sync retry`: the command line as a process, a real arq worker, the emulator."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import os
import sys
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from sqlalchemy import insert, select

from service.api import clients, scopes
from service.settings import Settings
from service.store.models import ProviderAccount, SyncRequest, SyncStatus
from service.sync.worker import create_worker
from tests.conftest import ROOT
from tests.integration.api.conftest import Credentials, get_token, jsonapi_client
from tests.integration.conftest import Stack
from tests.integration.e2e.test_sync import _rows

TODAY = dt.datetime.now(dt.UTC).date()
LAST = TODAY - dt.timedelta(days=10)
WAIT_SECONDS = 60.0


def _env(settings: Settings) -> dict[str, str]:
    return {
        "PATH": os.environ["PATH"],
        "DATABASE_URL": settings.database,
        "REDIS_URL": settings.redis_url,
        "LOG_FORMAT": "text",
        "RATE_BUDGET_RESERVE": str(settings.rate_budget_reserve),
    }


async def start_cli(settings: Settings, *args: str) -> asyncio.subprocess.Process:
    """`fitbit-subscriber ...` as its own process, against this test's database and Redis."""
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "service.cli",
        *args,
        env=_env(settings),
        cwd=ROOT / "tests",  # no .env from the project root
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


async def finish(process: asyncio.subprocess.Process, out: str = "") -> tuple[int, str, str]:
    async with asyncio.timeout(WAIT_SECONDS):
        rest, err = await process.communicate()
    return process.returncode or 0, out + rest.decode(), err.decode()


async def cli(settings: Settings, *args: str) -> tuple[int, str, str]:
    return await finish(await start_cli(settings, *args))


@contextlib.asynccontextmanager
async def worker(settings: Settings) -> AsyncIterator[None]:
    """A real arq worker in this event loop (not burst: backfill jobs wait for their time)."""
    running = create_worker(settings, poll_delay=0.01)
    task = asyncio.create_task(running.main())
    try:
        yield
    finally:
        # arq's own way out of its loop: a burst worker past its job limit finishes its jobs.
        running.burst, running.max_burst_jobs = True, 0
        async with asyncio.timeout(WAIT_SECONDS):
            await task
        await running.close()


async def eventually(check: Callable[[], Any]) -> None:
    async with asyncio.timeout(WAIT_SECONDS):
        while not await check():  # noqa: ASYNC110 - the state is in PostgreSQL, not in-process
            await asyncio.sleep(0.05)


async def _connect(stack: Stack, fitbit_user: str) -> None:
    response = await stack.consent(f"ref-{fitbit_user}", fitbit_user)
    assert response.status_code == 200, response.text


async def _requests(stack: Stack, owner: str) -> list[SyncRequest]:
    async with stack.engine.connect() as conn:
        query = select(SyncRequest).where(SyncRequest.owner_id == owner).order_by(SyncRequest.id)
        return list(await conn.execute(query))  # type: ignore[arg-type]


def _settings(stack: Stack, **changes: Any) -> Settings:
    return Settings(**{**stack.settings.model_dump(), **changes})


async def test_a_backfill_lands_the_rows_and_reaches_done(stack: Stack) -> None:
    await _connect(stack, "BACK01")
    days = [LAST - dt.timedelta(days=n) for n in range(3)]
    sleeps = [await stack.emulator.add_log("BACK01", "sleep", d, notify=False) for d in days]
    weights = [await stack.emulator.add_log("BACK01", "weight", d, notify=False) for d in days]
    await stack.emulator.reset_counters()
    span = ["--from", str(days[-1]), "--to", str(LAST), "--collections", "sleep,body"]

    status, out, err = await cli(stack.settings, "backfill", "BACK01", *span, "--detach")
    assert status == 0, err
    backfill_id = out.strip()
    assert "6 keys to fetch" in err
    status, out, err = await cli(stack.settings, "backfill", "status", backfill_id)
    assert status == 0, err
    # 3 days x (sleep 1 call + body 2 calls) at 150 - 30 calls per hour: 9 x 30 s.
    assert "0/6 done (0%), 0 failed, 6 pending, ETA 4m30s (9 calls at 120/h)" in out

    # The same range again resumes the same backfill, and shows its progress until done.
    waiting = await start_cli(stack.settings, "backfill", "BACK01", *span, "--interval", "0.1")
    assert waiting.stdout is not None
    async with asyncio.timeout(WAIT_SECONDS):
        resumed = (await waiting.stdout.readline()).decode()
    assert resumed.strip() == backfill_id
    async with worker(stack.settings):
        status, out, err = await finish(waiting, resumed)
    assert status == 0, err
    assert f"backfill {backfill_id} resumed" in err
    assert f"backfill {backfill_id}: 6/6 done (100%), 0 failed, 0 pending" in err
    assert err.rstrip().endswith(f"backfill {backfill_id}: done")

    assert (await stack.emulator.counters()).calls_total == 9  # each key fetched once
    assert len(await _requests(stack, "BACK01")) == 6
    for resource, table, added in (
        ("sleep", "sleep_log", sleeps),
        ("weight", "weight_log", weights),
    ):
        at_fitbit = {
            int(log["logId"])
            for day in days
            for log in (await stack.emulator.day("BACK01", resource, day)).logs
        }
        stored = {int(row["log_id"]) for row in await _rows(stack, table)}
        assert stored == at_fitbit
        assert {int(log["logId"]) for log in added} <= stored
    status, out, _ = await cli(stack.settings, "backfill", "list")
    assert out.startswith(f"{backfill_id}\tdone\t")


async def test_resume_and_retry_fetch_only_what_failed(stack: Stack) -> None:
    await _connect(stack, "BACK02")
    settings = _settings(stack, sync_max_attempts=2)
    broken = LAST - dt.timedelta(days=1)
    await stack.emulator.set_faults(
        error_rate=1.0, error_status=502, path_prefix=f"/1.2/user/BACK02/sleep/date/{broken}"
    )
    await stack.emulator.reset_counters()
    span = ["--from", str(LAST - dt.timedelta(days=3)), "--to", str(LAST), "--collections", "sleep"]
    async with worker(settings):
        status, out, err = await cli(settings, "backfill", "BACK02", *span, "--interval", "0.1")
        assert status == 1, err
        assert "3/4 done (75%), 1 failed, 0 pending" in err
        assert "1 keys failed; queue them again with: fitbit-subscriber sync retry" in err
        failed = [r for r in await _requests(stack, "BACK02") if r.status is SyncStatus.FAILED]
        assert [r.date for r in failed] == [broken]

        # Resuming fetches the failed key only; it fails again while Fitbit does.
        calls_before = (await stack.emulator.counters()).calls_total
        status, out, err = await cli(settings, "backfill", "BACK02", *span, "--interval", "0.1")
        assert status == 1, err
        assert "resumed: 1 keys to fetch" in err
        assert (await stack.emulator.counters()).calls_total - calls_before == 2  # two attempts

        status, out, err = await cli(settings, "sync", "status")
        assert "synced\t3" in out
        assert "failed\t1" in out

        await stack.emulator.clear_faults()
        status, out, err = await cli(settings, "sync", "retry", "--user", "BACK02")
        assert status == 0, err
        assert out.strip() == "queued 1 failed sync requests again"

        async def all_synced() -> bool:
            found = await _requests(stack, "BACK02")
            return all(r.status is SyncStatus.SYNCED for r in found)

        await eventually(all_synced)
    status, out, err = await cli(settings, "backfill", "status", backfill_id := "1")
    assert f"{backfill_id}\tdone\t" in out
    assert "4/4 done (100%)" in out


async def test_retried_keys_are_pending_from_when_they_are_due(stack: Stack) -> None:
    # One backfill call per hour: the second key is due after the next hour's reset, the
    # third an hour later; the sweeper must not take them for lost before then.
    settings = _settings(stack, rate_budget_reserve=149)
    days = [LAST - dt.timedelta(days=n) for n in range(3)]
    async with stack.engine.begin() as conn:
        await conn.execute(
            insert(SyncRequest),
            [
                {"provider": "fitbit", "owner_id": "RETRY1", "collection": "sleep", "date": d}
                | {"status": SyncStatus.FAILED, "pending_since": None, "last_error": "502"}
                for d in days
            ],
        )
    started = time.time()
    status, out, err = await cli(settings, "sync", "retry")
    assert status == 0, err
    assert out.strip() == "queued 3 failed sync requests again"

    found = await _requests(stack, "RETRY1")
    assert {r.status for r in found} == {SyncStatus.PENDING}
    due = sorted(r.pending_since.timestamp() for r in found if r.pending_since is not None)
    assert len(due) == 3
    reset = (started // 3600 + 1) * 3600
    assert due[0] == pytest.approx(started, abs=10)
    assert due[1:] == [pytest.approx(reset + 1, abs=10), pytest.approx(reset + 3601, abs=10)]


async def test_live_notifications_run_before_a_large_backfill(stack: Stack) -> None:
    await _connect(stack, "BACK03")
    span = [
        "--from",
        str(LAST - dt.timedelta(days=39)),
        "--to",
        str(LAST),
        "--collections",
        "sleep",
    ]
    status, _, err = await cli(stack.settings, "backfill", "BACK03", *span, "--detach")
    assert status == 0, err
    await stack.emulator.add_log("BACK03", "sleep", TODAY)
    deliveries = await stack.emulator.flush()
    assert {d.status for d in deliveries} == {204}

    async def live_synced() -> bool:
        found = {r.date: r for r in await _requests(stack, "BACK03")}
        return found[TODAY].status is SyncStatus.SYNCED

    async with worker(stack.settings):
        await eventually(live_synced)
        found = await _requests(stack, "BACK03")
    backfilled = [r for r in found if r.date != TODAY]
    assert len(backfilled) == 40
    # Queued after all 40 keys of the backfill, yet synced while most of them still wait.
    assert sum(r.status is SyncStatus.PENDING for r in backfilled) >= 30


async def test_a_live_change_to_a_day_a_backfill_has_queued_for_later_runs_now(
    stack: Stack,
) -> None:
    await _connect(stack, "BACK05")
    settings = _settings(stack, rate_budget_reserve=149)  # backfill: one call an hour
    span = ["--from", str(LAST - dt.timedelta(days=2)), "--to", str(LAST), "--collections", "sleep"]
    status, _, err = await cli(settings, "backfill", "BACK05", *span, "--detach")
    assert status == 0, err
    later = LAST - dt.timedelta(days=2)  # due after the next hour's reset, or an hour later
    added = await stack.emulator.add_log("BACK05", "sleep", later)
    assert {d.status for d in await stack.emulator.flush()} == {204}

    async def live_synced() -> bool:
        found = {r.date: r for r in await _requests(stack, "BACK05")}
        return found[later].status is SyncStatus.SYNCED

    async with worker(settings):
        await eventually(live_synced)
        found = {r.date: r for r in await _requests(stack, "BACK05")}
    assert int(added["logId"]) in {int(row["log_id"]) for row in await _rows(stack, "sleep_log")}
    # The rest of the backfill keeps its pace: the middle day still waits for its hour.
    assert found[LAST - dt.timedelta(days=1)].status is SyncStatus.PENDING


async def test_the_reserve_keeps_calls_for_live_work(stack: Stack) -> None:
    await _connect(stack, "BACK04")
    await stack.emulator.configure(rate_limit_per_hour=20)
    settings = _settings(stack, rate_budget_reserve=5)
    span = [
        "--from",
        str(LAST - dt.timedelta(days=29)),
        "--to",
        str(LAST),
        "--collections",
        "sleep",
    ]
    await stack.emulator.reset_counters()
    async with worker(settings):
        status, _, err = await cli(settings, "backfill", "BACK04", *span, "--detach")
        assert status == 0, err

        async def budget_spent() -> bool:
            found = await _requests(stack, "BACK04")
            return sum(r.status is SyncStatus.SYNCED for r in found) >= 1 and (
                (await stack.emulator.counters()).calls_total >= 1
            )

        await eventually(budget_spent)
        await asyncio.sleep(8)  # every backfill key is due by now: 30 x 0.2 s
        synced = sum(r.status is SyncStatus.SYNCED for r in await _requests(stack, "BACK04"))
        await stack.emulator.add_log("BACK04", "sleep", TODAY)
        assert {d.status for d in await stack.emulator.flush()} == {204}

        async def live_synced() -> bool:
            found = {r.date: r for r in await _requests(stack, "BACK04")}
            return TODAY in found and found[TODAY].status is SyncStatus.SYNCED

        await eventually(live_synced)
    counters = await stack.emulator.counters()
    assert counters.rate_limited_total == 0
    # Subscribing spent some of the 20; backfill stopped with 5 left, live work took one.
    assert synced < 30
    assert counters.calls_by_user.get("BACK04", counters.calls_total) <= 20


async def _client(stack: Stack, scope: str) -> Credentials:
    async with stack.engine.begin() as conn:
        made = await clients.create(conn, f"downstream-{scope}", frozenset([scope]))
    return Credentials(made.record.client_id, made.secret)


async def test_the_api_starts_a_backfill_and_reads_its_progress(stack: Stack) -> None:
    await _connect(stack, "BACK05")
    async with stack.engine.connect() as conn:
        user_id = await conn.scalar(
            select(ProviderAccount.user_id).where(ProviderAccount.external_id == "BACK05")
        )
    writer = await get_token(stack.service, await _client(stack, scopes.SUBSCRIPTIONS_WRITE))
    reader = await get_token(stack.service, await _client(stack, scopes.READ))
    body = {
        "data": {
            "type": "backfills",
            "attributes": {"from": str(LAST - dt.timedelta(days=1)), "to": str(LAST)},
        }
    }
    headers = {"Content-Type": "application/vnd.api+json"}
    async with (
        jsonapi_client(stack.service, writer) as v1,
        jsonapi_client(stack.service, reader) as read,
    ):
        created = await v1.post(f"/v1/users/{user_id}/backfills", json=body, headers=headers)
        assert created.status_code == 202, created.text
        data = created.json()["data"]
        assert data["type"] == "backfills"
        attributes = data["attributes"]
        assert (attributes["total"], attributes["pending"], attributes["status"]) == (
            8,
            8,
            "running",
        )
        assert attributes["collections"] == ["activities", "body", "foods", "sleep"]
        assert attributes["eta_seconds"] == 7 * 2 * 30  # 2 days x 7 calls at 120/h
        assert created.headers["location"] == data["links"]["self"]

        refused = await read.post(f"/v1/users/{user_id}/backfills", json=body, headers=headers)
        assert refused.status_code == 403

        async with worker(stack.settings):

            async def done() -> bool:
                got = await read.get(f"/v1/backfills/{data['id']}")
                assert got.status_code == 200, got.text
                return bool(got.json()["data"]["attributes"]["status"] == "done")

            await eventually(done)
        listed = await read.get("/v1/backfills", params={"filter[user]": str(user_id)})
        [item] = listed.json()["data"]
        assert (item["attributes"]["done"], item["attributes"]["eta_seconds"]) == (8, 0)

        for user, attributes, status, where in [
            (user_id, {"from": str(LAST), "to": str(LAST - dt.timedelta(days=1))}, 422, "from"),
            (user_id, {"from": "2024-13-01", "to": str(LAST)}, 422, "from"),
            (
                user_id,
                {"from": str(LAST), "to": str(LAST), "collections": ["x"]},
                422,
                "collections",
            ),
            (user_id, {"from": "2020-01-01", "to": str(LAST)}, 422, "to"),
            (user_id, {"to": str(LAST)}, 422, "from"),
            (999_999, {"from": str(LAST), "to": str(LAST)}, 404, None),
            ("nobody", {"from": str(LAST), "to": str(LAST)}, 404, None),
        ]:
            document = {"data": {"type": "backfills", "attributes": attributes}}
            bad = await v1.post(f"/v1/users/{user}/backfills", json=document, headers=headers)
            assert bad.status_code == status, (attributes, bad.text)
            [error] = bad.json()["errors"]
            if where is not None:
                assert error["source"]["pointer"].endswith(f"/attributes/{where}"), error
        missing = await read.get("/v1/backfills/12345")
        assert missing.status_code == 404


async def test_the_command_line_refuses_bad_input_in_one_line(stack: Stack) -> None:
    await _connect(stack, "BACK06")
    cases = [
        (["backfill", "NOBODY", "--from", str(LAST), "--to", str(LAST)], "no user 'NOBODY'"),
        (["backfill", "BACK06", "--from", "2024-02-30", "--to", str(LAST)], "from must be a date"),
        (["backfill", "BACK06", "--from", str(LAST), "--to", "2020-01-01"], "is after to"),
        (["backfill", "BACK06", "--from", "2020-01-01", "--to", str(LAST)], "more than 366 days"),
        (
            ["backfill", "BACK06", "--from", str(LAST), "--to", str(LAST), "--collections", "hr"],
            "unknown collection 'hr'",
        ),
        (["backfill", "BACK06", "--from", str(LAST)], "backfill needs --to"),
        (["backfill", "status", "77"], "no backfill 77"),
        (["sync", "retry", "--since", "yesterday"], "--since must be a date"),
        (["sync", "retry", "--collection", "hr"], "unknown collection 'hr'"),
    ]
    for args, message in cases:
        status, _, err = await cli(stack.settings, *args)
        assert status == 2, (args, err)
        assert err.count("\n") == 1, err
        assert message in err
        assert "Traceback" not in err
    assert await _requests(stack, "BACK06") == []
