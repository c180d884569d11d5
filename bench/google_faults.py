"""The fault suite's Google Health scenarios (`make faults ONLY=google-replay,...`).

As `bench.faults`, on the same private PostgreSQL and Redis and with the same short settings,
but with the service running the Google Health provider against the emulator's Google mode:
people connect through Google's OAuth flow, and the emulator's AUTOMATIC subscriber pushes its
signed notifications through the relay (`bench.delivery`) to `/google-health/webhook`. The
workload adds steps (twice as often), a point of each log type, changes a weight and deletes a
drink; then every changed (person, collection, date) must have a synced sync request, and our
rows must equal the points the emulator serves (ids and a value of each; the day's steps).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from bench.delivery import Relay, relaying
from bench.faults import (
    DAYS,
    DEBOUNCE,
    SCENARIOS,
    SETTINGS,
    USERS,
    Check,
    Run,
    Scenario,
    Workers,
    check_requests,
    compare_logs,
    faulted,
    settled_and_checked,
    stored,
    workload,
)
from bench.private import PrivatePostgres, PrivateRedis
from bench.stack import GOOGLE, Options, Processes, Stack, open_stack, processes
from service.providers.google_health.datatypes import SUMMARY_COLLECTION, collection
from service.providers.google_health.values import point_id

# What a change is: steps (twice as often), a new point of each log type, a weight changed,
# a drink deleted.
KINDS = ["steps", "steps", "exercise", "weight", "body-fat", "nutrition-log", "hydration-log"]
KINDS += ["sleep", "reweigh", "unwater"]


def _get(point: dict[str, Any], *path: str) -> Any:
    value: Any = point
    for name in path:
        value = value.get(name) if isinstance(value, dict) else None
    return value


def _calories(point: dict[str, Any]) -> Any:
    kcal = _get(point, "exercise", "metricsSummary", "caloriesKcal")
    return None if kcal is None else round(float(kcal))  # an integer column


def _grams_to_kg(point: dict[str, Any]) -> Any:
    grams = _get(point, "weight", "weightGrams")
    return None if grams is None else float(grams) / 1000


# data type -> (our table, our column, the emulator's value of a served point)
TABLES: dict[str, tuple[str, str, Callable[[dict[str, Any]], Any]]] = {
    "exercise": ("activity_log", "calories", _calories),
    "sleep": ("sleep_log", "NULL", lambda p: None),
    "weight": ("weight_log", "weight_kg", _grams_to_kg),
    "body-fat": ("body_fat_log", "fat_percent", lambda p: _get(p, "bodyFat", "percentage")),
    "nutrition-log": ("food_log", "calories", lambda p: _get(p, "nutritionLog", "energy", "kcal")),
    "hydration-log": (
        "water_log",
        "amount_ml",
        lambda p: _get(p, "hydrationLog", "amountConsumed", "milliliters"),
    ),
}


def scenario(name: str) -> Scenario:
    """The Fitbit scenario of the same fault, under its Google name."""
    fitbit = next(s for s in SCENARIOS if s.name == name.removeprefix("google-"))
    return Scenario(
        name,
        fitbit.title,
        fitbit.fault,
        fitbit.bound,
        copies=fitbit.copies,
        env=fitbit.env,
        latency_ms=fitbit.latency_ms,
    )


@dataclass
class GoogleRun(Run):
    # Point ids added, per (person, data type, date), for changes and deletes.
    points: dict[tuple[str, str, dt.date], list[str]] = field(default_factory=dict)


def run_scenario(name: str, postgres: PrivatePostgres, redis: PrivateRedis) -> dict[str, Any]:
    chosen = scenario(name)
    env = {**SETTINGS, **chosen.env}
    with scenario_stack(name, chosen.env, chosen.copies) as (running, relay):
        workers = Workers(running.env, f"faults-{name}")
        try:
            return asyncio.run(_scenario(chosen, running, relay, workers, postgres, redis, env))
        finally:
            workers.stop()


@contextlib.contextmanager
def scenario_stack(
    name: str, env: dict[str, str], copies: int
) -> Iterator[tuple[Processes, Relay]]:
    options = Options(debounce_seconds=DEBOUNCE, extra_env={**SETTINGS, **env}, google=True)
    with (
        processes(options, f"faults-{name}") as running,
        relaying(f"{running.api_url}/google-health/webhook", copies=copies) as (relay_url, relay),
    ):
        running.env["FAULTS_RELAY_URL"] = relay_url
        yield running, relay


async def _scenario(
    scenario: Scenario,
    running: Processes,
    relay: Relay,
    workers: Workers,
    postgres: PrivatePostgres,
    redis: PrivateRedis,
    env: dict[str, str],
) -> dict[str, Any]:
    async with open_stack(running) as stack:
        # The emulator's preset subscriber, pointed at the relay.
        await stack.control.google.register_subscriber(
            "emulator", running.env["FAULTS_RELAY_URL"], GOOGLE.webhook_secret
        )
        await stack.connect_google([f"gx{n:05d}" for n in range(USERS)])
        today = (await stack.control.clock()).now.date()
        days = [today - dt.timedelta(days=n) for n in range(DAYS)]
        if scenario.latency_ms:
            await stack.control.set_faults(latency_ms=scenario.latency_ms)
        workers.start(2)
        run = GoogleRun(
            stack, running, postgres, redis, relay, workers, random.Random(scenario.name)
        )
        run.note(
            f"{len(stack.users)} people connected through Google, 2 workers started, "
            f"Google answers after {scenario.latency_ms} ms"
        )
        await asyncio.gather(workload(run, days, KINDS, _change), faulted(run, scenario.fault))
        return await settled_and_checked(run, scenario, env, check, "google_health")


async def _change(
    run: GoogleRun, gate: asyncio.Semaphore, user: str, day: dt.date, kind: str, value: int
) -> None:
    google = run.stack.control.google
    async with gate:
        try:
            if kind == "reweigh" and (ids := run.points.get((user, "weight", day))):
                data_type = "weight"
                grams = {"weightGrams": float(40_000 + value)}
                await google.change_point(user, data_type, day, run.rng.choice(ids), values=grams)
            elif kind == "unwater" and (ids := run.points.get((user, "hydration-log", day))):
                data_type = "hydration-log"
                await google.delete_point(user, data_type, day, ids.pop())
            else:
                data_type = kind if kind in TABLES or kind == "steps" else "hydration-log"
                made = await google.add_point(user, data_type, day, start=_moment(run, day))
                run.points.setdefault((user, data_type, day), []).append(str(made["id"]))
        except Exception as exc:  # noqa: BLE001 - counted and reported, never fatal to the run
            run.change_errors[type(exc).__name__] += 1
            return
    run.changes += 1
    run.touched.add((user, collection(data_type), day))


def _moment(run: GoogleRun, day: dt.date) -> dt.datetime:
    """A time in the day's middle, so that a point stays on its date in any of its parts."""
    seconds = run.rng.randrange(6 * 3600, 17 * 3600)
    return dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC) + dt.timedelta(seconds=seconds)


# -- the check -------------------------------------------------------------------------------


async def check(stack: Stack, touched: set[tuple[str, str, dt.date]]) -> Check:
    """Our database against the emulator, for every Google key we hold a sync request of."""
    result = Check()
    keys = await check_requests(stack, "google_health", touched, result)
    gate = asyncio.Semaphore(16)

    async def served(user: str, data_type: str, day: dt.date) -> list[dict[str, Any]]:
        async with gate:
            return await stack.control.google.day(user, data_type, day)

    for data_type, (table, column, value) in TABLES.items():
        wanted = sorted((u, d) for u, c, d in keys if c == data_type)
        ours = await stored(stack, table, column, "google_health")
        views = await asyncio.gather(*(served(u, data_type, d) for u, d in wanted))
        for (user, day), view in zip(wanted, views, strict=True):
            points = [item["point"] for item in view]
            theirs = {point_id(str(p["name"]), data_type, ""): value(p) for p in points}
            mine = ours.pop((user, day), [])
            result.duplicates += len(mine) - len({log_id for log_id, _ in mine})
            compare_logs(result, f"{user} {data_type} {day} {table}", dict(mine), theirs)
        result.extra_rows += [
            f"{table} {user} {day}: {len(rows)} rows of a key never notified"
            for (user, day), rows in ours.items()
        ]
    wanted = sorted((u, d) for u, c, d in keys if c == SUMMARY_COLLECTION)
    await _compare_steps(stack, result, wanted)
    return result


async def _compare_steps(stack: Stack, result: Check, wanted: list[tuple[str, dt.date]]) -> None:
    rows = await stack.db.fetch(
        "SELECT a.external_id, s.date, s.steps FROM activity_summary s "
        "JOIN provider_account a ON a.user_id = s.user_id WHERE s.provider = 'google_health'"
    )
    ours = {(r["external_id"], r["date"]): r["steps"] for r in rows}
    result.duplicates += len(rows) - len(ours)
    for user, day in wanted:
        points = await stack.control.google.day(user, "steps", day)
        theirs = sum(int(p["point"]["steps"]["count"]) for p in points)
        if ours.get((user, day)) != theirs:
            result.lost.append(
                f"{user} {SUMMARY_COLLECTION} {day}: steps ours {ours.get((user, day))}, "
                f"emulator {theirs}"
            )
