"""Ack latency at a fixed offered rate: signed 3-item batches to `POST /fitbit/webhook` from an
open-loop generator (`bench.openloop`, its own process), against the same generator aimed at a
bare ASGI app answering 204, in the same run. Percentiles are from each request's due time."""

from __future__ import annotations

import json
import os
import random
import subprocess
from pathlib import Path
from typing import Any

import psutil

from bench import ingest
from bench.common import (
    LOCAL,
    Figure,
    at_most,
    fresh_database,
    python_command,
    serving,
)
from service import embedded

P99_TARGET_MS = 50.0
P999_TARGET_MS = 250.0


def measure(port: int, bodies: Path, rate: float, seconds: float) -> dict[str, Any]:
    command = python_command("-m", "bench.openloop", "--port", str(port), "--bodies", str(bodies))
    command += ["--rate", str(rate), "--seconds", str(seconds)]
    done = subprocess.run(  # noqa: S603 - our own generator
        command, capture_output=True, text=True, timeout=seconds + 60, check=True
    )
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def measure_busy(port: int, bodies: Path, rate: float, seconds: float) -> dict[str, Any]:
    psutil.cpu_percent()
    result = measure(port, bodies, rate, seconds)
    busy = psutil.cpu_percent() / 100
    return {**result, "cpu_busy": busy, "load_average": os.getloadavg()[0]}


def run(rate: float = 500, seconds: float = 20, workers: int = 2) -> list[Figure]:
    rng = random.Random(20261122)
    batches = [[ingest.item(rng) for _ in range(3)] for _ in range(int(rate * (seconds + 3)))]
    bodies = ingest.write_bodies(LOCAL / "latency.txt", batches)
    with fresh_database() as database_url:
        port = embedded.free_port()
        with serving(ingest.bare_command(workers)(port), {}, port, "latency-bare"):
            bare = measure_busy(port, bodies, rate, seconds)
        port = embedded.free_port()
        env = ingest.service_env(database_url, workers)
        with serving(ingest.service_command(workers)(port), env, port, "latency-service"):
            service = measure_busy(port, bodies, rate, seconds)
    return figures(bare, service, rate, seconds, workers)


def figures(
    bare: dict[str, Any], service: dict[str, Any], rate: float, seconds: float, workers: int
) -> list[Figure]:
    load = (
        f"{rate:g} req/s offered for {seconds:g} s, 3-item signed batches, distinct keys, "
        f"{workers} uvicorn workers; generator achieved {service['achieved_rate']:.0f} req/s "
        f"(dispatch lag p99 {service['dispatch_lag_p99_ms']:.1f} ms); CPU busy "
        f"{service['cpu_busy']:.0%} of all cores (bare run {bare['cpu_busy']:.0%}), load average "
        f"{service['load_average']:.1f}"
    )
    made = []
    for name, key, ceiling in (
        ("p50", "p50_ms", None),
        ("p99", "p99_ms", P99_TARGET_MS),
        ("p99.9", "p999_ms", P999_TARGET_MS),
    ):
        value = float(service[key])
        target, met = at_most(value, ceiling) if ceiling else ("", None)
        detail = load
        if met is False:
            detail += "; " + _why(bare, service)
        made.append(
            Figure(
                f"ack latency {name}",
                value,
                "ms",
                target,
                met,
                f"bare ASGI, same generator: {bare[key]:.1f} ms",
                detail,
            )
        )
    failures = int(service["non_2xx"]) + int(service["errors"])
    made.append(
        Figure(
            "ack non-2xx + errors",
            failures,
            "count",
            "== 0",
            failures == 0,
            f"of {service['requests']} requests; bare ASGI {bare['non_2xx'] + bare['errors']}",
            f"statuses {service['statuses']}",
        )
    )
    return made


def _why(bare: dict[str, Any], service: dict[str, Any]) -> str:
    cores = os.cpu_count() or 1
    if float(service["load_average"]) > cores:
        return (
            f"missed: the machine was oversubscribed (load average {service['load_average']:.1f} "
            f"on {cores} cores, CPU busy {service['cpu_busy']:.0%}): the service's processes "
            "waited for a core; the bare app needs far less CPU per request, so it hides this"
        )
    if float(service["cpu_busy"]) > 0.85:
        return (
            f"missed: the cores were {service['cpu_busy']:.0%} busy (service, PostgreSQL, "
            "generator and other load on the machine): requests queue for CPU"
        )
    if float(bare["p99_ms"]) > P99_TARGET_MS / 2:
        return (
            "missed: the generator alone against a bare 204 app already sees p99 "
            f"{bare['p99_ms']:.1f} ms (the cores are saturated by other load)"
        )
    return (
        f"missed: the bare app's p99 is {bare['p99_ms']:.1f} ms with the same generator, so "
        f"the time is the service's (max {service['max_ms']:.0f} ms)"
    )
