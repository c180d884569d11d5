"""`POST /oauth/token` (RFC 6749) over real HTTP, driven by a third-party OAuth 2.0 client."""

from __future__ import annotations

import asyncio
import warnings
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from authlib.deprecate import AuthlibDeprecationWarning
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncEngine

from service.api import scopes
from service.store.models import ApiToken
from tests.integration.api.conftest import (
    TOKEN_URL,
    Credentials,
    NewClient,
    get_token,
    jsonapi_client,
)

with warnings.catch_warnings():
    # authlib 1.9 announces a move to the `httpx2` package; its httpx client is what we drive.
    warnings.simplefilter("ignore", AuthlibDeprecationWarning)
    from authlib.integrations.httpx_client import AsyncOAuth2Client, OAuthError


@pytest.fixture(params=["client_secret_basic", "client_secret_post"])
async def oauth(
    request: pytest.FixtureRequest, api: httpx.AsyncClient, credentials: Credentials
) -> AsyncIterator[Any]:
    async with AsyncOAuth2Client(
        credentials.client_id,
        credentials.secret,
        token_endpoint_auth_method=request.param,
        base_url=api.base_url,
    ) as client:
        yield client


def token_url(api: httpx.AsyncClient) -> str:
    return str(api.base_url.join(TOKEN_URL))


async def users_status(api: httpx.AsyncClient, access_token: str) -> int:
    async with jsonapi_client(api, access_token) as client:
        return (await client.get("/v1/users")).status_code


async def test_a_standard_client_gets_refreshes_and_uses_tokens(
    api: httpx.AsyncClient, oauth: Any
) -> None:
    token = await oauth.fetch_token(token_url(api), grant_type="client_credentials")
    assert token["token_type"] == "Bearer"
    assert token["expires_in"] == 3600
    assert token["scope"] == "read subscriptions:write"
    assert (await oauth.get("/v1/users")).status_code == 200  # authlib sends the Bearer token

    renewed = await oauth.refresh_token(token_url(api), refresh_token=token["refresh_token"])
    assert renewed["access_token"] != token["access_token"]
    assert renewed["refresh_token"] != token["refresh_token"]
    assert (await oauth.get("/v1/users")).status_code == 200


async def test_a_refresh_token_works_once_and_its_replay_revokes_the_line(
    api: httpx.AsyncClient, oauth: Any
) -> None:
    first = await oauth.fetch_token(token_url(api), grant_type="client_credentials")
    second = await oauth.refresh_token(token_url(api), refresh_token=first["refresh_token"])

    with pytest.raises(OAuthError) as replayed:
        await oauth.refresh_token(token_url(api), refresh_token=first["refresh_token"])
    assert replayed.value.error == "invalid_grant"

    # Someone holds a copy of the first refresh token: nothing of its line works any more.
    assert await users_status(api, second["access_token"]) == 401
    with pytest.raises(OAuthError) as spent:
        await oauth.refresh_token(token_url(api), refresh_token=second["refresh_token"])
    assert spent.value.error == "invalid_grant"
    fresh = await oauth.fetch_token(token_url(api), grant_type="client_credentials")
    assert await users_status(api, fresh["access_token"]) == 200


async def test_concurrent_refreshes_with_one_token_let_exactly_one_through(
    api: httpx.AsyncClient, credentials: Credentials
) -> None:
    refresh = (await token_answer(api, credentials)).json()["refresh_token"]
    form = {"grant_type": "refresh_token", "refresh_token": refresh}
    answers = await asyncio.gather(
        *(api.post(TOKEN_URL, data=form, headers=credentials.basic()) for _ in range(8))
    )
    statuses = sorted(answer.status_code for answer in answers)
    assert statuses == [200] + [400] * 7
    assert {a.json()["error"] for a in answers if a.status_code == 400} == {"invalid_grant"}


async def token_answer(
    api: httpx.AsyncClient, credentials: Credentials, **form: str
) -> httpx.Response:
    data = {"grant_type": "client_credentials", **form}
    return await api.post(TOKEN_URL, data=data, headers=credentials.basic())


async def test_answers_are_never_cached(api: httpx.AsyncClient, credentials: Credentials) -> None:
    good = await token_answer(api, credentials)
    bad = await token_answer(api, Credentials(credentials.client_id, "wrong"))
    for answer in (good, bad):
        assert answer.headers["cache-control"] == "no-store"
        assert answer.headers["pragma"] == "no-cache"
        assert answer.headers["content-type"] == "application/json"


@pytest.mark.parametrize("secret", ["wrong", ""])
async def test_a_wrong_secret_is_invalid_client_with_a_challenge(
    api: httpx.AsyncClient, credentials: Credentials, secret: str
) -> None:
    answer = await token_answer(api, Credentials(credentials.client_id, secret))
    assert answer.status_code == 401
    assert answer.json()["error"] == "invalid_client"
    assert answer.headers["www-authenticate"].startswith("Basic ")


async def test_an_unknown_client_is_invalid_client(api: httpx.AsyncClient) -> None:
    answer = await token_answer(api, Credentials("nobody", "secret"))
    assert (answer.status_code, answer.json()["error"]) == (401, "invalid_client")


async def test_no_client_authentication_is_invalid_client(api: httpx.AsyncClient) -> None:
    answer = await api.post(TOKEN_URL, data={"grant_type": "client_credentials"})
    assert (answer.status_code, answer.json()["error"]) == (401, "invalid_client")


async def test_body_credentials_work(api: httpx.AsyncClient, credentials: Credentials) -> None:
    form = {
        "grant_type": "client_credentials",
        "client_id": credentials.client_id,
        "client_secret": credentials.secret,
    }
    answer = await api.post(TOKEN_URL, data=form)
    assert answer.status_code == 200, answer.text
    assert set(answer.json()) == {
        "access_token",
        "token_type",
        "expires_in",
        "refresh_token",
        "scope",
    }


@pytest.mark.parametrize(
    ("form", "error"),
    [
        ({}, "invalid_request"),
        ({"grant_type": "password"}, "unsupported_grant_type"),
        ({"grant_type": "authorization_code"}, "unsupported_grant_type"),
        ({"grant_type": "refresh_token"}, "invalid_request"),
        ({"grant_type": "refresh_token", "refresh_token": "made-up"}, "invalid_grant"),
        ({"grant_type": "client_credentials", "scope": "admin"}, "invalid_scope"),
        ({"grant_type": "client_credentials", "client_secret": "x"}, "invalid_request"),
    ],
)
async def test_malformed_requests_get_the_rfc_error(
    api: httpx.AsyncClient, credentials: Credentials, form: dict[str, str], error: str
) -> None:
    answer = await api.post(TOKEN_URL, data=form, headers=credentials.basic())
    assert answer.status_code == 400
    assert answer.json()["error"] == error
    assert answer.json()["error_description"]


async def test_a_parameter_given_twice_is_invalid_request(
    api: httpx.AsyncClient, credentials: Credentials
) -> None:
    body = "grant_type=client_credentials&grant_type=client_credentials"
    headers = {**credentials.basic(), "content-type": "application/x-www-form-urlencoded"}
    answer = await api.post(TOKEN_URL, content=body, headers=headers)
    assert (answer.status_code, answer.json()["error"]) == (400, "invalid_request")


async def test_json_bodies_are_refused(api: httpx.AsyncClient, credentials: Credentials) -> None:
    answer = await api.post(
        TOKEN_URL, json={"grant_type": "client_credentials"}, headers=credentials.basic()
    )
    assert (answer.status_code, answer.json()["error"]) == (400, "invalid_request")


async def test_other_methods_and_paths_get_rfc_errors(api: httpx.AsyncClient) -> None:
    wrong_method = await api.get(TOKEN_URL)
    assert wrong_method.status_code == 405
    assert wrong_method.json()["error"] == "invalid_request"
    assert (await api.post("/oauth/nothing")).json()["error"] == "invalid_request"


async def test_a_client_gets_only_the_scopes_it_was_created_with(
    api: httpx.AsyncClient, new_client: NewClient
) -> None:
    reader = await new_client(scopes.READ)
    assert (await token_answer(api, reader)).json()["scope"] == "read"
    refused = await token_answer(api, reader, scope="read subscriptions:write")
    assert (refused.status_code, refused.json()["error"]) == (400, "invalid_scope")


async def test_a_refresh_may_narrow_the_scope_but_the_grant_keeps_its_own(
    api: httpx.AsyncClient, credentials: Credentials
) -> None:
    first = (await token_answer(api, credentials)).json()
    narrowed = await refresh(api, credentials, first["refresh_token"], scope="subscriptions:write")
    assert narrowed.json()["scope"] == "subscriptions:write"
    assert await users_status(api, narrowed.json()["access_token"]) == 403
    widened = await refresh(api, credentials, narrowed.json()["refresh_token"], scope="read")
    assert widened.json()["scope"] == "read"


async def refresh(
    api: httpx.AsyncClient, credentials: Credentials, token: str, **form: str
) -> httpx.Response:
    data = {"grant_type": "refresh_token", "refresh_token": token, **form}
    return await api.post(TOKEN_URL, data=data, headers=credentials.basic())


async def test_a_refresh_token_is_bound_to_its_client(
    api: httpx.AsyncClient, credentials: Credentials, new_client: NewClient
) -> None:
    token = (await token_answer(api, credentials)).json()["refresh_token"]
    other = await new_client(scopes.READ, scopes.SUBSCRIPTIONS_WRITE, name="other")
    stolen = await refresh(api, other, token)
    assert (stolen.status_code, stolen.json()["error"]) == (400, "invalid_grant")
    assert (await refresh(api, credentials, token)).status_code == 200  # not spent by that


async def test_expired_tokens_are_refused(
    api: httpx.AsyncClient, credentials: Credentials, db: AsyncEngine
) -> None:
    answer = (await token_answer(api, credentials)).json()
    async with db.begin() as conn:
        await conn.execute(
            update(ApiToken).values(
                access_expires_at=ApiToken.created_at, refresh_expires_at=ApiToken.created_at
            )
        )
    async with jsonapi_client(api, answer["access_token"]) as client:
        expired = await client.get("/v1/users")
    assert expired.status_code == 401
    assert 'error="invalid_token"' in expired.headers["www-authenticate"]
    late = await refresh(api, credentials, answer["refresh_token"])
    assert (late.status_code, late.json()["error"]) == (400, "invalid_grant")


async def test_tokens_are_stored_only_as_digests(
    api: httpx.AsyncClient, credentials: Credentials, db: AsyncEngine
) -> None:
    access = await get_token(api, credentials)
    async with db.connect() as conn:
        stored = (await conn.execute(ApiToken.__table__.select())).mappings().one()
    assert access not in {str(value) for value in stored.values()}
    assert len(stored["access_hash"]) == 64
