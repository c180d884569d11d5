"""`fitbit-subscriber dev`: the whole service on one machine, with nothing configured.

Uses `DATABASE_URL` / `REDIS_URL` when given, else embedded servers in the data folder; keeps
generated development credentials there so repeated runs reuse everything. Starts the Fitbit
emulator, the API and a worker as child processes, registers the API as the emulator's
subscriber (the verification handshake runs), connects a demo person through the real OAuth
flow, then keeps the emulator producing changes until Ctrl-C or SIGTERM stops everything.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import subprocess
import sys
from pathlib import Path

from service import embedded
from service.dev_demo import Demo, produce_changes, wait_until_up
from service.settings import async_database_url
from service.store import migrate

log = logging.getLogger(__name__)


def run(data_dir: Path, port: int, emulator_port: int) -> int:
    logging.getLogger("pgserver").setLevel(logging.WARNING)
    data_dir.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, **_servers(data_dir), **dev_environment(data_dir, port, emulator_port)}
    os.environ.update(env)  # this process talks to the stack too, with the same settings
    migrate.upgrade(async_database_url(env["DATABASE_URL"]))
    children = [
        _spawn("emulator", "--port", str(emulator_port), env=env),
        _spawn("serve", "--host", "127.0.0.1", "--port", str(port), "--workers", "1", env=env),
        _spawn("worker", env=env),
    ]
    try:
        return asyncio.run(_demo(env, data_dir, port, emulator_port, children))
    finally:
        _terminate(children)


def _servers(data_dir: Path) -> dict[str, str]:
    database = os.environ.get("DATABASE_URL") or embedded.start_postgres(data_dir / "postgres")
    redis = os.environ.get("REDIS_URL") or embedded.start_redis(data_dir / "redis")
    return {"DATABASE_URL": database, "REDIS_URL": redis}


def dev_environment(data_dir: Path, port: int, emulator_port: int) -> dict[str, str]:
    """Settings for a local stack: the API and the emulator point at each other."""
    api = f"http://127.0.0.1:{port}"
    emulator = f"http://127.0.0.1:{emulator_port}"
    return {
        **_dev_secrets(data_dir / "dev.env"),
        "FITBIT_API_URL": emulator,
        "FITBIT_AUTHORIZE_URL": f"{emulator}/oauth2/authorize",
        "FITBIT_REDIRECT_URI": f"{api}/fitbit/callback",
        "EMULATOR_SUBSCRIBER_URL": f"{api}/fitbit/webhook",
        "WORKER_METRICS_PORT": os.environ.get("WORKER_METRICS_PORT", "0"),
    }


def _dev_secrets(path: Path) -> dict[str, str]:
    """Development-only credentials, made once and kept beside the data."""
    from service.connect.cipher import TokenCipher

    if not path.exists():
        values = {
            "FITBIT_CLIENT_ID": "DEV" + os.urandom(3).hex().upper(),
            "FITBIT_CLIENT_SECRET": os.urandom(16).hex(),
            "FITBIT_VERIFICATION_CODE": os.urandom(16).hex(),
            "TOKEN_ENCRYPTION_KEYS": TokenCipher.generate_key(),
        }
        path.write_text("".join(f"{k}={v}\n" for k, v in values.items()))
        path.chmod(0o600)
    lines = (line.partition("=") for line in path.read_text().splitlines())
    stored = {key: value for key, sep, value in lines if sep}
    return {key: os.environ.get(key) or value for key, value in stored.items()}


def _spawn(*args: str, env: dict[str, str]) -> subprocess.Popen[bytes]:
    # A process group of its own: Ctrl-C reaches only us, and we stop the children in order.
    return subprocess.Popen(  # noqa: S603 - our own console script
        [sys.executable, "-m", "service.cli", *args], env=env, start_new_session=True
    )


async def _demo(
    env: dict[str, str],
    data_dir: Path,
    port: int,
    emulator_port: int,
    children: list[subprocess.Popen[bytes]],
) -> int:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    await wait_until_up(port, emulator_port, children)
    demo = await Demo.prepare(env, data_dir / "dev.env", port, emulator_port)
    demo.print_banner()
    producer = asyncio.create_task(produce_changes(demo, stop))
    watcher = asyncio.create_task(_watch(children, stop))
    await stop.wait()
    for task in (producer, watcher):
        task.cancel()
    await asyncio.gather(producer, watcher, return_exceptions=True)
    return 0 if all(child.poll() is None for child in children) else 1


async def _watch(children: list[subprocess.Popen[bytes]], stop: asyncio.Event) -> None:
    while all(child.poll() is None for child in children):  # noqa: ASYNC110 - Popen has no awaitable exit
        await asyncio.sleep(0.5)
    print("a service process exited; stopping", file=sys.stderr, flush=True)
    stop.set()


def _terminate(children: list[subprocess.Popen[bytes]]) -> None:
    for child in reversed(children):  # worker, API, then the emulator
        if child.poll() is None:
            child.send_signal(signal.SIGTERM)
    for child in children:
        try:
            child.wait(timeout=20)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
