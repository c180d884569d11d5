"""Helpers of the write-route tests: JSON:API request documents, and a person consenting."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

from service.api.documents import MEDIA_TYPE
from tests.integration.conftest import REDIRECT_URI


async def send(
    client: httpx.AsyncClient, method: str, url: str, document: Any = None
) -> httpx.Response:
    """`document` as a JSON:API request body (none when None)."""
    if document is None:
        return await client.request(method, url)
    body = json.dumps(document).encode()
    return await client.request(method, url, content=body, headers={"Content-Type": MEDIA_TYPE})


def connection(user_ref: str, scopes: list[str] | None = None) -> dict[str, Any]:
    attributes: dict[str, Any] = {"user_ref": user_ref}
    if scopes is not None:
        attributes["scopes"] = scopes
    return {"data": {"type": "connections", "attributes": attributes}}


async def connect(
    client: httpx.AsyncClient, user_ref: str, fitbit_user: str, scopes: list[str] | None = None
) -> httpx.Response:
    """`POST /v1/connections`, the person consents at the emulator as `fitbit_user`, and the
    browser brings them back to our callback: its answer."""
    created = await send(client, "POST", "/v1/connections", connection(user_ref, scopes))
    assert created.status_code == 201, created.text
    url = created.json()["data"]["attributes"]["authorization_url"]
    async with httpx.AsyncClient() as browser:
        consent = await browser.get(f"{url}&user_id={fitbit_user}")
    assert consent.status_code == 302, consent.text
    location = consent.headers["location"].removesuffix("#_=_")
    assert location.startswith(REDIRECT_URI)
    query = {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}
    return await client.get("/fitbit/callback", params=query)


def error(response: httpx.Response) -> dict[str, Any]:
    """The one error object of an error document."""
    (only,) = response.json()["errors"]
    assert only["status"] == str(response.status_code)
    assert isinstance(only, dict)
    return only
