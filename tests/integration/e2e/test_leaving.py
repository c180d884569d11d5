"""Leaving: disconnect keeps or purges data as configured; the daily reconcile repairs drift."""

from __future__ import annotations

import datetime as dt

import httpx
from redis.asyncio import Redis
from sqlalchemy import text

from service.connect.flow import Connector
from service.settings import Settings
from service.store.db import session_factory
from service.sync.maintenance import reconcile_subscriptions
from service.sync.runtime import SyncDeps
from tests.integration.conftest import Stack

DAY = dt.date(2026, 11, 19)


async def _synced_user(stack: Stack, fitbit_user: str) -> int:
    answer = await stack.consent(f"ref-{fitbit_user}", fitbit_user)
    assert answer.status_code == 200, answer.text
    await stack.emulator.add_log(fitbit_user, "sleep", DAY)
    await stack.emulator.flush()
    await stack.run_worker()
    return int(answer.json()["user_id"])


async def _sleep_rows(stack: Stack, user_id: int) -> int:
    async with stack.engine.connect() as conn:
        query = text("SELECT count(*) FROM sleep_log WHERE user_id = :u")
        return int(await conn.scalar(query, {"u": user_id}) or 0)


async def _connector(
    stack: Stack, settings: Settings, redis: Redis, http: httpx.AsyncClient
) -> Connector:
    return Connector.build(settings, session_factory(stack.engine), redis, http)


async def test_disconnect_keeps_data_by_default(stack: Stack) -> None:
    user_id = await _synced_user(stack, "KEEP01")
    assert await _sleep_rows(stack, user_id) > 0
    await stack.connector.disconnect(user_id)
    assert await _sleep_rows(stack, user_id) > 0


async def test_disconnect_purges_when_configured(stack: Stack, redis: Redis) -> None:
    user_id = await _synced_user(stack, "PURGE1")
    purging = Settings(**{**stack.settings.model_dump(), "purge_data_on_disconnect": True})
    async with httpx.AsyncClient() as http:
        await (await _connector(stack, purging, redis, http)).disconnect(user_id)
    assert await _sleep_rows(stack, user_id) == 0
    assert await stack.emulator.subscriptions() == []


async def test_daily_reconcile_restores_a_lost_subscription(stack: Stack, redis: Redis) -> None:
    answer = await stack.consent("ref-daily", "DAILY1")
    user_id = answer.json()["user_id"]
    token = (await stack.emulator.issue_tokens("DAILY1")).access_token
    async with httpx.AsyncClient(base_url=stack.emulator.base_url) as fitbit:
        lost = await fitbit.delete(
            f"/1/user/-/foods/apiSubscriptions/{user_id}-foods.json",
            headers={"Authorization": f"Bearer {token}"},
        )
    assert lost.status_code == 204
    deps = SyncDeps.start(stack.settings, stack.engine, redis)
    try:
        outcome = await reconcile_subscriptions({"sync": deps})
    finally:
        await deps.close()
    assert outcome.startswith("repaired 1")
    assert "foods" in {s.collection for s in await stack.emulator.subscriptions()}
