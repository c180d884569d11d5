"""Every `/v1` route wants a Bearer token with its scope (RFC 6750), else 401 or 403."""

from __future__ import annotations

import httpx
import pytest

from service.api import scopes
from tests.integration.api.conftest import NewClient, get_token, jsonapi_client


async def v1_operations(api: httpx.AsyncClient) -> list[tuple[str, str, str]]:
    """Every `/v1` operation: method, a path to call it at, and the scope it documents."""
    spec = (await api.get("/openapi.json")).json()
    operations = [
        (method.upper(), path.replace("{id}", "1").replace("{collection}", "sleep"), scope)
        for path, item in spec["paths"].items()
        if path.startswith("/v1/")
        for method, operation in item.items()
        for scope in operation["security"][0]["OAuth2"]
    ]
    assert len(operations) >= 8
    return operations


async def test_every_route_refuses_a_request_without_a_token(
    api: httpx.AsyncClient, anonymous: httpx.AsyncClient
) -> None:
    for method, path, _ in await v1_operations(api):
        answer = await anonymous.request(method, path)
        assert answer.status_code == 401, (method, path)
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
    other = {scopes.READ: scopes.SUBSCRIPTIONS_WRITE, scopes.SUBSCRIPTIONS_WRITE: scopes.READ}
    for scope, lacking in other.items():
        credentials = await new_client(lacking)
        async with jsonapi_client(api, await get_token(api, credentials)) as client:
            for method, path, needed in await v1_operations(api):
                if needed != scope:
                    continue
                answer = await client.request(method, path)
                assert answer.status_code == 403, (method, path)
                challenge = answer.headers["www-authenticate"]
                assert 'error="insufficient_scope"' in challenge
                assert f'scope="{scope}"' in challenge
                assert answer.json()["errors"][0]["code"] == "Forbidden"


async def test_a_read_token_reads(api: httpx.AsyncClient, new_client: NewClient) -> None:
    reader = await new_client(scopes.READ)
    async with jsonapi_client(api, await get_token(api, reader)) as client:
        assert (await client.get("/v1/users")).status_code == 200
