"""Google OAuth 2.0 against the emulator with a third-party client (authlib): the code grant
with offline access, consent and PKCE, identity, refresh without rotation, revocation, and
Google's 401/403 answers."""

from __future__ import annotations

import secrets
import warnings
from typing import Any

import authlib.deprecate
import httpx
import pytest

from service.emulator.testing import EmulatorControl
from tests.emulator.emulator_support import GOOGLE

with warnings.catch_warnings():
    warnings.simplefilter("ignore", authlib.deprecate.AuthlibDeprecationWarning)
    from authlib.integrations.httpx_client import AsyncOAuth2Client

SLEEP = "https://www.googleapis.com/auth/googlehealth.sleep.readonly"
ACTIVITY = "https://www.googleapis.com/auth/googlehealth.activity_and_fitness.readonly"


def client(**extra: object) -> AsyncOAuth2Client:
    return AsyncOAuth2Client(
        client_id=GOOGLE.client_id,
        client_secret=GOOGLE.client_secret,
        scope=f"{ACTIVITY} {SLEEP}",
        redirect_uri=GOOGLE.redirect_uri,
        code_challenge_method="S256",
        **extra,
    )


async def consent(
    oauth: AsyncOAuth2Client, base: str, verifier: str, **params: str
) -> dict[str, Any]:
    url, state = oauth.create_authorization_url(
        f"{base}/o/oauth2/v2/auth", code_verifier=verifier, **params
    )
    async with httpx.AsyncClient() as browser:
        answer = await browser.get(url)
    assert answer.status_code == 302
    token: dict[str, Any] = await oauth.fetch_token(
        f"{base}/token",
        authorization_response=answer.headers["location"],
        code_verifier=verifier,
        state=state,
    )
    return token


@pytest.mark.parametrize("auth_method", ["client_secret_post", "client_secret_basic"])
async def test_authlib_code_with_pkce_identity_and_refresh_without_rotation(
    emulator_url: str, control: EmulatorControl, auth_method: str
) -> None:
    await control.google.put_user("g-user-1", legacy_user_id="ABC123", timezone="Europe/Paris")
    verifier = secrets.token_urlsafe(48)
    async with client(token_endpoint_auth_method=auth_method) as oauth:
        token = await consent(
            oauth,
            emulator_url,
            verifier,
            access_type="offline",
            prompt="consent",
            login_hint="g-user-1",
        )
        assert set(token["scope"].split()) == {ACTIVITY, SLEEP}
        assert len(token["access_token"]) == 2048
        assert token["expires_in"] == 3599
        refresh = token["refresh_token"]

        me = await oauth.get(f"{emulator_url}/v4/users/me/identity")
        assert me.json() == {
            "name": "users/me/identity",
            "healthUserId": "g-user-1",
            "legacyUserId": "ABC123",
        }

        renewed = await oauth.refresh_token(f"{emulator_url}/token", refresh_token=refresh)
        assert renewed["access_token"] != token["access_token"]
        assert renewed["refresh_token"] == refresh  # authlib keeps the old one: none came back
        again = await oauth.refresh_token(f"{emulator_url}/token", refresh_token=refresh)
        assert again["access_token"] != renewed["access_token"]
        assert (await oauth.get(f"{emulator_url}/v4/users/me/identity")).status_code == 200
    counters = await control.google.counters()
    assert counters.token_refreshes == 2
    assert counters.calls_by_user == {"g-user-1": 2}


async def test_the_refresh_answer_has_no_refresh_token_and_revocation_spends_it(
    emulator_url: str, control: EmulatorControl
) -> None:
    tokens = await control.google.issue_tokens("g-user-2", [SLEEP])
    form = {"client_id": GOOGLE.client_id, "client_secret": GOOGLE.client_secret}
    async with httpx.AsyncClient(base_url=emulator_url) as http:
        answer = await http.post(
            "/token",
            data=form
            | {"grant_type": "refresh_token", "refresh_token": tokens.refresh_token or ""},
        )
        assert answer.status_code == 200
        assert "refresh_token" not in answer.json()
        assert (
            await http.post("/revoke", data={"token": answer.json()["access_token"]})
        ).status_code == 200
        spent = await http.post(
            "/token",
            data=form
            | {"grant_type": "refresh_token", "refresh_token": tokens.refresh_token or ""},
        )
        assert spent.status_code == 400
        assert spent.json()["error"] == "invalid_grant"
        gone = await http.get(
            "/v4/users/me/identity", headers={"Authorization": f"Bearer {tokens.access_token}"}
        )
        assert gone.status_code == 401


async def test_a_second_consent_without_prompt_consent_gets_no_refresh_token(
    emulator_url: str, control: EmulatorControl
) -> None:
    async with client() as oauth:
        first = await consent(
            oauth,
            emulator_url,
            secrets.token_urlsafe(48),
            access_type="offline",
            login_hint="g-user-3",
        )
        second = await consent(
            oauth,
            emulator_url,
            secrets.token_urlsafe(48),
            access_type="offline",
            login_hint="g-user-3",
        )
    assert "refresh_token" in first
    assert "refresh_token" not in second


async def test_a_wrong_code_verifier_is_invalid_grant(
    emulator_url: str, control: EmulatorControl
) -> None:
    async with client() as oauth:
        url, _ = oauth.create_authorization_url(
            f"{emulator_url}/o/oauth2/v2/auth",
            code_verifier=secrets.token_urlsafe(48),
            login_hint="g-user-4",
        )
        async with httpx.AsyncClient() as browser:
            location = (await browser.get(url)).headers["location"]
    code = httpx.URL(location).params["code"]
    async with httpx.AsyncClient(base_url=emulator_url) as http:
        answer = await http.post(
            "/token",
            data={
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": GOOGLE.redirect_uri or "",
                "client_id": GOOGLE.client_id,
                "client_secret": GOOGLE.client_secret,
                "code_verifier": secrets.token_urlsafe(48),
            },
        )
    assert answer.status_code == 400
    assert answer.json()["error"] == "invalid_grant"


async def test_expired_tokens_get_401_and_missing_scopes_403_in_googles_shape(
    emulator_url: str, control: EmulatorControl
) -> None:
    tokens = await control.google.issue_tokens("g-user-5", [SLEEP])
    headers = {"Authorization": f"Bearer {tokens.access_token}"}
    async with httpx.AsyncClient(base_url=emulator_url, headers=headers) as http:
        denied = await http.get("/v4/users/me/dataTypes/steps/dataPoints")
        assert denied.status_code == 403
        assert denied.json()["error"]["status"] == "PERMISSION_DENIED"
        assert (await http.get("/v4/users/me/dataTypes/sleep/dataPoints")).status_code == 200
        await control.advance_clock(3600)
        expired = await http.get("/v4/users/me/dataTypes/sleep/dataPoints")
    assert expired.status_code == 401
    assert expired.json()["error"]["code"] == 401
    assert expired.json()["error"]["status"] == "UNAUTHENTICATED"
