"""Freshness: from a change made at the emulator to its rows committed in our database.

100 people connected through the real OAuth flow; the emulator answers every Fitbit call after
50 ms and pushes each notification at once; the real API and two arq worker processes. Changes
are made open loop at a fixed rate, a mix of the activity summary's steps (activities: two
calls), a new sleep log (sleep: one call) and a new weight log (body: two calls). A change is
fresh when a poll of our tables (every 20 ms) first sees its value, or a later value of the same
day. Timed from the moment the change was sent to the emulator, so the figure is an upper bound.
Run with the debounce off and with its default.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import random
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import psutil

from bench.common import Figure, at_most, percentile
from bench.stack import Options, Stack, fitbit_users, open_stack, processes
from service.settings import Settings

USERS = 100
RATE = 50.0
LATENCY_MS = 50
POLL_SECONDS = 0.02
WORKERS = 2
DRAIN_SECONDS = 15.0
LOG_TABLES = {"sleep": "sleep_log", "weight": "weight_log"}


@dataclass
class Tracker:
    """Changes made and not yet seen in our tables, and how long the seen ones took."""

    steps: dict[tuple[int, dt.date], list[tuple[int, float]]] = field(default_factory=dict)
    logs: dict[str, dict[int, float]] = field(
        default_factory=lambda: {resource: {} for resource in LOG_TABLES}
    )
    ages: list[float] = field(default_factory=list)
    locks: dict[str, asyncio.Lock] = field(default_factory=dict)
    failed_changes: Counter[str] = field(default_factory=Counter)

    def unseen(self) -> int:
        return sum(map(len, self.steps.values())) + sum(map(len, self.logs.values()))

    async def poll(self, stack: Stack, day: dt.date) -> None:
        at = time.perf_counter()
        rows = await stack.db.fetch(
            "SELECT user_id, steps FROM activity_summary WHERE date = $1", day
        )
        for row in rows:
            waiting = self.steps.get((row["user_id"], day), [])
            seen = [t for value, t in waiting if value <= (row["steps"] or 0)]
            self.ages += [at - t for t in seen]
            self.steps[(row["user_id"], day)] = [c for c in waiting if c[0] > (row["steps"] or 0)]
        for resource, table in LOG_TABLES.items():
            waiting_logs = self.logs[resource]
            if not waiting_logs:
                continue
            found = await stack.db.fetch(
                f"SELECT log_id FROM {table} WHERE log_id = ANY($1::numeric[])",  # noqa: S608
                list(waiting_logs),
            )
            for row in found:
                self.ages.append(at - waiting_logs.pop(int(row["log_id"])))


async def change(
    stack: Stack, tracker: Tracker, user: str, day: dt.date, kind: str, value: int
) -> None:
    sent = time.perf_counter()
    try:
        if kind == "activities":
            # One person's steps change in the order sent: a later value replaces an earlier.
            async with tracker.locks.setdefault(user, asyncio.Lock()):
                sent = time.perf_counter()
                key = (stack.users[user], day)
                tracker.steps.setdefault(key, []).append((value, sent))
                await stack.control.change_summary(user, day, {"steps": value})
        else:
            made = await stack.control.add_log(user, kind, day)
            tracker.logs[kind][int(made["logId"])] = sent
    except Exception as exc:  # noqa: BLE001 - counted and reported, never fatal to the run
        tracker.failed_changes[type(exc).__name__] += 1


async def scenario(stack: Stack, seconds: float, rate: float) -> dict[str, Any]:
    users = fitbit_users(USERS, "F")
    await stack.connect(users)
    await stack.control.set_faults(latency_ms=LATENCY_MS)
    day = (await stack.control.clock()).now.date()
    rng = random.Random(20261123)
    tracker = Tracker()
    stop = asyncio.Event()

    async def poller() -> None:
        while not stop.is_set():
            await tracker.poll(stack, day)
            await asyncio.sleep(POLL_SECONDS)

    polling = asyncio.create_task(poller())
    psutil.cpu_percent()
    tasks = set()
    start = time.perf_counter()
    total = int(seconds * rate)
    for i in range(total):
        if (delay := start + i / rate - time.perf_counter()) > 0:
            await asyncio.sleep(delay)
        kind = rng.choice(("activities", "activities", "sleep", "weight"))
        task = asyncio.create_task(
            change(stack, tracker, rng.choice(users), day, kind, 1_000_000 + i)
        )
        tasks.add(task)
        task.add_done_callback(tasks.discard)
    achieved = total / (time.perf_counter() - start)
    await asyncio.gather(*tasks)
    busy = psutil.cpu_percent() / 100
    backlog = await stack.pending()
    deadline = time.monotonic() + DRAIN_SECONDS
    while tracker.unseen() and time.monotonic() < deadline:
        stack.processes.check()
        await asyncio.sleep(0.1)
    stop.set()
    await polling
    return {
        "changes": total,
        "achieved_rate": achieved,
        "seen": len(tracker.ages),
        "unseen": tracker.unseen(),
        "failed_changes": sum(tracker.failed_changes.values()),
        "failures": dict(tracker.failed_changes),
        "p50_ms": percentile(tracker.ages, 0.5) * 1000,
        "p99_ms": percentile(tracker.ages, 0.99) * 1000,
        "max_ms": max(tracker.ages, default=0.0) * 1000,
        "cpu_busy": busy,
        "backlog": backlog,
    }


def measure(debounce: float, seconds: float, rate: float) -> dict[str, Any]:
    options = Options(debounce_seconds=debounce)
    with processes(options, "freshness") as running, running.workers(WORKERS, "freshness-worker"):

        async def main() -> dict[str, Any]:
            async with open_stack(running) as stack:
                return await scenario(stack, seconds, rate)

        return asyncio.run(main())


def run(seconds: float = 10, rate: float = RATE) -> list[Figure]:
    default = float(Settings.model_fields["sync_debounce_seconds"].default)
    off = measure(0.0, seconds, rate)
    on = measure(default, seconds, rate)
    made = [
        _figure("freshness p50, debounce 0", off, "p50_ms", 250.0),
        _figure("freshness p99, debounce 0", off, "p99_ms", 1000.0),
        _figure(f"freshness p50, debounce {default:g} s", on, "p50_ms", None),
        _figure(f"freshness p99, debounce {default:g} s", on, "p99_ms", default * 1000 + 1000),
    ]
    for label, result in (("debounce 0", off), (f"debounce {default:g} s", on)):
        lost = int(result["unseen"]) + int(result["failed_changes"])
        made.append(
            Figure(
                f"freshness changes not seen, {label}",
                lost,
                "count",
                "== 0",
                lost == 0,
                f"of {result['changes']} changes",
                f"{result['failed_changes']} changes failed at the emulator's control API "
                f"{result['failures']}, "
                f"{result['unseen']} not in our tables {DRAIN_SECONDS:g} s after the last",
            )
        )
    return made


def _figure(name: str, result: dict[str, Any], key: str, ceiling: float | None) -> Figure:
    value = float(result[key])
    target, met = at_most(value, ceiling) if ceiling is not None else ("", None)
    detail = (
        f"{result['changes']} changes at {result['achieved_rate']:.1f}/s over {USERS} users, "
        f"Fitbit latency {LATENCY_MS} ms, {WORKERS} workers, 1 API process; "
        f"poll every {POLL_SECONDS * 1000:g} ms; max {result['max_ms']:.0f} ms; "
        f"CPU busy {result['cpu_busy']:.0%} of all cores"
    )
    detail += f"; {result['backlog']} keys pending when the last change was made"
    if met is False and result["backlog"] > USERS / 10:
        detail += (
            "; missed: the workers fell behind the changes (a backlog of keys built up while "
            f"the cores were {result['cpu_busy']:.0%} busy; sync jobs are CPU-bound, see the "
            "worker throughput figure), so changes waited in the queue"
        )
    elif met is False:
        detail += (
            f"; missed: the cores were {result['cpu_busy']:.0%} busy with the emulator, API, "
            "workers, PostgreSQL and the change generator"
            if result["cpu_busy"] > 0.85
            else "; missed with cores to spare: the time is in the pipeline"
        )
    return Figure(name, value, "ms", target, met, "a change's own send time", detail)
