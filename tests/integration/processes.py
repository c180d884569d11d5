"""The `fitbit-subscriber` console script run as a real process, configured like the tests."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
from pydantic import SecretStr

from service import embedded
from service.settings import Settings
from tests.conftest import ROOT

STARTUP_TIMEOUT = 30.0
STOP_TIMEOUT = 20.0


def service_env(settings: Settings, **extra: str) -> dict[str, str]:
    """The process environment that reproduces `settings` (no .env is read: cwd is tests/)."""
    env = {"PATH": os.environ["PATH"], "HOME": str(Path.home())}
    for name in Settings.model_fields:
        value = getattr(settings, name)
        if value is not None:
            text = value.get_secret_value() if isinstance(value, SecretStr) else str(value)
            env[name.upper()] = text
    return {**env, **extra}


def start(*args: str, env: dict[str, str], output: Path) -> subprocess.Popen[bytes]:
    """Start the command with stdout and stderr going to `output` (a pipe could fill and stall)."""
    with output.open("wb") as sink:
        return subprocess.Popen(  # noqa: S603 - our own console script
            [sys.executable, "-m", "service.cli", *args],
            env=env,
            cwd=ROOT / "tests",
            stdout=sink,
            stderr=subprocess.STDOUT,
        )


@contextmanager
def running(*args: str, env: dict[str, str], output: Path) -> Iterator[subprocess.Popen[bytes]]:
    """Start the command; on the way out kill it if the test left it running."""
    process = start(*args, env=env, output=output)
    try:
        yield process
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=STOP_TIMEOUT)


def wait_healthy(process: subprocess.Popen[bytes], url: str, output: Path) -> None:
    """Poll `url` until it answers 200; fail with the process's output if it dies first."""
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(
                f"exited with {process.returncode} during startup:\n{output.read_text()}"
            )
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise AssertionError(f"{url} did not answer within {STARTUP_TIMEOUT} s")


@dataclass(frozen=True)
class Serving:
    process: subprocess.Popen[bytes]
    url: str


@asynccontextmanager
async def serving(
    settings: Settings, output: Path, *, workers: int = 1, **extra_env: str
) -> AsyncIterator[Serving]:
    """`fitbit-subscriber serve` on a free loopback port, once its /healthz answers."""
    port = embedded.free_port()
    args = ("serve", "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers))
    url = f"http://127.0.0.1:{port}"
    with running(*args, env=service_env(settings, **extra_env), output=output) as process:
        await asyncio.to_thread(wait_healthy, process, f"{url}/healthz", output)
        yield Serving(process, url)


def stop(process: subprocess.Popen[bytes], timeout: float = STOP_TIMEOUT) -> int:
    """SIGTERM, then wait for the exit status."""
    process.terminate()
    return process.wait(timeout=timeout)
