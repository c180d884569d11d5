"""The whole service as it runs in production, on loopback: the Fitbit emulator, the API
(`fitbit-subscriber serve`) and arq workers (`fitbit-subscriber worker`) as their own processes,
on a fresh database and the benchmarks' Redis database; people connected through the real
OAuth flow (consent at the emulator, our callback, subscriptions).

With `Options(google=True)` the service runs the Google Health provider instead, against the
emulator's Google mode: its preset AUTOMATIC subscriber pushes to our
`/google-health/webhook`, and people connect through Google's OAuth flow."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field

import asyncpg
import httpx

from bench.common import (
    CLIENT_ID,
    CLIENT_SECRET,
    TOKEN_KEY,
    VERIFICATION_CODE,
    Process,
    flush_redis,
    fresh_database,
    python_command,
    redis_url,
    running,
    wait_ready,
)
from service import embedded
from service.connect.runtime import open_connector
from service.emulator.google.config import GoogleConfig
from service.emulator.testing import EmulatorControl
from service.settings import Settings

CONNECT_CONCURRENCY = 16


@dataclass(frozen=True)
class Options:
    debounce_seconds: float = 0.0
    api_workers: int = 1
    # How long the emulator holds a notification to share a POST; 0 pushes each at once.
    batch_window_ms: int = 0
    extra_env: dict[str, str] = field(default_factory=dict)
    # The Google Health provider alone, against the emulator's Google mode.
    google: bool = False


@dataclass
class Processes:
    """The running stack's processes and addresses; workers are started on demand."""

    env: dict[str, str]
    database_url: str
    api_url: str
    emulator_url: str
    children: list[Process]

    def check(self) -> None:
        """Stop waiting at once when a process of the stack has died (its log says why)."""
        for child in self.children:
            child.check()

    @contextlib.contextmanager
    def workers(self, count: int, name: str = "worker") -> Iterator[list[Process]]:
        with contextlib.ExitStack() as stack:
            started = [
                stack.enter_context(
                    running(python_command("-m", "service.cli", "worker"), self.env, f"{name}{i}")
                )
                for i in range(count)
            ]
            self.children += started
            try:
                yield started
            finally:
                del self.children[-count:]

    def settings(self) -> Settings:
        known = Settings.model_fields
        values = {name.lower(): v for name, v in self.env.items() if name.lower() in known}
        return Settings.model_validate(values)


@contextlib.contextmanager
def processes(options: Options, name: str) -> Iterator[Processes]:
    """A fresh database, an emptied Redis DB, the emulator and the API (no workers yet)."""
    flush_redis()
    with fresh_database() as database_url:
        api_port, emulator_port = embedded.free_port(), embedded.free_port()
        api, emulator = f"http://127.0.0.1:{api_port}", f"http://127.0.0.1:{emulator_port}"
        env = {
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_url(),
            "FITBIT_CLIENT_ID": CLIENT_ID,
            "FITBIT_CLIENT_SECRET": CLIENT_SECRET,
            "FITBIT_VERIFICATION_CODE": VERIFICATION_CODE,
            "FITBIT_API_URL": emulator,
            "FITBIT_AUTHORIZE_URL": f"{emulator}/oauth2/authorize",
            "FITBIT_REDIRECT_URI": f"{api}/fitbit/callback",
            "TOKEN_ENCRYPTION_KEYS": TOKEN_KEY,
            "SYNC_DEBOUNCE_SECONDS": str(options.debounce_seconds),
            "WORKER_METRICS_PORT": "0",
            "WEB_CONCURRENCY": str(options.api_workers),
            "LOG_LEVEL": "WARNING",
            "EMULATOR_SUBSCRIBER_URL": f"{api}/fitbit/webhook",
            "EMULATOR_BATCH_WINDOW_MS": str(options.batch_window_ms),
            **(google_env(api, emulator, options.batch_window_ms) if options.google else {}),
            **options.extra_env,
        }
        emulator_command = ["-m", "service.cli", "emulator", "--port", str(emulator_port)]
        api_command = ["-m", "service.cli", "serve", "--host", "127.0.0.1", "--port"]
        with (
            running(python_command(*emulator_command), env, f"{name}-emulator") as fitbit,
            running(python_command(*api_command, str(api_port)), env, f"{name}-api") as ours,
        ):
            wait_ready(fitbit, emulator_port)
            wait_ready(ours, api_port)
            try:
                yield Processes(env, database_url, api, emulator, [fitbit, ours])
            finally:
                flush_redis()


GOOGLE = GoogleConfig()  # the emulator's defaults; the service is configured to match


def google_env(api: str, emulator: str, batch_window_ms: int) -> dict[str, str]:
    """The service's GOOGLE_HEALTH_* settings pointed at the emulator, which reads the same
    names (and its EMULATOR_GOOGLE_* knobs) from the same environment."""
    return {
        "ENABLED_PROVIDERS": "google_health",
        "GOOGLE_HEALTH_CLIENT_ID": GOOGLE.client_id,
        "GOOGLE_HEALTH_CLIENT_SECRET": GOOGLE.client_secret,
        "GOOGLE_HEALTH_REDIRECT_URI": f"{api}/google-health/callback",
        "GOOGLE_HEALTH_WEBHOOK_SECRET": GOOGLE.webhook_secret,
        "GOOGLE_HEALTH_PROJECT_NUMBER": GOOGLE.project_number,
        "GOOGLE_HEALTH_API_URL": emulator,
        "GOOGLE_HEALTH_AUTHORIZE_URL": f"{emulator}/o/oauth2/v2/auth",
        "GOOGLE_HEALTH_TOKEN_URL": f"{emulator}/token",
        "GOOGLE_HEALTH_REVOKE_URL": f"{emulator}/revoke",
        "GOOGLE_HEALTH_KEYSET_URL": f"{emulator}{GOOGLE.keyset_path}",
        "EMULATOR_GOOGLE_SUBSCRIBER_URL": f"{api}/google-health/webhook",
        "EMULATOR_GOOGLE_BATCH_WINDOW_MS": str(batch_window_ms),
    }


@dataclass
class Stack:
    """What a scenario talks to: the emulator's control API and our database."""

    processes: Processes
    control: EmulatorControl
    db: asyncpg.Pool
    users: dict[str, int] = field(default_factory=dict)  # provider user id -> our user id

    async def connect(self, fitbit_users: list[str], timezone: str = "UTC") -> None:
        """Each person consents at the emulator and comes back through our callback."""
        for user in fitbit_users:
            await self.control.put_user(user, timezone=timezone)
        await self._consent(fitbit_users, "fitbit", "user_id")

    async def connect_google(self, health_users: list[str], timezone: str = "UTC") -> None:
        """Each person consents at the emulated Google and comes back through our callback
        (no subscription calls: the AUTOMATIC subscriber covers everyone)."""
        for user in health_users:
            await self.control.google.put_user(user, timezone=timezone)
        await self._consent(health_users, "google_health", "login_hint")

    async def _consent(self, users: list[str], provider: str, who: str) -> None:
        """The consent walk: our consent URL, the emulator's screen (`who` names the person
        there), its redirect to our callback."""
        limit = asyncio.Semaphore(CONNECT_CONCURRENCY)
        settings = self.processes.settings()
        async with (
            open_connector(settings) as connector,
            httpx.AsyncClient(timeout=30) as browser,
        ):

            async def one(user: str) -> None:
                async with limit:
                    asked = await connector.ask(f"bench-{user}", None, provider)
                    consent = await browser.get(f"{asked.url}&{who}={user}")
                    callback = consent.headers["location"].removesuffix("#_=_")  # Fitbit's
                    answer = (await browser.get(callback)).json()
                if answer.get("status") != "connected":
                    raise RuntimeError(f"connecting {user} failed: {answer}")
                self.users[user] = int(answer["user_id"])

            await asyncio.gather(*(one(user) for user in users))

    async def pending(self) -> int:
        count: int = await self.db.fetchval(
            "SELECT count(*) FROM sync_request WHERE status = 'pending'"
        )
        return count

    async def wait_settled(self, seconds: float, quiet: float = 1.0) -> bool:
        """Until no sync request is pending (for `quiet` seconds), or `seconds` have passed."""
        deadline = time.monotonic() + seconds
        settled_since: float | None = None
        while time.monotonic() < deadline:
            self.processes.check()
            if await self.pending() == 0:
                settled_since = settled_since or time.monotonic()
                if time.monotonic() - settled_since >= quiet:
                    return True
            else:
                settled_since = None
            await asyncio.sleep(0.1)
        return False


@contextlib.asynccontextmanager
async def open_stack(processes: Processes) -> AsyncIterator[Stack]:
    db = await asyncpg.create_pool(processes.database_url, min_size=1, max_size=4)
    # uvicorn closes a connection idle for 5 s; dropping ours sooner avoids reusing one that
    # the server is closing at that moment.
    limits = httpx.Limits(max_connections=100, keepalive_expiry=2.0)
    try:
        async with (
            httpx.AsyncClient(timeout=30, limits=limits) as client,
            EmulatorControl(processes.emulator_url, client=client) as control,
        ):
            yield Stack(processes, control, db)
    finally:
        await db.close()


def fitbit_users(count: int, prefix: str = "B") -> list[str]:
    return [f"{prefix}{i:05d}" for i in range(count)]
