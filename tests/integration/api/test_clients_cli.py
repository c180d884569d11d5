"""`fitbit-subscriber clients create | list | revoke`, run as real processes."""

from __future__ import annotations

import asyncio
import re

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.integration.api.conftest import TOKEN_URL, Credentials, jsonapi_client
from tests.integration.test_cli import run


async def clients(database_url: str, *args: str) -> tuple[int, str, str]:
    result = await asyncio.to_thread(run, "clients", *args, DATABASE_URL=database_url)
    return result.returncode, result.stdout, result.stderr


async def create(database_url: str, *args: str) -> Credentials:
    code, out, err = await clients(database_url, "create", *args)
    assert code == 0, err
    client_id = re.search(r"^client_id: (\S+)$", out, re.M)
    secret = re.search(r"^client_secret: (\S+)$", out, re.M)
    assert client_id, out
    assert secret, out
    assert "shown only now" in err
    return Credentials(client_id[1], secret[1])


async def token(api: httpx.AsyncClient, credentials: Credentials) -> httpx.Response:
    form = {"grant_type": "client_credentials"}
    return await api.post(TOKEN_URL, data=form, headers=credentials.basic())


async def test_create_list_and_revoke(
    api: httpx.AsyncClient, db: AsyncEngine, database_url: str
) -> None:
    made = await create(database_url, "reports", "--scope", "read")
    answer = await token(api, made)
    assert (answer.status_code, answer.json()["scope"]) == (200, "read")

    code, listing, _ = await clients(database_url, "list")
    assert code == 0
    line = next(line for line in listing.splitlines() if line.startswith(made.client_id))
    assert line.split("\t")[1:3] == ["reports", "read"]
    assert line.endswith("\t-")
    assert made.secret not in listing

    code, out, _ = await clients(database_url, "revoke", made.client_id)
    assert (code, out.strip()) == (0, f"revoked {made.client_id} (reports)")
    assert (await token(api, made)).status_code == 401
    async with jsonapi_client(api, answer.json()["access_token"]) as client:
        assert (await client.get("/v1/users")).status_code == 401  # its tokens died with it
    code, listing, _ = await clients(database_url, "list")
    assert not listing.splitlines()[1].endswith("\t-")


async def test_scopes_may_be_repeated_or_space_separated(
    api: httpx.AsyncClient, database_url: str
) -> None:
    both = await create(database_url, "ops", "--scope", "read", "--scope", "subscriptions:write")
    assert (await token(api, both)).json()["scope"] == "read subscriptions:write"
    spaced = await create(database_url, "ops2", "--scope", "subscriptions:write read")
    assert (await token(api, spaced)).json()["scope"] == "read subscriptions:write"


async def test_mistakes_say_what_is_wrong(db: AsyncEngine, database_url: str) -> None:
    code, out, err = await clients(database_url, "create", "x", "--scope", "admin")
    assert (code, out) == (2, "")
    assert "unknown scope 'admin'" in err
    code, _, err = await clients(database_url, "revoke", "nobody")
    assert code == 1
    assert "no client 'nobody'" in err
    code, _, err = await clients(database_url, "create", "x")
    assert code == 2
    assert "--scope" in err
