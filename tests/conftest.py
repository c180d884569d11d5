"""Real PostgreSQL and Redis for the suite.

`DATABASE_URL` / `REDIS_URL` are used when given; otherwise the servers this project's machines
run on 127.0.0.1 (PostgreSQL 5432, Redis 6379); otherwise throwaway embedded servers. Each run
creates its own database, migrated to head, and drops it at the end, so runs never collide.
"""

from __future__ import annotations

import asyncio
import os
import secrets
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path

import asyncpg
import pytest
from redis.asyncio import Redis
from sqlalchemy import URL, make_url, text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from service import embedded
from service.settings import Settings, async_database_url
from service.store import migrate

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
LOCAL = ROOT / ".local" / "test-servers"

CLIENT_SECRET = "test-client-secret"
VERIFICATION_CODE = "c0de-for-verification"
TOKEN_KEY = "q0mEbnAVqTHDW5Xw4-0b5zyPVqqeCFeZ3l0N1dn0k3s="  # a Fernet key for tests only


def _server_url() -> str:
    if url := os.environ.get("DATABASE_URL"):
        return url
    if embedded.is_listening("127.0.0.1", 5432):
        return "postgresql://postgres@127.0.0.1:5432/test"
    return embedded.start_postgres(LOCAL / "postgres")


def plain(url: str) -> str:
    """asyncpg's own URL form (no SQLAlchemy driver suffix)."""
    return _render(make_url(async_database_url(url)).set(drivername="postgresql"))


def with_database(url: str, name: str) -> str:
    """`url` naming the database `name` instead: the host, port, user and query (a unix socket's
    `?host=/var/run/postgresql`, say) stay as they are."""
    return _render(make_url(url).set(database=name))


def _render(url: URL) -> str:
    return url.render_as_string(hide_password=False)


async def admin(url: str, statement: str) -> None:
    """Run one statement outside a transaction (CREATE DATABASE cannot run in one)."""
    conn = await asyncpg.connect(plain(url))
    try:
        await conn.execute(statement)
    finally:
        await conn.close()


@asynccontextmanager
async def scratch_database(server: str, prefix: str) -> AsyncIterator[str]:
    """A new empty database on the server of `server` (a URL), dropped afterwards: its URL."""
    name = f"{prefix}_{secrets.token_hex(4)}"
    await admin(server, f'CREATE DATABASE "{name}"')
    try:
        yield with_database(server, name)
    finally:
        await admin(server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    """A fresh database, migrated to head, for this test run."""
    server = _server_url()
    name = f"fs_test_{secrets.token_hex(4)}"
    asyncio.run(admin(server, f'CREATE DATABASE "{name}"'))
    url = with_database(server, name)
    migrate.upgrade(async_database_url(url))
    yield url
    asyncio.run(admin(server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(scope="session")
def redis_url() -> str:
    if url := os.environ.get("REDIS_URL"):
        return url
    if embedded.is_listening("127.0.0.1", 6379):
        return "redis://127.0.0.1:6379/9"
    return embedded.start_redis(LOCAL / "redis")


@pytest.fixture
def settings(database_url: str, redis_url: str) -> Settings:
    return Settings(
        _env_file=None,
        database_url=database_url,
        redis_url=redis_url,
        fitbit_client_id="23TEST",
        fitbit_client_secret=CLIENT_SECRET,
        fitbit_verification_code=VERIFICATION_CODE,
        fitbit_redirect_uri="http://127.0.0.1:9/fitbit/callback",
        token_encryption_keys=TOKEN_KEY,
        sweep_pending_after_seconds=60,
        worker_metrics_port=0,  # a test that wants the metrics server picks a free port
    )


@pytest.fixture(scope="session")
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_async_engine(async_database_url(database_url))
    yield engine
    await engine.dispose()


@pytest.fixture
async def db(engine: AsyncEngine) -> AsyncEngine:
    """The test database, emptied before the test (tests commit, as the service does)."""
    async with engine.begin() as conn:
        tables = await conn.scalars(
            text(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
                "AND tablename <> 'alembic_version'"
            )
        )
        names = ", ".join(f'"{name}"' for name in tables)
        if names:
            await conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    return engine


@pytest.fixture
async def redis(redis_url: str) -> AsyncIterator[Redis]:
    """The test Redis database, flushed before the test."""
    client = Redis.from_url(redis_url)
    await client.flushdb()
    yield client
    await client.aclose()
