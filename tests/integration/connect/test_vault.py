"""The token vault against the emulator: refresh on expiry, across processes, and when refused."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import json
import os
import subprocess
import sys

import httpx
import pytest
from sqlalchemy import select, update

from service.connect.vault import ReauthRequired
from service.providers.base import TokenGrant
from service.providers.fitbit.oauth import OAuthClient
from service.settings import Settings
from service.store.models import AccountEvent, ProviderAccount, User, UserStatus
from tests.conftest import ROOT
from tests.integration.conftest import Stack
from tests.integration.scrape import Moved

EIGHT_HOURS = 8 * 3600
REFRESHES = "fitbit_subscriber_token_refreshes_total"


async def _connected_account(stack: Stack, fitbit_user: str) -> int:
    assert (await stack.consent(f"ref-{fitbit_user}", fitbit_user)).status_code == 200
    async with stack.engine.connect() as conn:
        account_id: int | None = await conn.scalar(select(ProviderAccount.id))
    assert account_id is not None
    return account_id


async def test_valid_token_is_used_without_refreshing(stack: Stack) -> None:
    account = await _connected_account(stack, "VALID1")
    before = (await stack.emulator.counters()).token_refreshes
    first = await stack.connector.vault.access_token(account)
    assert await stack.connector.vault.access_token(account) == first
    assert (await stack.emulator.counters()).token_refreshes == before


async def test_expired_token_is_refreshed_once(stack: Stack) -> None:
    account = await _connected_account(stack, "EXPIRE")
    old = await stack.connector.vault.access_token(account)
    await stack.emulator.advance_clock(EIGHT_HOURS + 60)
    await _expire_locally(stack, account)
    moved = Moved()
    new = await stack.connector.vault.access_token(account)
    assert new != old
    assert (await stack.emulator.counters()).token_refreshes == 1
    assert moved(REFRESHES, provider="fitbit", outcome="ok") == 1
    accounts = stack.connector.provider("fitbit").accounts
    grant = TokenGrant(new, None, 3600, frozenset({"profile"}), "EXPIRE")
    identity = await accounts.identify(grant)  # the new token works
    assert identity.profile is not None
    assert identity.profile.timezone


async def test_refused_token_is_refreshed_even_before_its_expiry(stack: Stack) -> None:
    account = await _connected_account(stack, "REFUSE")
    old = await stack.connector.vault.access_token(account)
    await stack.emulator.advance_clock(EIGHT_HOURS + 60)  # Fitbit says expired; we think not
    new = await stack.connector.vault.refresh(account, failed_token=old)
    assert new != old
    assert await stack.connector.vault.refresh(account, failed_token=old) == new
    assert (await stack.emulator.counters()).token_refreshes == 1


async def test_refused_refresh_token_requires_reauthorisation(stack: Stack) -> None:
    account = await _connected_account(stack, "REVOKE")
    await stack.emulator.revoke_user("REVOKE")
    await _expire_locally(stack, account)
    moved = Moved()
    with pytest.raises(ReauthRequired):
        await stack.connector.vault.access_token(account)
    assert moved(REFRESHES, provider="fitbit", outcome="invalid_grant") == 1
    async with stack.engine.connect() as conn:
        user = (await conn.execute(select(User))).one()
        events = [
            e.kind for e in await conn.execute(select(AccountEvent).order_by(AccountEvent.id))
        ]
        stored = (await conn.execute(select(ProviderAccount))).one()
    assert user.status is UserStatus.REAUTH_REQUIRED
    assert events[-1] == "reauth_required"
    assert stored.refresh_token is None


async def _stored_refresh_token(stack: Stack, account_id: int) -> str:
    async with stack.engine.connect() as conn:
        stored = await conn.scalar(
            select(ProviderAccount.refresh_token).where(ProviderAccount.id == account_id)
        )
    assert stored is not None
    return stack.connector.cipher.decrypt(stored)


async def test_a_grant_without_refresh_token_keeps_the_stored_one(stack: Stack) -> None:
    account = await _connected_account(stack, "MERGE1")
    kept = await _stored_refresh_token(stack, account)
    grant = TokenGrant("fresh-access", None, 3600, frozenset({"activity"}))
    async with stack.connector.sessions.begin() as session:
        await stack.connector.vault.store_grant(session, account, grant)
    assert await _stored_refresh_token(stack, account) == kept
    assert await stack.connector.vault.access_token(account) == "fresh-access"


async def test_a_refresh_answer_without_refresh_token_keeps_the_stored_one(stack: Stack) -> None:
    """A provider that does not rotate refresh tokens (Google) answers a refresh without one;
    the stored one must stay usable, never be overwritten with nothing."""
    account = await _connected_account(stack, "MERGE2")
    kept = await _stored_refresh_token(stack, account)
    refreshed_with: list[str] = []

    def token_endpoint(request: httpx.Request) -> httpx.Response:
        refreshed_with.append(request.content.decode())
        answer = {"access_token": "not-rotated", "expires_in": 3600, "scope": "activity"}
        return httpx.Response(200, json={**answer, "token_type": "Bearer", "user_id": "MERGE2"})

    async with httpx.AsyncClient(transport=httpx.MockTransport(token_endpoint)) as http:
        tokens = OAuthClient(http, "http://tokens.test", "23TEST", "secret")
        vault = dataclasses.replace(stack.connector.vault, refreshers={"fitbit": tokens})
        await _expire_locally(stack, account)
        assert await vault.access_token(account) == "not-rotated"
    assert len(refreshed_with) == 1
    assert await _stored_refresh_token(stack, account) == kept


async def _expire_locally(stack: Stack, account_id: int) -> None:
    async with stack.engine.begin() as conn:
        await conn.execute(
            update(ProviderAccount)
            .where(ProviderAccount.id == account_id)
            .values(access_expires_at=dt.datetime.now(dt.UTC))
        )


# Two processes, 50 concurrent callers each, all finding the token expired at once.
_CALLERS = """
import asyncio, json, sys
import httpx
from redis.asyncio import Redis
from service.connect.flow import Connector
from service.settings import Settings
from service.store.db import create_engine, session_factory

async def main() -> None:
    settings = Settings()
    engine = create_engine(settings)
    redis = Redis.from_url(settings.redis_url)
    async with httpx.AsyncClient() as http:
        connector = Connector.build(settings, session_factory(engine), redis, http)
        tokens = await asyncio.gather(
            *(connector.vault.access_token(int(sys.argv[1])) for _ in range(50))
        )
    await redis.aclose()
    await engine.dispose()
    print(json.dumps(sorted(set(tokens))))

asyncio.run(main())
"""


async def test_two_processes_fifty_callers_spend_the_refresh_token_once(
    stack: Stack, connect_settings: Settings
) -> None:
    account = await _connected_account(stack, "RACE01")
    await stack.emulator.advance_clock(EIGHT_HOURS + 60)
    await _expire_locally(stack, account)
    env = {**os.environ, **_environment(connect_settings)}
    processes = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            _CALLERS,
            str(account),
            env=env,
            cwd=ROOT / "tests",
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for _ in range(2)
    ]
    outputs = [await process.communicate() for process in processes]
    for process, (_, stderr) in zip(processes, outputs, strict=True):
        assert process.returncode == 0, stderr.decode()[-2000:]
    tokens = {token for stdout, _ in outputs for token in json.loads(stdout)}
    assert len(tokens) == 1
    counters = await stack.emulator.counters()
    assert counters.token_refreshes == 1


def _environment(settings: Settings) -> dict[str, str]:
    values = settings.model_dump()
    names = (
        "database_url",
        "redis_url",
        "fitbit_client_id",
        "fitbit_api_url",
        "fitbit_redirect_uri",
    )
    env = {name.upper(): str(values[name]) for name in names}
    for secret in ("fitbit_client_secret", "fitbit_verification_code", "token_encryption_keys"):
        env[secret.upper()] = settings.secret(secret)
    return env
