"""Every mistake a client can make on the write routes is a 4xx JSON:API error naming it."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine

from service.api import scopes
from service.api.documents import MEDIA_TYPE
from service.store.models import UserStatus
from tests.integration.api import rows
from tests.integration.api.conftest import NewClient, get_token, jsonapi_client
from tests.integration.api.writing import connection, error, send


def _with(**attributes: Any) -> dict[str, Any]:
    return {"data": {"type": "connections", "attributes": attributes}}


BAD_CONNECTIONS: list[tuple[Any, int, str]] = [
    ({}, 422, "/data"),
    ({"data": []}, 422, "/data"),
    ({"data": {"type": "connections"}}, 422, "/data/attributes"),
    ({"data": {"attributes": {"user_ref": "a"}}}, 422, "/data/type"),
    (_with(), 422, "/data/attributes/user_ref"),
    (_with(user_ref=""), 422, "/data/attributes/user_ref"),
    (_with(user_ref="   "), 422, "/data/attributes/user_ref"),
    (_with(user_ref=42), 422, "/data/attributes/user_ref"),
    (_with(user_ref="x" * 256), 422, "/data/attributes/user_ref"),
    (_with(user_ref="a", scopes=["activity", "steps"]), 422, "/data/attributes/scopes/1"),
    (_with(user_ref="a", scopes=[]), 422, "/data/attributes/scopes"),
    (_with(user_ref="a", scopes="activity"), 422, "/data/attributes/scopes"),
    (_with(user_ref="a", colour="red"), 422, "/data/attributes/colour"),
    ({"data": {"type": "users", "attributes": {"user_ref": "a"}}}, 409, "/data/type"),
    ({"data": {"type": "connections", "id": "1", **_with(user_ref="a")["data"]}}, 403, "/data/id"),
]


async def test_bad_connection_documents(v1: httpx.AsyncClient) -> None:
    for document, status, pointer in BAD_CONNECTIONS:
        answer = await send(v1, "POST", "/v1/connections", document)
        assert answer.status_code == status, (document, answer.text)
        problems = answer.json()["errors"]
        assert {p["status"] for p in problems} == {str(status)}
        pointers = [p.get("source", {}).get("pointer") for p in problems]
        assert pointer in pointers, (document, problems)


NOT_DOCUMENTS: list[tuple[bytes, str | None, int]] = [
    (b'{"data": ', MEDIA_TYPE, 400),
    (b'{"data": {"type": "connections", "attributes": {"user_ref": "a"}}}', None, 415),
    (b'{"data": {"type": "connections"}}', "application/json", 415),
    (b"user_ref=a", "application/x-www-form-urlencoded", 415),
    (b"", MEDIA_TYPE, 422),
]


async def test_bodies_that_are_not_json_api_documents(v1: httpx.AsyncClient) -> None:
    for body, content_type, status in NOT_DOCUMENTS:
        headers = {"Content-Type": content_type} if content_type else {}
        answer = await v1.post("/v1/connections", content=body, headers=headers)
        assert answer.status_code == status, (body, content_type, answer.text)


async def test_a_good_connection_needs_the_write_scope(
    api: httpx.AsyncClient, anonymous: httpx.AsyncClient, new_client: NewClient
) -> None:
    document = connection("ref-1", ["activity", "activity", "sleep"])
    assert (await send(anonymous, "POST", "/v1/connections", document)).status_code == 401
    reader = await get_token(api, await new_client(scopes.READ))
    async with jsonapi_client(api, reader) as client:
        refused = await send(client, "POST", "/v1/connections", document)
        assert refused.status_code == 403
        assert "subscriptions:write" in refused.headers["WWW-Authenticate"]
        assert (await client.delete("/v1/users/1")).status_code == 403
    writer = await get_token(api, await new_client(scopes.SUBSCRIPTIONS_WRITE))
    async with jsonapi_client(api, writer) as client:
        created = await send(client, "POST", "/v1/connections", document)
    assert created.status_code == 201, created.text
    assert created.json()["data"]["attributes"]["scopes"] == ["activity", "sleep"]


USER_ROUTES = [
    ("GET", "/v1/users/{id}/subscriptions"),
    ("POST", "/v1/users/{id}/subscriptions"),
    ("PUT", "/v1/users/{id}/subscriptions/sleep"),
    ("POST", "/v1/users/{id}/subscriptions/sleep"),
    ("DELETE", "/v1/users/{id}/subscriptions/sleep"),
    ("DELETE", "/v1/users/{id}"),
]


async def test_unknown_users_and_collections_are_404(
    v1: httpx.AsyncClient, db: AsyncEngine
) -> None:
    for method, path in USER_ROUTES:
        for user in ("999", "x", "-1"):
            answer = await v1.request(method, path.format(id=user))
            assert answer.status_code == 404, (method, path, user, answer.text)
            assert error(answer)["code"] == "ResourceNotFound"
    user_id = await rows.user(db, "COLL01")
    for method in ("PUT", "POST", "DELETE"):
        answer = await v1.request(method, f"/v1/users/{user_id}/subscriptions/heartrate")
        assert answer.status_code == 404, method
        assert "activities, body, foods, sleep" in error(answer)["detail"]


BAD_SUBSCRIPTIONS: list[tuple[Any, int, str | None]] = [
    ({"data": {"type": "subscriptions", "attributes": {"collection": "heart"}}}, 422, None),
    ({"data": {"type": "subscriptions", "attributes": {"collection": 1}}}, 422, None),
    ({"data": {"type": "subscriptions", "attributes": {"id": "x"}}}, 422, None),
    ({"data": {"type": "connections"}}, 409, "/data/type"),
    ({"data": {"type": "subscriptions", "id": "7"}}, 403, "/data/id"),
]


async def test_bad_subscription_documents(v1: httpx.AsyncClient, db: AsyncEngine) -> None:
    user = await rows.user(db, "BODY01")
    for document, status, pointer in BAD_SUBSCRIPTIONS:
        answer = await send(v1, "POST", f"/v1/users/{user}/subscriptions", document)
        assert answer.status_code == status, (document, answer.text)
        source = error(answer)["source"]["pointer"]
        if pointer is None:  # a member of the attributes
            assert source.startswith("/data/attributes/"), source
        else:
            assert source == pointer


async def test_users_without_a_live_connection_are_409(
    v1: httpx.AsyncClient, db: AsyncEngine
) -> None:
    cases = {
        UserStatus.DISCONNECTED: "UserDisconnected",
        UserStatus.REAUTH_REQUIRED: "UserReauthRequired",
    }
    for status, code in cases.items():
        user = await rows.user(db, f"GONE-{status.value}", status=status)
        for method in ("PUT", "DELETE"):
            answer = await v1.request(method, f"/v1/users/{user}/subscriptions/sleep")
            assert answer.status_code == 409, answer.text
            assert error(answer)["code"] == code
            assert status.value in error(answer)["detail"]
        every = await send(v1, "POST", f"/v1/users/{user}/subscriptions")
        assert (every.status_code, error(every)["code"]) == (409, code)
        listed = await v1.get(f"/v1/users/{user}/subscriptions")
        assert (listed.status_code, listed.json()["meta"]["count"]) == (200, 0)


async def test_the_subscription_list_takes_the_collection_parameters(
    v1: httpx.AsyncClient, db: AsyncEngine
) -> None:
    user = await rows.user(db, "LIST01")
    other = await rows.user(db, "LIST02")
    await rows.subscriptions(db, "LIST01", ["activities", "sleep"])
    await rows.subscriptions(db, "LIST02", ["sleep"])
    path = f"/v1/users/{user}/subscriptions"
    answer = await v1.get(path, params={"sort": "-collection", "page[size]": 1})
    document = answer.json()
    assert [d["attributes"]["collection"] for d in document["data"]] == ["sleep"]
    assert document["meta"]["count"] == 2
    assert document["links"]["next"].startswith(f"{v1.base_url}{path}?")
    mixed = await v1.get(path, params={"filter[user]": str(other)})
    assert mixed.json()["meta"]["count"] == 0  # both filters apply
    wrong = await v1.get(path, params={"filter[colour]": "red"})
    assert wrong.status_code == 400
    assert error(wrong)["source"] == {"parameter": "filter[colour]"}
