"""Connecting a person end to end against the emulator: consent, callback, tokens, subscriptions."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select, text, update

from service.store.models import AccountEvent, ConnectState, ProviderAccount, Subscription, User
from tests.integration.conftest import Stack


async def _one(stack: Stack, model: type[User] | type[ProviderAccount]) -> list[Any]:
    async with stack.engine.connect() as conn:
        return list(await conn.execute(select(model)))


async def test_connect_with_every_scope(stack: Stack) -> None:
    await stack.emulator.put_user("ABC123", timezone="Asia/Kolkata")
    response = await stack.consent("person-1", "ABC123")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "connected"
    assert body["user_ref"] == "person-1"
    assert body["subscriptions"] == {
        "activities": "created",
        "body": "created",
        "foods": "created",
        "sleep": "created",
    }
    [user] = await _one(stack, User)
    assert (user.user_ref, user.status.value, user.timezone, user.utc_offset_ms) == (
        "person-1",
        "active",
        "Asia/Kolkata",
        19800000,
    )
    [account] = await _one(stack, ProviderAccount)
    assert account.external_id == "ABC123"
    assert account.access_expires_at > dt.datetime.now(dt.UTC) + dt.timedelta(hours=7)
    at_fitbit = {(s.collection, s.subscription_id) for s in await stack.emulator.subscriptions()}
    assert at_fitbit == {(c, f"{user.id}-{c}") for c in ("activities", "body", "foods", "sleep")}
    assert all(s.subscriber_id == "1" for s in await stack.emulator.subscriptions())


async def test_connect_with_some_scopes_subscribes_only_those(stack: Stack) -> None:
    await stack.emulator.put_user("SOME01", grant_scopes=["activity", "sleep"])
    response = await stack.consent("person-2", "SOME01")
    assert response.status_code == 200, response.text
    assert response.json()["subscriptions"] == {"activities": "created", "sleep": "created"}
    [user] = await _one(stack, User)
    assert user.timezone is None  # no profile scope: nothing asked, nothing broken
    assert {s.collection for s in await stack.emulator.subscriptions()} == {"activities", "sleep"}


async def test_denied_consent_is_recorded_and_stores_no_user(stack: Stack) -> None:
    response = await stack.consent("person-3", "DENY01", deny="1")
    assert response.status_code == 403
    assert response.json()["status"] == "denied"
    assert await _one(stack, User) == []
    async with stack.engine.connect() as conn:
        [event] = list(await conn.execute(select(AccountEvent)))
    assert (event.kind, event.user_ref, event.detail) == (
        "consent_denied",
        "person-3",
        "access_denied",
    )


async def test_unknown_state_is_refused_and_nothing_stored(stack: Stack) -> None:
    response = await stack.service.get("/fitbit/callback", params={"state": "made-up", "code": "x"})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_state"
    assert await _one(stack, User) == []


async def test_state_is_single_use(stack: Stack) -> None:
    url = await stack.connector.begin("person-4", None)
    state = url.split("state=", 1)[1].split("&", 1)[0]
    first = await stack.service.get(
        "/fitbit/callback", params={"state": state, "error": "access_denied"}
    )
    assert first.status_code == 403
    again = await stack.service.get("/fitbit/callback", params={"state": state, "code": "abc"})
    assert again.status_code == 400
    assert again.json()["error"]["code"] == "invalid_state"


async def test_expired_state_is_refused(stack: Stack) -> None:
    url = await stack.connector.begin("person-5", None)
    async with stack.engine.begin() as conn:
        await conn.execute(update(ConnectState).values(expires_at=dt.datetime.now(dt.UTC)))
    params = dict(p.split("=", 1) for p in url.split("?", 1)[1].split("&"))
    response = await stack.service.get(
        "/fitbit/callback", params={"state": params["state"], "code": "whatever"}
    )
    assert response.status_code == 400
    assert "expired" in response.json()["error"]["detail"]
    assert await _one(stack, User) == []


async def test_same_account_same_ref_reconnects(stack: Stack) -> None:
    assert (await stack.consent("person-6", "SAME01")).status_code == 200
    again = await stack.consent("person-6", "SAME01")
    assert again.status_code == 200
    assert again.json()["status"] == "reconnected"
    assert again.json()["subscriptions"]["sleep"] == "already_subscribed"
    assert len(await _one(stack, User)) == 1
    assert len(await _one(stack, ProviderAccount)) == 1


async def test_same_account_other_ref_is_a_conflict(stack: Stack) -> None:
    assert (await stack.consent("person-7", "TAKEN1")).status_code == 200
    response = await stack.consent("someone-else", "TAKEN1")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "account_already_connected"
    [user] = await _one(stack, User)
    assert user.user_ref == "person-7"


async def test_tokens_are_never_stored_in_the_clear(stack: Stack) -> None:
    await stack.consent("person-8", "CLEAR1")
    [account] = await _one(stack, ProviderAccount)
    token = await stack.connector.vault.access_token(account.id)
    refresh = stack.connector.cipher.decrypt(account.refresh_token)
    dump = await _database_text(stack)
    assert token not in dump
    assert refresh not in dump


async def _database_text(stack: Stack) -> str:
    """Every row of every table, as text."""
    parts: list[str] = []
    async with stack.engine.connect() as conn:
        tables = await conn.scalars(
            text("SELECT tablename FROM pg_tables WHERE schemaname='public'")
        )
        for table in list(tables):
            rows = await conn.scalars(text(f'SELECT row_to_json(t)::text FROM "{table}" t'))
            parts.extend(rows)
    return "\n".join(parts)


async def test_disconnect_removes_subscriptions_and_revokes(stack: Stack) -> None:
    await stack.consent("person-9", "LEAVE1")
    [user] = await _one(stack, User)
    await stack.connector.disconnect(user.id)
    assert await stack.emulator.subscriptions() == []
    [account] = await _one(stack, ProviderAccount)
    assert account.access_token is None
    assert account.refresh_token is None
    [user] = await _one(stack, User)
    assert user.status.value == "disconnected"
    async with stack.engine.connect() as conn:
        kinds = [e.kind for e in await conn.execute(select(AccountEvent).order_by(AccountEvent.id))]
        assert await conn.scalar(select(Subscription.id)) is None
    assert kinds == ["connected", "disconnected"]
