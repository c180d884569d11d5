"""The ingest writer outlives a database connection that dies under it."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import pytest
from arq.connections import ArqRedis
from redis.asyncio import Redis
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from service.providers.fitbit.notifications import parse
from service.settings import Settings, async_database_url
from service.webhook.ingest import Ingest, IngestUnavailable
from tests.integration.test_webhook import item

NAME = "ingest-under-test"  # the application_name of the connection to kill


@pytest.fixture
async def one_connection(settings: Settings, db: AsyncEngine) -> AsyncIterator[AsyncEngine]:
    """A pool of one connection and no pre-ping, so the next commit meets a dead backend."""
    engine = create_async_engine(
        async_database_url(settings.database),
        pool_size=1,
        connect_args={"server_settings": {"application_name": NAME}},
    )
    yield engine
    await engine.dispose()


async def test_a_connection_killed_under_the_writer_fails_one_batch_not_the_writer(
    one_connection: AsyncEngine, db: AsyncEngine, redis: Redis
) -> None:
    ingest = Ingest(one_connection, ArqRedis(connection_pool=redis.connection_pool), timeout=4)
    try:
        await ingest.record(parse(json.dumps([item(ownerId="KILL1")]).encode()))
        async with db.connect() as admin:
            killed = await admin.scalar(
                text(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                    "WHERE application_name = :name"
                ),
                {"name": NAME},
            )
        assert killed
        with pytest.raises(IngestUnavailable):
            await ingest.record(parse(json.dumps([item(ownerId="KILL2")]).encode()))
        await ingest.record(parse(json.dumps([item(ownerId="KILL3")]).encode()))
    finally:
        await ingest.close()
    async with db.connect() as conn:
        owners = set(await conn.scalars(text("SELECT owner_id FROM notification")))
    assert owners == {"KILL1", "KILL3"}
