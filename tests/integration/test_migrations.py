"""Migrations: reversible, and the models match what they build."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection, text
from sqlalchemy.ext.asyncio import create_async_engine

from service.settings import async_database_url
from service.store import migrate, models
from tests.conftest import scratch_database


@pytest.fixture
async def empty_database(database_url: str) -> AsyncIterator[str]:
    async with scratch_database(database_url, "fs_migrate") as url:
        yield async_database_url(url)


def _diff(conn: Connection) -> list[Any]:
    return list(compare_metadata(MigrationContext.configure(conn), models.Base.metadata))


async def _tables(url: str) -> set[str]:
    engine = create_async_engine(url)
    async with engine.connect() as conn:
        rows = await conn.scalars(text("SELECT tablename FROM pg_tables WHERE schemaname='public'"))
        tables = set(rows)
    await engine.dispose()
    return tables


async def test_upgrade_downgrade_upgrade(empty_database: str) -> None:
    import asyncio

    await asyncio.to_thread(migrate.upgrade, empty_database)
    assert {"notification", "sync_request", "user"} <= await _tables(empty_database)
    await asyncio.to_thread(migrate.downgrade, empty_database, "base")
    assert await _tables(empty_database) == {"alembic_version"}
    await asyncio.to_thread(migrate.upgrade, empty_database)
    assert "sync_request" in await _tables(empty_database)


async def test_models_match_migrations(database_url: str) -> None:
    engine = create_async_engine(async_database_url(database_url))
    async with engine.connect() as conn:
        diff = await conn.run_sync(_diff)
    await engine.dispose()
    assert diff == []
