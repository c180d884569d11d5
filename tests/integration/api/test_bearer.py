"""Every `/v1` route wants a Bearer token with its scope (RFC 6750), else 401 or 403."""

from __future__ import annotations

import httpx
import pytest

from service.api import scopes
from tests.integration.api.conftest import NewClient, get_token, jsonapi_client


async def v1_paths(api: httpx.AsyncClient) -> list[str]:
    spec = (await api.get("/openapi.json")).json()
    paths = [path.replace("{id}", "1") for path in spec["paths"] if path.startswith("/v1/")]
    assert len(paths) >= 8
    return paths


async def test_every_route_refuses_a_request_without_a_token(
    api: httpx.AsyncClient, anonymous: httpx.AsyncClient
) -> None:
    for path in await v1_paths(api):
        answer = await anonymous.get(path)
        assert answer.status_code == 401, path
        assert answer.headers["www-authenticate"] == 'Bearer realm="fitbit-subscriber"'
        (error,) = answer.json()["errors"]
        assert (error["status"], error["code"]) == ("401", "Unauthorized")


@pytest.mark.parametrize(
    "authorization", ["Bearer not-a-token", "Bearer " + "A" * 43, "bearer  made-up"]
)
async def test_an_unknown_token_is_invalid_token(
    anonymous: httpx.AsyncClient, authorization: str
) -> None:
    answer = await anonymous.get("/v1/users", headers={"Authorization": authorization})
    assert answer.status_code == 401
    assert 'error="invalid_token"' in answer.headers["www-authenticate"]


async def test_other_schemes_are_not_a_token(anonymous: httpx.AsyncClient) -> None:
    answer = await anonymous.get("/v1/users", headers={"Authorization": "Basic dXNlcjpwYXNz"})
    assert answer.status_code == 401
    assert "error=" not in answer.headers["www-authenticate"]


async def test_a_token_without_the_scope_is_forbidden_on_every_route(
    api: httpx.AsyncClient, new_client: NewClient
) -> None:
    writer = await new_client(scopes.SUBSCRIPTIONS_WRITE)
    async with jsonapi_client(api, await get_token(api, writer)) as client:
        for path in await v1_paths(api):
            answer = await client.get(path)
            assert answer.status_code == 403, path
            challenge = answer.headers["www-authenticate"]
            assert 'error="insufficient_scope"' in challenge
            assert 'scope="read"' in challenge
            assert answer.json()["errors"][0]["code"] == "Forbidden"


async def test_a_read_token_reads(api: httpx.AsyncClient, new_client: NewClient) -> None:
    reader = await new_client(scopes.READ)
    async with jsonapi_client(api, await get_token(api, reader)) as client:
        assert (await client.get("/v1/users")).status_code == 200
