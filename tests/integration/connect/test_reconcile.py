"""Subscription drift repaired, and secrets re-encrypted under a new key."""

from __future__ import annotations

import httpx
from sqlalchemy import select

from service.connect import management
from service.connect.cipher import TokenCipher
from service.connect.reconcile import connected_accounts, reconcile_account
from service.connect.rotation import rotate_keys
from service.store.db import session_factory
from service.store.models import ProviderAccount
from tests.integration.conftest import Stack


async def _fitbit(stack: Stack, method: str, path: str, user: str) -> httpx.Response:
    """Act on Fitbit directly, as another app session of the same person would."""
    token = (await stack.emulator.issue_tokens(user)).access_token
    async with httpx.AsyncClient(base_url=stack.emulator.base_url) as fitbit:
        return await fitbit.request(method, path, headers={"Authorization": f"Bearer {token}"})


async def test_reconcile_restores_lost_and_removes_unexpected(stack: Stack) -> None:
    assert (await stack.consent("ref-drift", "DRIFT1")).status_code == 200
    [account] = await connected_accounts(stack.connector, "fitbit")
    lost = await _fitbit(
        stack, "DELETE", f"/1/user/-/sleep/apiSubscriptions/{account.user_id}-sleep.json", "DRIFT1"
    )
    assert lost.status_code == 204
    stray = await _fitbit(stack, "POST", "/1/user/-/apiSubscriptions/legacy-all.json", "DRIFT1")
    assert stray.status_code == 201

    drift = await reconcile_account(stack.connector, account)

    assert drift.subscribed == ["sleep"]
    assert drift.removed == ["user:legacy-all"]
    at_fitbit = sorted(
        (s.collection, s.subscription_id) for s in await stack.emulator.subscriptions()
    )
    assert at_fitbit == [
        (c, f"{account.user_id}-{c}") for c in ("activities", "body", "foods", "sleep")
    ]
    again = await reconcile_account(stack.connector, account)
    assert not again.repaired


async def test_a_collection_unsubscribed_on_purpose_stays_unsubscribed(stack: Stack) -> None:
    answer = await stack.consent("ref-optout", "OPTOUT")
    user_id = int(answer.json()["user_id"])
    assert await management.unsubscribe(stack.connector, user_id, "sleep")

    [account] = await connected_accounts(stack.connector, "fitbit")
    assert account.unsubscribed == ["sleep"]
    assert not (await reconcile_account(stack.connector, account)).repaired
    assert "sleep" not in {s.collection for s in await stack.emulator.subscriptions()}

    await management.subscribe(stack.connector, user_id, "sleep")  # asked for again
    [account] = await connected_accounts(stack.connector, "fitbit")
    assert account.unsubscribed == []
    assert "sleep" in {s.collection for s in await stack.emulator.subscriptions()}


async def test_rotate_keys_re_encrypts_under_the_first_key(stack: Stack) -> None:
    assert (await stack.consent("ref-rotate", "ROTATE")).status_code == 200
    old_cipher = stack.connector.cipher
    [account] = await connected_accounts(stack.connector, "fitbit")
    token = old_cipher.decrypt(account.access_token or "")
    new_key = TokenCipher.generate_key()
    old_key = stack.connector.settings.secret("token_encryption_keys")
    both = TokenCipher.from_setting(f"{new_key},{old_key}")

    assert await rotate_keys(session_factory(stack.engine), both) == 2

    async with stack.engine.connect() as conn:
        stored = (await conn.execute(select(ProviderAccount))).one()
    only_new = TokenCipher([new_key])
    assert only_new.decrypt(stored.access_token) == token
    assert only_new.decrypt(stored.refresh_token)
