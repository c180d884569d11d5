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
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import psutil

from service import embedded
from service.settings import async_database_url
from service.store import migrate

ROOT = Path(__file__).resolve().parents[1]
LOCAL = ROOT / ".local" / "bench"
CLIENT_SECRET = "bench-client-secret"
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
        return "redis://127.0.0.1:6379/13"
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
def serving(command: list[str], env: dict[str, str], port: int) -> Iterator[Server]:
    process = subprocess.Popen(  # noqa: S603 - our own commands
        command, env={**os.environ, **env}, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    try:
        _wait_ready(process, port)
        yield Server(process, port)
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_ready(process: subprocess.Popen[bytes], port: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not embedded.is_listening("127.0.0.1", port, timeout=0.2):
        if process.poll() is not None:
            stderr = process.stderr.read().decode() if process.stderr else ""
            raise RuntimeError(f"server exited during startup:\n{stderr[-2000:]}")
        if time.monotonic() > deadline:
            raise RuntimeError("server did not start listening in time")
        time.sleep(0.1)


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


def wrk(port: int, bodies: Path, *, seconds: int, connections: int, threads: int = 2) -> WrkResult:
    binary = shutil.which("wrk")
    if binary is None:
        raise SystemExit("bench needs wrk (Debian package 'wrk'); `make bench` installs it")
    script = Path(__file__).with_name("wrk_bodies.lua")
    command = [binary, f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency"]
    command += ["-s", str(script), f"http://127.0.0.1:{port}/fitbit/webhook"]
    output = subprocess.run(  # noqa: S603
        command,
        env={**os.environ, "BODIES_FILE": str(bodies)},
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
