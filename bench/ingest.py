"""Ingest throughput: signed Fitbit batches, durably committed before the 204, against a bare
ASGI app answering 204 to the same requests with the same load tool, in the same run.

Shapes: distinct keys (pre-signed 3-item batches over ~100k users and a month of dates), hot
keys (one 3-item body repeated: a sync storm) and 50-item batches.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import shutil
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from bench.common import (
    CLIENT_ID,
    CLIENT_SECRET,
    LOCAL,
    TOKEN_KEY,
    VERIFICATION_CODE,
    Figure,
    Server,
    WrkResult,
    at_least,
    fresh_database,
    python_command,
    redis_url,
    serving,
    wrk,
)
from service import embedded
from service.providers.fitbit.signature import sign

COLLECTIONS = ("activities", "body", "foods", "sleep")
FIRST_DAY = dt.date(2026, 10, 1)


def item(rng: random.Random) -> dict[str, str]:
    owner = f"U{rng.randrange(100_000):05d}"
    collection = rng.choice(COLLECTIONS)
    return {
        "collectionType": collection,
        "date": (FIRST_DAY + dt.timedelta(days=rng.randrange(30))).isoformat(),
        "ownerId": owner,
        "ownerType": "user",
        "subscriptionId": f"{owner}-{collection}",
    }


def write_bodies(path: Path, batches: list[list[dict[str, str]]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w") as out:
        for batch in batches:
            body = json.dumps(batch, separators=(",", ":"))
            out.write(f"{sign(body.encode(), CLIENT_SECRET)}\t{body}\n")
    return path


def shapes(rng: random.Random) -> dict[str, Path]:
    distinct = [[item(rng) for _ in range(3)] for _ in range(4000)]
    hot = [[item(rng) for _ in range(3)]]
    fifty = [[item(rng) for _ in range(50)] for _ in range(500)]
    return {
        "distinct keys, 3 items": write_bodies(LOCAL / "distinct.txt", distinct),
        "hot keys, 3 items": write_bodies(LOCAL / "hot.txt", hot),
        "distinct keys, 50 items": write_bodies(LOCAL / "fifty.txt", fifty),
    }


@dataclass
class Measured:
    result: WrkResult
    peak_rss: int


def measure(
    server: Server,
    bodies: Path,
    seconds: int,
    connections: int,
    webhook: Mapping[str, str] | None = None,
) -> Measured:
    peak = [server.rss_bytes()]
    done = threading.Event()

    def sample() -> None:
        while not done.wait(0.2):
            peak[0] = max(peak[0], server.rss_bytes())

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        result = wrk(server.port, bodies, seconds=seconds, connections=connections, webhook=webhook)
    finally:
        done.set()
        sampler.join()
    return Measured(result, peak[0])


TARGETS = {"distinct keys, 3 items": 0.10, "hot keys, 3 items": 0.08}


def run(seconds: int = 5, connections: int = 64, workers: int = 2) -> list[Figure]:
    if shutil.which("wrk") is None:
        return [skipped()]
    bodies = shapes(random.Random(20261121))
    with fresh_database() as database_url:
        env = service_env(database_url, workers)
        baseline = measure_shapes(
            bare_command(workers), {}, bodies, seconds, connections, "ingest-bare"
        )
        service = measure_shapes(
            service_command(workers), env, bodies, seconds, connections, "ingest"
        )
    load = f"wrk, {connections} connections, {seconds} s per shape, {workers} uvicorn workers"
    return [figure(shape, base, service[shape], load) for shape, base in baseline.items()]


def measure_shapes(
    command: Callable[[int], list[str]],
    env: dict[str, str],
    bodies: dict[str, Path],
    seconds: int,
    connections: int,
    name: str,
    webhook: Mapping[str, str] | None = None,
) -> dict[str, Measured]:
    results = {}
    port = embedded.free_port()
    with serving(command(port), env, port, name) as server:
        for shape, path in bodies.items():
            wrk(port, path, seconds=1, connections=connections, webhook=webhook)  # warm-up
            results[shape] = measure(server, path, seconds, connections, webhook)
    return results


def bare_command(workers: int) -> Callable[[int], list[str]]:
    def command(port: int) -> list[str]:
        args = ["-m", "uvicorn", "bench.bare:app", "--port", str(port), "--workers", str(workers)]
        return python_command(*args, "--log-level", "warning", "--no-access-log")

    return command


def service_command(workers: int) -> Callable[[int], list[str]]:
    def command(port: int) -> list[str]:
        args = ["-m", "service.cli", "serve", "--host", "127.0.0.1", "--port", str(port)]
        return python_command(*args, "--workers", str(workers))

    return command


def service_env(database_url: str, workers: int) -> dict[str, str]:
    return {
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url(),
        "FITBIT_CLIENT_ID": CLIENT_ID,
        "FITBIT_CLIENT_SECRET": CLIENT_SECRET,
        "FITBIT_VERIFICATION_CODE": VERIFICATION_CODE,
        "FITBIT_REDIRECT_URI": "http://127.0.0.1:9/fitbit/callback",
        "TOKEN_ENCRYPTION_KEYS": TOKEN_KEY,
        "WEB_CONCURRENCY": str(workers),
        "LOG_LEVEL": "WARNING",
    }


def _items(shape: str) -> int:
    """Notifications per request, as the shape's name says ("..., 3 items")."""
    return int(shape.rsplit(", ", 1)[-1].split()[0])


def figure(
    shape: str,
    base: Measured,
    service: Measured,
    load: str,
    targets: Mapping[str, float] = TARGETS,
    title: str = "ingest throughput",
) -> Figure:
    ratio = service.result.requests_per_second / max(base.result.requests_per_second, 1e-9)
    target, met = at_least(ratio, targets[shape]) if shape in targets else ("", None)
    failures = service.result.non_2xx + service.result.errors
    detail = (
        f"{load}; service {service.result.requests_per_second:.0f} req/s "
        f"({service.result.requests_per_second * _items(shape):.0f} notifications/s), "
        f"p99 {service.result.latency_p99_ms:.1f} ms, non-2xx+errors {failures}, "
        f"peak RSS {service.peak_rss / 2**20:.0f} MiB"
    )
    if met is False:
        detail += (
            "; missed: wrk, PostgreSQL and the service share the cores "
            f"(bare app {base.result.requests_per_second:.0f} req/s under the same wrk)"
        )
    return Figure(
        f"{title}, {shape}",
        ratio,
        "ratio",
        target,
        met,
        f"bare ASGI 204 app: {base.result.requests_per_second:.0f} req/s",
        detail,
    )


def skipped() -> Figure:
    return Figure(
        "ingest throughput",
        float("nan"),
        "ratio",
        detail="skipped: needs wrk (`apt-get install wrk` on Debian/Ubuntu, `brew install wrk`)",
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args()
    for figure in run(args.seconds, args.connections, args.workers):
        print(figure, flush=True)


if __name__ == "__main__":
    main()
