"""Google Health figures, against the emulator's Google mode (`make bench ONLY=google`).

- ingest: signed Google pushes to `POST /google-health/webhook` (pre-signed with ECDSA P-256
  keys of the emulator's keyset code, served to the service as its Tink keyset URL), against
  the bare ASGI app under the same wrk, with `bench.ingest`'s machinery: one notification
  object per POST (Google's example) over distinct and hot keys, and 50-item JSON arrays.
- calls: distinct (person, data type, date) keys, each notified once through the emulator's
  AUTOMATIC subscriber, cost exactly their fetch plans' dataPoints calls
  (`service/providers/google_health/fetch.py`: the activity summary 7, nutrition and water
  logs 2, the other logs 1) and no 429 from the 300 calls/person/minute limit.
- storm: 20 new steps points per person's day within 10 s, with the default debounce: fetches
  per key, and our daily steps equal to the emulator's.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import json
import random
import shutil
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from bench import ingest
from bench.common import LOCAL, Figure, fresh_database
from bench.stack import GOOGLE, Options, Processes, Stack, open_stack, processes
from bench.sync import DEFAULT_DEBOUNCE, bounded, storm_figures
from service.emulator.google.keyset import Keyring, SigningKey
from service.emulator.google.models import GoogleCountersView
from service.emulator.google.state import interval, notification
from service.emulator.google.users import GoogleUser
from service.emulator.testing import serve_app
from service.providers.google_health import fetch
from service.providers.google_health.datatypes import SUMMARY_COLLECTION, collection

# One data type per sync collection: a steps change stands for the whole activity summary.
DATA_TYPES = ("steps", "exercise", "sleep", "weight", "body-fat", "nutrition-log", "hydration-log")
FIRST_DAY = dt.date(2026, 10, 1)
WEBHOOK = {
    "WEBHOOK_PATH": "/google-health/webhook",
    "SIGNATURE_HEADER": "X-HEALTHAPI-SIGNATURE",
    "AUTHORIZATION": GOOGLE.webhook_secret,
}
INGEST_TARGETS = {"distinct keys, 1 item": 0.10, "hot keys, 1 item": 0.08}
STORM_LATENCY_MS = 50


def run() -> list[Figure]:
    return [*run_ingest(), *run_calls(), *run_storm()]


# -- ingest ---------------------------------------------------------------------------------


def run_ingest(seconds: int = 5, connections: int = 64, workers: int = 2) -> list[Figure]:
    if shutil.which("wrk") is None:
        return [dataclasses.replace(ingest.skipped(), name="google ingest throughput")]
    keys = Keyring()
    bodies = shapes(random.Random(20261122), keys.primary)
    with serve_app(keyset_app(keys)) as keyset_url, fresh_database() as database_url:
        env = {
            **ingest.service_env(database_url, workers),
            "ENABLED_PROVIDERS": "google_health",
            "GOOGLE_HEALTH_CLIENT_ID": GOOGLE.client_id,
            "GOOGLE_HEALTH_CLIENT_SECRET": GOOGLE.client_secret,
            "GOOGLE_HEALTH_REDIRECT_URI": "http://127.0.0.1:9/google-health/callback",
            "GOOGLE_HEALTH_WEBHOOK_SECRET": GOOGLE.webhook_secret,
            "GOOGLE_HEALTH_KEYSET_URL": keyset_url + GOOGLE.keyset_path,
        }
        bare, ours = ingest.bare_command(workers), ingest.service_command(workers)
        measure = (bodies, seconds, connections)
        baseline = ingest.measure_shapes(bare, {}, *measure, "google-ingest-bare", WEBHOOK)
        service = ingest.measure_shapes(ours, env, *measure, "google-ingest", WEBHOOK)
    load = (
        f"wrk, {connections} connections, {seconds} s per shape, {workers} uvicorn workers; "
        "each request signed (ECDSA P-256) and carrying the subscriber secret"
    )
    return [
        ingest.figure(shape, base, service[shape], load, INGEST_TARGETS, "google ingest throughput")
        for shape, base in baseline.items()
    ]


def keyset_app(keys: Keyring) -> Starlette:
    """Google's public keyset URL, serving the keys the bodies were signed with."""

    async def keyset(request: Request) -> JSONResponse:
        return JSONResponse(keys.published())

    return Starlette(routes=[Route(GOOGLE.keyset_path, keyset)])


def item(rng: random.Random) -> dict[str, Any]:
    """One notification as the emulator sends it: a random person, data type and local day."""
    user = GoogleUser(f"g{rng.randrange(100_000):05d}")
    day = FIRST_DAY + dt.timedelta(days=rng.randrange(30))
    start = dt.datetime.combine(day, dt.time(rng.randrange(24)), tzinfo=dt.UTC)
    zero = dt.timedelta(0)
    changed = interval(start, start + dt.timedelta(minutes=15), zero, zero)
    name = str(uuid.UUID(int=rng.getrandbits(128), version=4))
    return notification(name, user, rng.choice(DATA_TYPES), "UPSERT", [changed])


def write_bodies(path: Path, payloads: list[Any], key: SigningKey) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w") as out:
        for payload in payloads:
            body = json.dumps(payload)
            out.write(f"{key.header(body.encode())}\t{body}\n")
    return path


def shapes(rng: random.Random, key: SigningKey) -> dict[str, Path]:
    return {
        "distinct keys, 1 item": write_bodies(
            LOCAL / "google-distinct.txt", [item(rng) for _ in range(4000)], key
        ),
        "hot keys, 1 item": write_bodies(LOCAL / "google-hot.txt", [item(rng)], key),
        "distinct keys, 50 items": write_bodies(
            LOCAL / "google-fifty.txt", [[item(rng) for _ in range(50)] for _ in range(500)], key
        ),
    }


# -- calls per change -----------------------------------------------------------------------


def data_calls(counters: GoogleCountersView) -> int:
    """Calls to Google's dataPoints endpoints (not OAuth, identity or settings)."""
    return sum(n for endpoint, n in counters.calls_by_endpoint.items() if "/dataPoints" in endpoint)


def google_users(count: int, prefix: str) -> list[str]:
    return [f"{prefix}{i:05d}" for i in range(count)]


def noon(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(12), tzinfo=dt.UTC)


def run_calls(users: int = 25, days: int = 4) -> list[Figure]:
    with processes(Options(google=True), "google-calls") as running:
        result = asyncio.run(_notified(running, users, days))
        with running.workers(2, "google-calls-worker"):
            settled, counters = asyncio.run(_counted(running))
    calls, keys, minimal = data_calls(counters), result["keys"], result["minimal"]
    per_user = max(counters.calls_by_user.values(), default=0)
    detail = (
        f"{users} people x {len(DATA_TYPES)} data types x {days} days, each notified once: "
        f"{keys} keys {result['by_collection']}; dataPoints calls {calls}, minimal {minimal}; "
        f"busiest person {per_user} calls; token refreshes {counters.token_refreshes}; "
        f"pushes answered {counters.notification_responses}; 2 workers"
    )
    if not settled:
        detail += "; sync requests still pending after 120 s"
    if calls != minimal:
        detail += f"; calls by endpoint {counters.calls_by_endpoint}"
    limited = counters.rate_limited_total
    return [
        Figure(
            f"google calls per key, {keys:,} distinct keys",
            calls / keys,
            "calls/key",
            f"== {minimal / keys:.3g} (the fetch plans)",
            calls == minimal,
            f"minimal {minimal / keys:.3g} calls/key",
            detail,
        ),
        Figure(
            "google 429s (300 calls/person/minute)",
            limited,
            "count",
            "== 0",
            limited == 0,
            f"of {counters.calls_total} calls",
            f"429s by person: {dict(list(counters.rate_limited_by_user.items())[:3])}",
        ),
    ]


async def _notified(running: Processes, users: int, days: int) -> dict[str, Any]:
    """People connected, every key notified and committed (queued) before a worker starts."""
    async with open_stack(running) as stack:
        people = google_users(users, "gc")
        await stack.connect_google(people)
        today = (await stack.control.clock()).now.date()
        changes = [
            (user, data_type, today - dt.timedelta(days=d))
            for user in people
            for data_type in DATA_TYPES
            for d in range(days)
        ]
        await stack.control.google.reset_counters()
        await bounded(stack.control.google.notify(u, t, noon(day)) for u, t, day in changes)
        keys = {(u, collection(t), day) for u, t, day in changes}
        count = "SELECT count(*) FROM sync_request"
        async with asyncio.timeout(120):
            while await stack.db.fetchval(count) < len(keys):
                running.check()
                await asyncio.sleep(0.1)
        minimal = sum(len(fetch.plan(c, day)) for _, c, day in keys)
        by_collection = dict(Counter(c for _, c, _ in keys))
        return {"keys": len(keys), "minimal": minimal, "by_collection": by_collection}


async def _counted(running: Processes) -> tuple[bool, GoogleCountersView]:
    async with open_stack(running) as stack:
        settled = await stack.wait_settled(120, quiet=0.5)
        return settled, await stack.control.google.counters()


# -- a storm of notifications per key -------------------------------------------------------


def run_storm(keys: int = 25, per_key: int = 20, seconds: float = 10) -> list[Figure]:
    options = Options(google=True, debounce_seconds=DEFAULT_DEBOUNCE)
    with processes(options, "google-storm") as running, running.workers(2, "google-storm-worker"):
        result = asyncio.run(_storm(running, keys, per_key, seconds))
    load = (
        f"{keys} keys (a person's activity summary) x {per_key} new steps points at random "
        f"moments in {seconds:g} s ({keys * per_key / seconds:.0f} changes/s), Google latency "
        f"{STORM_LATENCY_MS} ms, debounce {DEFAULT_DEBOUNCE:g} s, 2 workers, a fetch "
        f"{result['plan']} calls"
    )
    differ = "steps differ from the emulator's"
    return storm_figures("google storm", differ, result, load, per_key=per_key, seconds=seconds)


async def _storm(running: Processes, keys: int, per_key: int, seconds: float) -> dict[str, Any]:
    async with open_stack(running) as stack:
        google = stack.control.google
        people = google_users(keys, "gs")
        await stack.connect_google(people)
        await stack.control.set_faults(latency_ms=STORM_LATENCY_MS)
        day = (await stack.control.clock()).now.date()
        await google.reset_counters()
        rng = random.Random(20261125)
        start = asyncio.get_running_loop().time()
        midnight = dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC)

        async def storm(user: str, moments: list[float]) -> None:
            for n, at in enumerate(moments):
                if (delay := start + at - asyncio.get_running_loop().time()) > 0:
                    await asyncio.sleep(delay)
                # A quarter-hour of its own each, so every change adds steps to the day.
                begins = midnight + dt.timedelta(minutes=15 * n, seconds=7)
                await google.add_point(user, "steps", day, start=begins)

        moments = [sorted(rng.uniform(0, seconds) for _ in range(per_key)) for _ in people]
        await asyncio.gather(*(storm(u, m) for u, m in zip(people, moments, strict=True)))
        await stack.wait_settled(60, quiet=DEFAULT_DEBOUNCE + 1)
        counters = await google.counters()
        plan = len(fetch.plan(SUMMARY_COLLECTION, day))
        fetches = [counters.calls_by_user.get(user, 0) // plan for user in people]
        stale = await _stale_steps(stack, day, people)
        return {
            "fetches": fetches,
            "plan": plan,
            "stale": stale,
            "unsettled": await stack.pending(),
        }


async def _stale_steps(stack: Stack, day: dt.date, people: list[str]) -> list[str]:
    rows = await stack.db.fetch("SELECT user_id, steps FROM activity_summary WHERE date = $1", day)
    ours = {row["user_id"]: row["steps"] for row in rows}
    stale = []
    for user in people:
        points = await stack.control.google.day(user, "steps", day)
        theirs = sum(int(p["point"]["steps"]["count"]) for p in points)
        if ours.get(stack.users[user]) != theirs:
            stale.append(f"{user}: ours {ours.get(stack.users[user])}, emulator {theirs}")
    return stale
