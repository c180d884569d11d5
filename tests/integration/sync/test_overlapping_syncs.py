"""Two syncs of one key that overlap: the one that read an older generation writes nothing.

A key's job id keeps its syncs one at a time while Redis holds the job; when Redis loses it
(a restart without persistence) the sweeper queues the key again while the first job may still
be running. The older sync, finishing last, must not replace the rows the newer one stored.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from service import queue
from service.providers import rows
from service.providers.base import SyncKey
from service.providers.rows import DayData
from service.settings import Settings
from service.store import models, sync_state
from service.store.db import session_factory
from service.store.sync_state import SyncTarget
from service.sync import tasks
from service.sync.runtime import SyncDeps

DAY = dt.date(2026, 11, 19)
KEY = SyncKey("fitbit", "OVR001", "foods", DAY)


@pytest.fixture
async def deps(settings: Settings, db: AsyncEngine, redis: Redis) -> AsyncIterator[SyncDeps]:
    arq = queue.connect(settings.redis_url)
    deps = SyncDeps.start(settings, db, arq)
    yield deps
    await deps.close()
    await arq.aclose(close_connection_pool=True)


async def _target(deps: SyncDeps) -> SyncTarget:
    """What a sync of the key reads: a connected person, notified twice since the last sync."""
    async with deps.sessions.begin() as session:
        user = models.User(timezone="UTC", utc_offset_ms=0)
        session.add(user)
        await session.flush()
        account = models.ProviderAccount(
            user_id=user.id, provider=KEY.provider, external_id=KEY.owner_id
        )
        request = models.SyncRequest(
            provider=KEY.provider,
            owner_id=KEY.owner_id,
            collection=KEY.collection,
            date=KEY.date,
            generation=2,
            synced_generation=0,
        )
        session.add_all([account, request])
    async with deps.sessions() as session:
        target = await sync_state.load(session, KEY)
    assert target is not None
    return target


def _water(*amounts: float) -> DayData:
    logs = [
        rows.WaterLog(log_id=n + 1, date=DAY, amount_ml=amount, raw={})
        for n, amount in enumerate(amounts)
    ]
    return DayData(DAY, {rows.WaterLog: logs})


async def test_an_older_sync_that_ends_last_leaves_the_newer_rows(
    deps: SyncDeps, db: AsyncEngine
) -> None:
    newer = await _target(deps)
    older = dataclasses.replace(newer, generation=1)
    # The newer sync read generation 2 and saw two drinks; it commits first.
    await tasks._store(deps, KEY, newer, _water(250, 500))
    # The older one read generation 1, fetched before the second drink, and ends last.
    await tasks._store(deps, KEY, older, _water(250))
    async with session_factory(db)() as session:
        stored = (await session.scalars(select(models.WaterLog.amount_ml))).all()
        request = await session.get(models.SyncRequest, newer.request_id)
    assert (len(stored), set(stored)) == (2, {250, 500})
    assert request is not None
    assert (request.status, request.synced_generation) == (models.SyncStatus.SYNCED, 2)
