"""OAuth 2.0 as Fitbit does it: consent, code exchange with PKCE, refresh, revoke,
introspect, token expiry and scopes, over real HTTP."""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from service.emulator import oauth
from service.emulator.testing import ControlError, EmulatorControl
from tests.emulator.emulator_support import (
    CLIENT_ID,
    CLIENT_SECRET,
    REDIRECT_URI,
    USER,
    YESTERDAY,
    BearerFactory,
    SchemaCheck,
    assert_shaped_like,
    example,
)

VERIFIER = "01234567890123456789012345678901234567890123456789"
BASIC = {"Authorization": "Basic " + oauth.basic_credentials(CLIENT_ID, CLIENT_SECRET)}
ACTIVITY = f"/1/user/-/activities/date/{YESTERDAY}.json"


async def consent(fitbit: httpx.AsyncClient, **overrides: str) -> httpx.Response:
    params = {
        "client_id": CLIENT_ID,
        "response_type": "code",
        "scope": "activity sleep weight",
        "redirect_uri": REDIRECT_URI,
        "state": "st4te",
        "code_challenge": oauth.s256_challenge(VERIFIER),
        "code_challenge_method": "S256",
        "user_id": USER,
    } | overrides
    return await fitbit.get("/oauth2/authorize", params={k: v for k, v in params.items() if v})


def redirect_params(response: httpx.Response) -> dict[str, str]:
    assert response.status_code == 302
    location = urlsplit(response.headers["location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == REDIRECT_URI
    assert location.fragment == "_=_"
    return {key: values[0] for key, values in parse_qs(location.query).items()}


async def exchange(fitbit: httpx.AsyncClient, code: str, **overrides: str) -> httpx.Response:
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT_URI,
        "code_verifier": VERIFIER,
    } | overrides
    return await fitbit.post("/oauth2/token", data=form, headers=BASIC)


async def refresh(fitbit: httpx.AsyncClient, token: str) -> httpx.Response:
    form = {"grant_type": "refresh_token", "refresh_token": token}
    return await fitbit.post("/oauth2/token", data=form, headers=BASIC)


async def tokens_for(fitbit: httpx.AsyncClient) -> dict[str, Any]:
    code = redirect_params(await consent(fitbit))["code"]
    response = await exchange(fitbit, code)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def error_type(response: httpx.Response) -> str:
    body = response.json()
    assert body["success"] is False
    kind: str = body["errors"][0]["errorType"]
    return kind


async def test_consent_redirects_with_code_state_and_fitbits_fragment(
    fitbit: httpx.AsyncClient,
) -> None:
    params = redirect_params(await consent(fitbit))
    assert params["state"] == "st4te"
    assert len(params["code"]) >= 20


async def test_code_exchange_answers_like_fitbits_token_response(
    fitbit: httpx.AsyncClient, schema: SchemaCheck
) -> None:
    tokens = await tokens_for(fitbit)
    schema(tokens, "Oauth2Token")
    assert_shaped_like(tokens, example("fitbit-dotnet/AccessToken.json"))
    assert tokens["user_id"] == USER
    assert tokens["scope"] == "activity sleep weight"
    assert tokens["expires_in"] == 8 * 3600
    assert tokens["token_type"] == "Bearer"
    data = await fitbit.get(ACTIVITY, headers={"Authorization": f"Bearer {tokens['access_token']}"})
    assert data.status_code == 200


async def test_a_code_is_single_use(fitbit: httpx.AsyncClient) -> None:
    code = redirect_params(await consent(fitbit))["code"]
    assert (await exchange(fitbit, code)).status_code == 200
    again = await exchange(fitbit, code)
    assert again.status_code == 400
    assert error_type(again) == "invalid_grant"


async def test_a_code_lives_ten_minutes(
    fitbit: httpx.AsyncClient, control: EmulatorControl
) -> None:
    code = redirect_params(await consent(fitbit))["code"]
    await control.advance_clock(10 * 60 + 1)
    late = await exchange(fitbit, code)
    assert late.status_code == 400
    assert error_type(late) == "invalid_grant"


@pytest.mark.parametrize(
    "override",
    [
        {"code_verifier": "9" * 50},
        {"redirect_uri": REDIRECT_URI + "/other"},
    ],
)
async def test_exchange_needs_the_verifier_and_the_exact_redirect_uri(
    fitbit: httpx.AsyncClient, override: dict[str, str]
) -> None:
    code = redirect_params(await consent(fitbit))["code"]
    response = await exchange(fitbit, code, **override)
    assert response.status_code == 400
    assert error_type(response) == "invalid_grant"


async def test_a_missing_verifier_is_an_invalid_request(fitbit: httpx.AsyncClient) -> None:
    code = redirect_params(await consent(fitbit))["code"]
    response = await exchange(fitbit, code, code_verifier="")
    assert response.status_code == 400
    assert error_type(response) == "invalid_request"


async def test_client_apps_send_client_id_and_may_use_plain_pkce(fitbit: httpx.AsyncClient) -> None:
    params = redirect_params(
        await consent(fitbit, code_challenge=VERIFIER, code_challenge_method="plain")
    )
    form = {
        "grant_type": "authorization_code",
        "client_id": CLIENT_ID,
        "code": params["code"],
        "redirect_uri": REDIRECT_URI,
        "code_verifier": VERIFIER,
    }
    response = await fitbit.post("/oauth2/token", data=form)
    assert response.status_code == 200, response.text


async def test_a_wrong_client_secret_is_refused(fitbit: httpx.AsyncClient) -> None:
    code = redirect_params(await consent(fitbit))["code"]
    wrong = {"Authorization": "Basic " + oauth.basic_credentials(CLIENT_ID, "nope")}
    form = {"grant_type": "authorization_code", "code": code, "code_verifier": VERIFIER}
    response = await fitbit.post("/oauth2/token", data=form, headers=wrong)
    assert response.status_code == 401
    assert error_type(response) == "invalid_client"


async def test_consent_for_the_configured_user_when_none_is_named(
    fitbit: httpx.AsyncClient, control: EmulatorControl
) -> None:
    await control.configure(consent_user="CONF01")
    code = redirect_params(await consent(fitbit, user_id=""))["code"]
    assert (await exchange(fitbit, code)).json()["user_id"] == "CONF01"


async def test_without_a_user_the_consent_screen_is_a_sign_in_form(
    fitbit: httpx.AsyncClient,
) -> None:
    page = await consent(fitbit, user_id="")
    assert page.status_code == 200
    assert "text/html" in page.headers["content-type"]
    assert 'name="user_id"' in page.text
    assert 'name="state" value="st4te"' in page.text


async def test_a_user_may_grant_fewer_scopes_than_asked(
    fitbit: httpx.AsyncClient, control: EmulatorControl
) -> None:
    await control.put_user(USER, grant_scopes=["sleep", "profile"])
    tokens = await tokens_for(fitbit)
    assert tokens["scope"] == "sleep"
    headers = {"Authorization": f"Bearer {tokens['access_token']}"}
    refused = await fitbit.get(ACTIVITY, headers=headers)
    assert refused.status_code == 403
    assert error_type(refused) == "insufficient_scope"
    assert (
        await fitbit.get(f"/1.2/user/-/sleep/date/{YESTERDAY}.json", headers=headers)
    ).status_code == 200


@pytest.mark.parametrize("how", ["configured", "deny button", "account deleted"])
async def test_a_denying_user_sends_access_denied(
    fitbit: httpx.AsyncClient, control: EmulatorControl, how: str
) -> None:
    if how == "configured":
        await control.put_user(USER, deny_consent=True)
    if how == "account deleted":
        await control.put_user(USER)
        await control.delete_user(USER)
        with pytest.raises(ControlError) as refused:
            await control.issue_tokens(USER)
        assert refused.value.status == 409
    response = await consent(fitbit, **({"deny": "1"} if how == "deny button" else {}))
    params = redirect_params(response)
    assert params["error"] == "access_denied"
    assert params["state"] == "st4te"
    assert "code" not in params


@pytest.mark.parametrize(
    "override",
    [
        {"client_id": "OTHER1"},
        {"redirect_uri": "https://elsewhere.example/cb"},
        {"scope": "activity telepathy"},
        {"response_type": "token"},
        {"code_challenge_method": "S512"},
    ],
)
async def test_malformed_consent_requests_are_refused_without_redirect(
    fitbit: httpx.AsyncClient, override: dict[str, str]
) -> None:
    response = await consent(fitbit, **override)
    assert response.status_code == 400
    assert response.json()["success"] is False


async def test_refresh_is_single_use_but_replays_within_two_minutes(
    fitbit: httpx.AsyncClient, control: EmulatorControl
) -> None:
    first = await tokens_for(fitbit)
    renewed = await refresh(fitbit, first["refresh_token"])
    assert renewed.status_code == 200
    assert renewed.json()["refresh_token"] != first["refresh_token"]
    await control.advance_clock(119)
    replay = await refresh(fitbit, first["refresh_token"])
    assert replay.json() == renewed.json()
    await control.advance_clock(2)
    spent = await refresh(fitbit, first["refresh_token"])
    assert spent.status_code == 400
    assert error_type(spent) == "invalid_grant"
    assert "Refresh token invalid" in spent.json()["errors"][0]["message"]
    assert (await refresh(fitbit, renewed.json()["refresh_token"])).status_code == 200
    assert (await control.counters()).token_refreshes == 3


async def test_concurrent_refreshes_of_one_token_get_409(
    fitbit: httpx.AsyncClient, control: EmulatorControl
) -> None:
    tokens = await tokens_for(fitbit)
    await control.set_faults(latency_ms=300, path_prefix="/oauth2/token")
    first, second = await asyncio.gather(
        refresh(fitbit, tokens["refresh_token"]), refresh(fitbit, tokens["refresh_token"])
    )
    assert sorted([first.status_code, second.status_code]) == [200, 409]


async def test_access_tokens_expire_after_their_lifetime(
    fitbit: httpx.AsyncClient, control: EmulatorControl, bearer: BearerFactory
) -> None:
    headers = await bearer()
    await control.advance_clock(8 * 3600 - 1)
    assert (await fitbit.get(ACTIVITY, headers=headers)).status_code == 200
    await control.advance_clock(1)
    expired = await fitbit.get(ACTIVITY, headers=headers)
    assert expired.status_code == 401
    assert error_type(expired) == "expired_token"


async def test_the_access_token_lifetime_is_configurable(
    fitbit: httpx.AsyncClient, control: EmulatorControl, bearer: BearerFactory
) -> None:
    await control.configure(access_token_ttl_seconds=60)
    headers = await bearer()
    await control.advance_clock(60)
    assert error_type(await fitbit.get(ACTIVITY, headers=headers)) == "expired_token"


@pytest.mark.parametrize(
    ("headers", "expected"),
    [({"Authorization": "Bearer not-a-token"}, "invalid_token"), ({}, "invalid_request")],
)
async def test_calls_without_a_valid_token_get_401(
    fitbit: httpx.AsyncClient, headers: dict[str, str], expected: str
) -> None:
    response = await fitbit.get(ACTIVITY, headers=headers)
    assert response.status_code == 401
    assert error_type(response) == expected


async def test_the_path_may_name_the_tokens_own_user_but_no_other(
    fitbit: httpx.AsyncClient, bearer: BearerFactory
) -> None:
    headers = await bearer()
    own = await fitbit.get(f"/1/user/{USER}/activities/date/{YESTERDAY}.json", headers=headers)
    other = await fitbit.get(f"/1/user/OTHER9/activities/date/{YESTERDAY}.json", headers=headers)
    assert (own.status_code, other.status_code) == (200, 403)


async def test_client_credentials_give_an_app_token_for_introspection(
    fitbit: httpx.AsyncClient, bearer: BearerFactory, schema: SchemaCheck
) -> None:
    app = await fitbit.post(
        "/oauth2/token", data={"grant_type": "client_credentials"}, headers=BASIC
    )
    assert app.status_code == 200
    assert "refresh_token" not in app.json()
    user_token = (await bearer())["Authorization"].removeprefix("Bearer ")
    app_auth = {"Authorization": f"Bearer {app.json()['access_token']}"}
    answer = await fitbit.post(
        "/1.1/oauth2/introspect", data={"token": user_token}, headers=app_auth
    )
    assert answer.status_code == 200
    body = answer.json()
    schema(body, "Oauth2Introspect")
    assert body["active"] is True
    assert body["user_id"] == USER
    assert body["client_id"] == CLIENT_ID
    assert "ACTIVITY=READ_WRITE" in body["scope"]
    assert body["exp"] - body["iat"] == 8 * 3600 * 1000
    public = await fitbit.post(
        "/oauth2/token", data={"grant_type": "client_credentials", "client_id": CLIENT_ID}
    )
    assert public.status_code == 401


async def test_revoke_ends_every_token_of_the_user_and_their_subscriptions(
    fitbit: httpx.AsyncClient, control: EmulatorControl
) -> None:
    tokens = await tokens_for(fitbit)
    headers = {"Authorization": f"Bearer {tokens['access_token']}"}
    assert (
        await fitbit.post("/1/user/-/apiSubscriptions/s1.json", headers=headers)
    ).status_code == 201
    revoked = await fitbit.post(
        "/oauth2/revoke", data={"token": tokens["refresh_token"]}, headers=BASIC
    )
    assert revoked.status_code == 200
    assert error_type(await fitbit.get(ACTIVITY, headers=headers)) == "invalid_token"
    assert error_type(await refresh(fitbit, tokens["refresh_token"])) == "invalid_grant"
    assert await control.subscriptions() == []
    other = {"Authorization": f"Bearer {(await control.issue_tokens('OTHER2')).access_token}"}
    introspected = await fitbit.post(
        "/1.1/oauth2/introspect", data={"token": tokens["access_token"]}, headers=other
    )
    assert introspected.json() == {"active": False}


async def test_unknown_grant_types_are_refused(fitbit: httpx.AsyncClient) -> None:
    response = await fitbit.post("/oauth2/token", data={"grant_type": "password"}, headers=BASIC)
    assert response.status_code == 400
    assert error_type(response) == "invalid_request"


@pytest.mark.parametrize(("confidential", "status"), [(True, 200), (False, 400)])
async def test_only_server_apps_may_skip_pkce(
    fitbit: httpx.AsyncClient, confidential: bool, status: int
) -> None:
    code = redirect_params(await consent(fitbit, code_challenge="", code_challenge_method=""))
    form = {"grant_type": "authorization_code", "code": code["code"], "redirect_uri": REDIRECT_URI}
    if confidential:
        response = await fitbit.post("/oauth2/token", data=form, headers=BASIC)
    else:
        response = await fitbit.post("/oauth2/token", data=form | {"client_id": CLIENT_ID})
    assert response.status_code == status
