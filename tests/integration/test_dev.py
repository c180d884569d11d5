"""`fitbit-subscriber dev` from an empty folder with nothing configured: rows appear, and
Ctrl-C leaves no process behind."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import asyncpg
import psutil

from service import embedded
from tests.conftest import ROOT

FIRST_ROW_WITHIN = 30.0
UNSET = (
    "DATABASE_URL",
    "REDIS_URL",
    "FITBIT_CLIENT_ID",
    "FITBIT_CLIENT_SECRET",
    "FITBIT_VERIFICATION_CODE",
    "TOKEN_ENCRYPTION_KEYS",
    "FITBIT_API_URL",
)


async def _synced_rows(data_dir: Path) -> int:
    socket_dir = data_dir / "postgres"
    if not socket_dir.exists():
        return 0
    try:
        conn = await asyncpg.connect(user="postgres", database="postgres", host=str(socket_dir))
    except (OSError, asyncpg.PostgresError):
        return 0
    try:
        tables = ("activity_summary", "activity_log", "sleep_log", "weight_log", "water_log")
        counts = [await conn.fetchval(f"SELECT count(*) FROM {t}") for t in tables]
        return sum(counts)
    except asyncpg.PostgresError:
        return 0  # not migrated yet
    finally:
        await conn.close()


async def test_dev_starts_from_nothing_and_stops_cleanly(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in UNSET}
    port, emulator_port = embedded.free_port(), embedded.free_port()
    command = [sys.executable, "-m", "service.cli", "dev", "--data-dir", str(tmp_path)]
    command += ["--port", str(port), "--emulator-port", str(emulator_port)]
    log = tmp_path / "dev.log"
    with log.open("wb") as out:
        process = await asyncio.create_subprocess_exec(
            *command, env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT
        )
    started = time.monotonic()
    try:
        while await _synced_rows(tmp_path) == 0:
            assert process.returncode is None, log.read_text()[-3000:]
            assert time.monotonic() - started < FIRST_ROW_WITHIN + 60, "no row appeared"
            await asyncio.sleep(0.5)
        first_row_after = time.monotonic() - started
        family = psutil.Process(process.pid).children(recursive=True)
    finally:
        process.send_signal(signal.SIGINT)
        async with asyncio.timeout(60):
            await process.wait()
    output = log.read_text()
    assert process.returncode == 0, output[-3000:]
    assert "API client" in output
    assert first_row_after < FIRST_ROW_WITHIN
    assert family, "dev started no processes"
    _, alive = psutil.wait_procs(family, timeout=10)
    assert alive == [], f"left behind: {[p.cmdline() for p in alive]}"
    assert _using(tmp_path) == [], "a server of the data folder is still running"


def _using(folder: Path) -> list[list[str]]:
    """Command lines that name the folder (the embedded PostgreSQL daemonises)."""
    found = []
    for process in psutil.process_iter(["cmdline"]):
        cmdline = process.info["cmdline"] or []
        if any(str(folder) in part for part in cmdline):
            found.append(cmdline)
    return found
