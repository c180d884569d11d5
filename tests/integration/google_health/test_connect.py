"""Connecting a person through Google: `POST /v1/connections` with `provider`, consent at the
emulated Google, `/google-health/callback`, the account keyed by healthUserId with its tokens
in the vault; a refresh keeps the refresh token Google does not rotate."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from service.api import clients, scopes
from service.api.documents import MEDIA_TYPE
from service.providers.google_health import datatypes, identity
from service.providers.google_health.client import GoogleHealthClient
from service.store.models import ProviderAccount, User
from tests.integration.api.conftest import Credentials, get_token, jsonapi_client
from tests.integration.google_health.conftest import REDIRECT_URI, GoogleStack

USER = "g-connect-user"


async def _account(engine: AsyncEngine) -> Any:
    async with engine.connect() as conn:
        [account] = list(await conn.execute(select(ProviderAccount)))
    return account


async def _identity_with(google: GoogleStack, token: str) -> identity.Identity:
    async with httpx.AsyncClient() as http:
        client = GoogleHealthClient(http, google.settings.google_health_api_url)
        return await identity.get_identity(client, token)


async def test_connecting_stores_the_health_user_and_its_tokens(google: GoogleStack) -> None:
    await google.emulator.google.put_user(USER, timezone="Europe/Paris", legacy_user_id="ABC123")
    answer = await google.consent("ref-google", USER)
    assert answer.status_code == 200, answer.text
    assert answer.json()["status"] == "connected"
    account = await _account(google.engine)
    assert (account.provider, account.external_id) == ("google_health", USER)
    assert datatypes.SLEEP_SCOPE in account.scopes
    async with google.engine.connect() as conn:
        [user] = list(await conn.execute(select(User)))
    assert (user.user_ref, user.timezone) == ("ref-google", "Europe/Paris")
    assert user.utc_offset_ms in (3_600_000, 7_200_000)
    token = await google.connector.vault.access_token(account.id)
    assert len(token) > 1000  # Google's access tokens run to ~2 KB
    assert (await _identity_with(google, token)).health_user_id == USER
    assert await google.connector.subscribe_granted(account.id) == {}  # AUTOMATIC: none to make


async def test_a_refresh_keeps_the_refresh_token(google: GoogleStack) -> None:
    await google.emulator.google.put_user(USER)
    assert (await google.consent("ref-google", USER)).status_code == 200
    before = await _account(google.engine)
    old_access = await google.connector.vault.access_token(before.id)
    fresh = await google.connector.vault.refresh(before.id, old_access)
    after = await _account(google.engine)
    assert fresh != old_access
    assert after.refresh_token is not None
    cipher = google.connector.cipher
    assert before.refresh_token is not None
    assert cipher.decrypt(after.refresh_token) == cipher.decrypt(before.refresh_token)
    assert (await google.emulator.google.counters()).token_refreshes == 1
    again = await google.connector.vault.refresh(after.id, fresh)  # the kept one still works
    assert (await _identity_with(google, again)).health_user_id == USER


async def _api_client(google: GoogleStack) -> Any:
    async with google.engine.begin() as conn:
        made = await clients.create(conn, "downstream", frozenset({scopes.SUBSCRIPTIONS_WRITE}))
    token = await get_token(google.service, Credentials(made.record.client_id, made.secret))
    return jsonapi_client(google.service, token)


async def _post(client: Any, attributes: dict[str, Any]) -> Any:
    body = json.dumps({"data": {"type": "connections", "attributes": attributes}})
    headers = {"Content-Type": MEDIA_TYPE}
    return await client.post("/v1/connections", content=body, headers=headers)


async def test_the_api_connects_through_the_provider_it_is_asked_for(
    google: GoogleStack,
) -> None:
    await google.emulator.google.put_user(USER)
    async with await _api_client(google) as client:
        created = await _post(client, {"user_ref": "ref-api", "provider": "google_health"})
        assert created.status_code == 201, created.text
        attributes = created.json()["data"]["attributes"]
        assert attributes["provider"] == "google_health"
        assert set(attributes["scopes"]) >= {datatypes.SLEEP_SCOPE, datatypes.ACTIVITY_SCOPE}
        async with httpx.AsyncClient() as browser:
            consent = await browser.get(f"{attributes['authorization_url']}&login_hint={USER}")
        location = consent.headers["location"]
        assert location.startswith(REDIRECT_URI)
        query = {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}
        answer = await client.get("/google-health/callback", params=query)
        assert answer.status_code == 200, answer.text
        assert (await _account(google.engine)).external_id == USER

        default = await _post(client, {"user_ref": "ref-fitbit"})
        assert default.json()["data"]["attributes"]["provider"] == "fitbit"
        unknown = await _post(client, {"user_ref": "ref-x", "provider": "garmin"})
        assert unknown.status_code == 409
        wrong_scope = await _post(
            client, {"user_ref": "ref-y", "provider": "google_health", "scopes": ["sleep"]}
        )
        assert wrong_scope.status_code == 409


async def test_a_fitbit_callback_refuses_a_google_state(google: GoogleStack) -> None:
    asked = await google.connector.ask("ref-mixed", None, "google_health")
    state = parse_qs(urlsplit(asked.url).query)["state"][0]
    answer = await google.service.get("/fitbit/callback", params={"state": state, "code": "x"})
    assert answer.status_code == 400
