"""What every benchmark needs: servers on loopback, a fresh database, the load tool."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import secrets
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import psutil
from redis.asyncio import Redis

from service import embedded
from service.settings import async_database_url
from service.store import migrate

ROOT = Path(__file__).resolve().parents[1]
LOCAL = ROOT / ".local" / "bench"
LOGS = LOCAL / "logs"
CLIENT_ID = "23BNCH"
CLIENT_SECRET = "bench-client-secret"
# A fixed Fernet key: benchmark databases are thrown away.
TOKEN_KEY = "pSqHJoFTPVzhdA1mPHjIfZs6X7zVZ0k4hZgyE2iDSqI="
VERIFICATION_CODE = "bench-verification-code"


def server_url() -> str:
    if url := os.environ.get("DATABASE_URL"):
        return url
    if embedded.is_listening("127.0.0.1", 5432):
        return "postgresql://postgres@127.0.0.1:5432/test"
    return embedded.start_postgres(LOCAL / "postgres")


def redis_url() -> str:
    if url := os.environ.get("REDIS_URL"):
        return url
    if embedded.is_listening("127.0.0.1", 6379):
        return "redis://127.0.0.1:6379/6"
    return embedded.start_redis(LOCAL / "redis")


async def _admin(url: str, statement: str) -> None:
    conn = await asyncpg.connect("postgresql://" + async_database_url(url).split("://", 1)[1])
    try:
        await conn.execute(statement)
    finally:
        await conn.close()


@contextlib.contextmanager
def fresh_database() -> Iterator[str]:
    """A new database on the server, migrated to head, dropped afterwards."""
    server = server_url()
    name = f"fs_bench_{secrets.token_hex(4)}"
    asyncio.run(_admin(server, f'CREATE DATABASE "{name}"'))
    head, _, query = server.partition("?")
    url = head.rsplit("/", 1)[0] + f"/{name}" + (f"?{query}" if query else "")
    try:
        migrate.upgrade(async_database_url(url))
        yield url
    finally:
        asyncio.run(_admin(server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    port: int

    def rss_bytes(self) -> int:
        """Resident memory of the server and all its worker processes."""
        try:
            parent = psutil.Process(self.process.pid)
            family = [parent, *parent.children(recursive=True)]
            return sum(p.memory_info().rss for p in family if p.is_running())
        except psutil.NoSuchProcess:
            return 0


@contextlib.contextmanager
def running(command: list[str], env: dict[str, str], name: str) -> Iterator[Process]:
    """A child process whose output goes to `.local/bench/logs/<name>.log`; stopped at the end
    with SIGTERM (SIGKILL after 20 s)."""
    LOGS.mkdir(parents=True, exist_ok=True)
    log = LOGS / f"{name}.log"
    with log.open("wb") as out:
        process = subprocess.Popen(  # noqa: S603 - our own commands
            command, env={**os.environ, **env}, stdout=out, stderr=subprocess.STDOUT
        )
        try:
            yield Process(process, log)
        finally:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@dataclass
class Process:
    process: subprocess.Popen[bytes]
    log: Path

    def check(self) -> None:
        if self.process.poll() is not None:
            raise RuntimeError(f"{self.log.stem} exited:\n{self.log_tail()}")

    def log_tail(self) -> str:
        return self.log.read_text(errors="replace")[-2000:]


@contextlib.contextmanager
def serving(
    command: list[str], env: dict[str, str], port: int, name: str = "server"
) -> Iterator[Server]:
    with running(command, env, name) as child:
        wait_ready(child, port)
        yield Server(child.process, port)


def wait_ready(child: Process, port: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not embedded.is_listening("127.0.0.1", port, timeout=0.2):
        child.check()
        if time.monotonic() > deadline:
            raise RuntimeError(f"{child.log.stem} did not start listening in time")
        time.sleep(0.1)


async def _flush_redis(url: str) -> None:
    client = Redis.from_url(url)
    try:
        await client.flushdb()
    finally:
        await client.aclose()


def flush_redis() -> None:
    """Empty the benchmarks' own Redis database (DB 6 unless REDIS_URL names another)."""
    asyncio.run(_flush_redis(redis_url()))


def python_command(*args: str) -> list[str]:
    return [sys.executable, *args]


@dataclass(frozen=True)
class WrkResult:
    requests_per_second: float
    requests: int
    non_2xx: int
    errors: int
    latency_p50_ms: float
    latency_p99_ms: float


def wrk(
    port: int,
    bodies: Path,
    *,
    seconds: int,
    connections: int,
    threads: int = 2,
    webhook: Mapping[str, str] | None = None,
) -> WrkResult:
    """wrk cycling through `bodies`; `webhook`: WEBHOOK_PATH, SIGNATURE_HEADER and AUTHORIZATION
    for `wrk_bodies.lua` (Fitbit's webhook when None)."""
    binary = shutil.which("wrk")
    if binary is None:
        raise SystemExit(
            "the ingest benchmark needs wrk: `apt-get install wrk` or `brew install wrk`"
        )
    script = Path(__file__).with_name("wrk_bodies.lua")
    command = [binary, f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency"]
    command += ["-s", str(script), f"http://127.0.0.1:{port}/fitbit/webhook"]
    output = subprocess.run(  # noqa: S603
        command,
        env={**os.environ, **(webhook or {}), "BODIES_FILE": str(bodies)},
        capture_output=True,
        text=True,
        timeout=seconds + 60,
        check=True,
    ).stdout
    return _parse_wrk(output)


def _parse_wrk(output: str) -> WrkResult:
    def number(pattern: str, default: str = "0") -> str:
        match = re.search(pattern, output)
        return match.group(1) if match else default

    errors = sum(int(n) for n in re.findall(r"(?:connect|read|write|timeout) (\d+)", output))
    return WrkResult(
        requests_per_second=float(number(r"Requests/sec:\s+([\d.]+)")),
        requests=int(number(r"(\d+) requests in")),
        non_2xx=int(number(r"Non-2xx or 3xx responses: (\d+)")),
        errors=errors,
        latency_p50_ms=_ms(number(r"50%\s+([\d.]+\w+)", "0ms")),
        latency_p99_ms=_ms(number(r"99%\s+([\d.]+\w+)", "0ms")),
    )


def _ms(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s)", text)
    if not match:
        return 0.0
    value, unit = float(match.group(1)), match.group(2)
    return value * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


@dataclass
class Figure:
    """One measured figure: a ratio against a same-run baseline, or a count, with its target."""

    name: str
    value: float
    unit: str  # "ratio", "ms", "calls/key", "count", ...
    target: str = ""  # e.g. ">= 0.10"; empty: reported, not judged
    met: bool | None = None
    baseline: str = ""  # what the ratio is taken against, as measured in the same run
    detail: str = ""  # the load and context; the measured reason when the target is missed


def at_least(value: float, floor: float) -> tuple[str, bool]:
    return f">= {floor:g}", value >= floor


def at_most(value: float, ceiling: float) -> tuple[str, bool]:
    return f"<= {ceiling:g}", value <= ceiling


def percentile(values: list[float], fraction: float) -> float:
    """Nearest-rank percentile of `values` (0 when empty)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(min(int(fraction * len(ordered) + 0.999999) - 1, len(ordered) - 1), 0)
    return ordered[rank]


def cpu_busy(seconds: float) -> float:
    """Fraction of all cores busy over `seconds` (blocking)."""
    return psutil.cpu_percent(interval=seconds) / 100
