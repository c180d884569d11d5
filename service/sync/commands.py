"""`fitbit-subscriber backfill ...` and `fitbit-subscriber sync retry | status`."""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from typing import Any, TextIO

from arq.connections import ArqRedis
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from service import backfills, queue
from service.backfills import BackfillError, Progress
from service.settings import Settings
from service.store import sync_state
from service.store.db import create_engine, session_factory
from service.store.models import SyncRequest, SyncStatus

BAR_WIDTH = 30


def add_parsers(commands: Any) -> None:
    backfill = commands.add_parser(
        "backfill", help="fetch a person's history: every collection and day of a range"
    )
    backfill.add_argument(
        "user",
        metavar="USER",
        help="our user id or the Fitbit user id; or `status ID`, or `list` for the latest",
    )
    backfill.add_argument("id", nargs="?", help=argparse.SUPPRESS)
    backfill.add_argument("--from", dest="from_date", metavar="DATE", help="first day, YYYY-MM-DD")
    backfill.add_argument("--to", dest="to_date", metavar="DATE", help="last day, YYYY-MM-DD")
    backfill.add_argument(
        "--collections", help=f"comma-separated (default: {','.join(backfills.COLLECTIONS)})"
    )
    backfill.add_argument(
        "--detach", "--no-wait", action="store_true", help="queue it and print its id, no progress"
    )
    backfill.add_argument(
        "--interval", type=float, default=1.0, help="seconds between progress updates"
    )
    backfill.set_defaults(command=_backfill)

    sync = commands.add_parser("sync", help="sync requests: retry failed ones, counts by status")
    sync_actions = sync.add_subparsers(title="actions", required=True, dest="action")
    retry = sync_actions.add_parser("retry", help="queue failed sync requests again")
    retry.add_argument("--user", help="only this user's (our id or the Fitbit user id)")
    retry.add_argument("--collection", help="only this collection's")
    retry.add_argument("--since", metavar="DATE", help="only days from this one (YYYY-MM-DD)")
    sync_actions.add_parser("status", help="how many sync requests are in each status")
    sync.set_defaults(command=_sync)


def fail(message: str) -> int:
    print(f"fitbit-subscriber: {message}", file=sys.stderr)
    return 2


@dataclass(frozen=True, slots=True)
class Clients:
    engine: AsyncEngine
    redis: ArqRedis

    def session(self) -> AbstractAsyncContextManager[AsyncSession]:
        return session_factory(self.engine).begin()


@asynccontextmanager
async def _clients(settings: Settings) -> AsyncIterator[Clients]:
    engine = create_engine(settings, pool_size=1)
    redis = queue.connect(settings.redis_url)
    try:
        yield Clients(engine, redis)
    finally:
        await redis.aclose()
        await engine.dispose()


def _run(settings: Settings, action: Callable[[Clients], Awaitable[int]]) -> int:
    settings.require("database_url")

    async def main() -> int:
        async with _clients(settings) as clients:
            return await action(clients)

    try:
        return asyncio.run(main())
    except BackfillError as exc:
        return fail(str(exc))
    except queue.QueueUnavailable as exc:
        return fail(f"Redis is unavailable ({exc}); the sweeper queues what was recorded")


# -- backfill ----------------------------------------------------------------------------------


def _backfill(args: argparse.Namespace, settings: Settings) -> int:
    if args.user == "list" and args.id is None:
        return _run(settings, _list)
    if args.user == "status":
        if args.id is None or not args.id.isdigit():
            return fail("backfill status needs the backfill's id, a number")
        return _run(settings, lambda c: _status(c, int(args.id)))
    if args.id is not None:
        return fail(f"unexpected argument {args.id!r}")
    missing = [
        flag for flag, value in (("--from", args.from_date), ("--to", args.to_date)) if not value
    ]
    if missing:
        return fail(f"backfill needs {' and '.join(missing)}")
    try:
        collections = args.collections.split(",") if args.collections else None
        wanted = backfills.parse_range(args.from_date, args.to_date, collections)
    except BackfillError as exc:
        return fail(str(exc))
    started = _run_started(settings, args.user, wanted)
    if isinstance(started, int):
        return started
    if args.detach:
        return 0
    try:
        return _run(settings, lambda c: _watch(c, started, args.interval, sys.stderr))
    except KeyboardInterrupt:
        print(
            f"\nbackfill {started} keeps running in the workers; "
            f"follow it with: fitbit-subscriber backfill status {started}",
            file=sys.stderr,
        )
        return 130


def _run_started(settings: Settings, user: str, wanted: backfills.Range) -> int | str:
    """The id of the backfill started or resumed, printed; or the exit status of a failure."""
    result: list[str] = []

    async def start(clients: Clients) -> int:
        async with clients.session() as session:
            started = await backfills.start(
                session, user, wanted, reserve=settings.rate_budget_reserve
            )
        await backfills.enqueue(clients.redis, started)
        verb = "resumed" if started.resumed else "started"
        print(started.backfill_id, flush=True)
        print(
            f"backfill {started.backfill_id} {verb}: {len(started.schedule)} keys to fetch",
            file=sys.stderr,
            flush=True,
        )
        result.append(str(started.backfill_id))
        return 0

    status = _run(settings, start)
    return result[0] if result and status == 0 else status


async def _watch(clients: Clients, backfill_id: str, interval: float, out: TextIO) -> int:
    """Show progress until nothing is pending; a bar on a terminal, lines elsewhere."""
    terminal, last = out.isatty(), ""
    while True:
        async with clients.session() as session:
            now = await backfills.progress(session, int(backfill_id))
            if now.finished:
                await backfills.mark_finished(session, now.id)
        text = progress_text(now)
        if terminal:
            out.write(f"\r{bar(now)} {text}\x1b[K")
        elif text != last:
            out.write(text + "\n")
        out.flush()
        last = text
        if now.finished:
            if terminal:
                out.write("\n")
            return _finished(now, out)
        await asyncio.sleep(interval)


def _finished(progress: Progress, out: TextIO) -> int:
    if progress.failed:
        out.write(
            f"backfill {progress.id}: {progress.failed} keys failed; queue them again with: "
            f"fitbit-subscriber sync retry --user {progress.user_id}\n"
        )
        return 1
    out.write(f"backfill {progress.id}: done\n")
    return 0


def bar(progress: Progress) -> str:
    finished = progress.done + progress.failed
    filled = BAR_WIDTH * finished // max(progress.total, 1)
    return "[" + "#" * filled + "." * (BAR_WIDTH - filled) + "]"


def progress_text(progress: Progress) -> str:
    percent = 100 * progress.done // max(progress.total, 1)
    text = (
        f"backfill {progress.id}: {progress.done}/{progress.total} done ({percent}%), "
        f"{progress.failed} failed, {progress.pending} pending"
    )
    if progress.finished:
        return text
    return (
        f"{text}, ETA {eta_text(progress.eta_seconds)} "
        f"({progress.calls_left} calls at {progress.calls_per_hour}/h)"
    )


def eta_text(seconds: float) -> str:
    minutes, second = divmod(int(seconds), 60)
    hours, minute = divmod(minutes, 60)
    if hours:
        return f"{hours}h{minute:02d}m"
    return f"{minute}m{second:02d}s" if minute else f"{second}s"


async def _status(clients: Clients, backfill_id: int) -> int:
    async with clients.session() as session:
        progress = await backfills.progress(session, backfill_id)
    _describe(progress)
    return 0


async def _list(clients: Clients) -> int:
    async with clients.session() as session:
        found = await backfills.listing(session)
    for progress in found:
        _describe(progress)
    if not found:
        print("no backfills")
    return 0


def _describe(progress: Progress) -> None:
    collections = ",".join(progress.collections)
    print(
        f"{progress.id}\t{progress.status}\tuser {progress.user_id} ({progress.owner_id})\t"
        f"{progress.from_date}..{progress.to_date}\t{collections}\t{progress_text(progress)}"
    )


# -- sync --------------------------------------------------------------------------------------


def _sync(args: argparse.Namespace, settings: Settings) -> int:
    if args.action == "status":
        return _run(settings, _counts)
    try:
        since = backfills.parse_range(args.since, args.since).from_date if args.since else None
    except BackfillError:
        return fail(f"--since must be a date (YYYY-MM-DD), not {args.since!r}")
    if args.collection is not None and args.collection not in backfills.CALLS:
        return fail(
            f"unknown collection {args.collection!r}; "
            f"collections are: {', '.join(backfills.COLLECTIONS)}"
        )
    calls = backfills.calls_per_hour(settings.rate_budget_reserve)
    return _run(settings, lambda c: _retry(c, args, since, calls))


async def _retry(
    clients: Clients, args: argparse.Namespace, since: dt.date | None, calls_per_hour: int
) -> int:
    async with clients.session() as session:
        owner = (await backfills.find_account(session, args.user)).owner_id if args.user else None
        keys = await sync_state.reopen_failed(
            session, owner_id=owner, collection=args.collection, since=since
        )
        # Paced and at backfill priority, like a backfill: retrying many must not starve live
        # work, and a key due in hours is not lost in the meantime.
        now = time.time()
        schedule = backfills.schedule(keys, calls_per_hour, now)
        await sync_state.schedule_pending(session, schedule, now)
    await queue.enqueue_backfill(clients.redis, schedule)
    print(f"queued {len(keys)} failed sync requests again")
    return 0


async def _counts(clients: Clients) -> int:
    async with clients.session() as session:
        rows = await session.execute(
            select(SyncRequest.status, func.count()).group_by(SyncRequest.status)
        )
        counts = {status: int(count) for status, count in rows}
    for status in SyncStatus:
        print(f"{status.value}\t{counts.get(status, 0)}")
    return 0
