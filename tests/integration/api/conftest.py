"""The internal API over real HTTP: API clients, tokens, and a client that checks every `/v1`
answer against the JSON:API schema."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from service.api import clients, scopes
from service.api.documents import MEDIA_TYPE
from tests.integration.api import jsonapi

TOKEN_URL = "/oauth/token"


@dataclass(frozen=True)
class Credentials:
    client_id: str
    secret: str

    def basic(self) -> dict[str, str]:
        pair = f"{self.client_id}:{self.secret}".encode()
        return {"Authorization": "Basic " + base64.b64encode(pair).decode()}


NewClient = Callable[..., Awaitable[Credentials]]


@pytest.fixture
def new_client(db: AsyncEngine) -> NewClient:
    """Create an API client as the `clients create` command does; returns its credentials."""

    async def create(*granted: str, name: str = "downstream") -> Credentials:
        async with db.begin() as conn:
            made = await clients.create(conn, name, frozenset(granted or [scopes.READ]))
        return Credentials(made.record.client_id, made.secret)

    return create


@pytest.fixture
async def credentials(new_client: NewClient) -> Credentials:
    return await new_client(scopes.READ, scopes.SUBSCRIPTIONS_WRITE)


async def get_token(api: httpx.AsyncClient, credentials: Credentials, **form: str) -> str:
    data = {"grant_type": "client_credentials", **form}
    response = await api.post(TOKEN_URL, data=data, headers=credentials.basic())
    assert response.status_code == 200, response.text
    token = response.json()["access_token"]
    assert isinstance(token, str)
    return token


async def check_jsonapi(response: httpx.Response) -> None:
    """Every `/v1` answer, success or error, is a valid JSON:API document of its media type."""
    if not response.request.url.path.startswith("/v1"):
        return
    await response.aread()
    if response.status_code == 204:  # No Content: no document to check
        assert response.content == b"", response.text
        return
    assert response.headers["content-type"] == MEDIA_TYPE, response.text
    problems = jsonapi.errors_of(response.json())
    assert problems == [], f"{response.request.url}: {problems}"


def jsonapi_client(api: httpx.AsyncClient | str, token: str | None) -> httpx.AsyncClient:
    """A client of the service at `api` (a client of it, or its URL) that checks answers."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    base_url = api.base_url if isinstance(api, httpx.AsyncClient) else api
    return httpx.AsyncClient(
        base_url=base_url, headers=headers, event_hooks={"response": [check_jsonapi]}
    )


@pytest.fixture
async def anonymous(api: httpx.AsyncClient) -> AsyncIterator[httpx.AsyncClient]:
    """No token; still schema-checked."""
    async with jsonapi_client(api, None) as client:
        yield client


@pytest.fixture
async def v1(api: httpx.AsyncClient, credentials: Credentials) -> AsyncIterator[httpx.AsyncClient]:
    """A client holding a token with every scope."""
    async with jsonapi_client(api, await get_token(api, credentials)) as client:
        yield client
