"""Every mistake a client can make on the write routes is a 4xx JSON:API error naming it."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from service.api import scopes
from service.api.documents import MEDIA_TYPE
from service.store.models import Backfill, UserStatus
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
    (_with(user_ref="a", provider="google_health"), 409, "/data/attributes/provider"),
    (_with(user_ref="a", provider="nope"), 409, "/data/attributes/provider"),
    ({"data": {"type": "users", "attributes": {"user_ref": "a"}}}, 409, "/data/type"),
    ({"data": {"type": "connections", "id": "1", **_with(user_ref="a")["data"]}}, 403, "/data/id"),
]


async def _refused(v1: httpx.AsyncClient, path: str, cases: list[tuple[Any, int, str]]) -> None:
    """Each document POSTed to `path` gets its status, and an error names its member."""
    for document, status, pointer in cases:
        answer = await send(v1, "POST", path, document)
        assert answer.status_code == status, (document, answer.text)
        problems = answer.json()["errors"]
        assert {p["status"] for p in problems} == {str(status)}
        pointers = [p.get("source", {}).get("pointer") for p in problems]
        assert pointer in pointers, (document, problems)


async def test_bad_connection_documents(v1: httpx.AsyncClient) -> None:
    await _refused(v1, "/v1/connections", BAD_CONNECTIONS)


NOT_DOCUMENTS: list[tuple[bytes, str | None, int]] = [
    (b'{"data": ', MEDIA_TYPE, 400),
    (b'{"data": {"type": "connections", "attributes": {"user_ref": "a"}}}', None, 415),
    (b'{"data": {"type": "connections"}}', "application/json", 415),
    (b"user_ref=a", "application/x-www-form-urlencoded", 415),
    (b"", MEDIA_TYPE, 422),
]


async def test_bodies_that_are_not_json_api_documents(
    v1: httpx.AsyncClient, db: AsyncEngine
) -> None:
    user = await rows.user(db, "DOCS01")
    for path in ("/v1/connections", f"/v1/users/{user}/backfills"):
        for body, content_type, status in NOT_DOCUMENTS:
            headers = {"Content-Type": content_type} if content_type else {}
            answer = await v1.post(path, content=body, headers=headers)
            assert answer.status_code == status, (path, body, content_type, answer.text)


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


def _backfill(**attributes: Any) -> dict[str, Any]:
    return {"data": {"type": "backfills", "attributes": attributes}}


A_BACKFILL = _backfill(**{"from": "2026-01-01", "to": "2026-01-02"})

# Each route with a document it takes, so that only the user can be wrong.
USER_ROUTES: list[tuple[str, str, Any]] = [
    ("GET", "/v1/users/{id}/subscriptions", None),
    ("POST", "/v1/users/{id}/subscriptions", None),
    ("PUT", "/v1/users/{id}/subscriptions/sleep", None),
    ("POST", "/v1/users/{id}/subscriptions/sleep", None),
    ("DELETE", "/v1/users/{id}/subscriptions/sleep", None),
    ("DELETE", "/v1/users/{id}", None),
    ("POST", "/v1/users/{id}/backfills", A_BACKFILL),
]
# "²" is a digit to str.isdigit but not to int; the long one is beyond a BIGINT.
NOT_USERS = ("999", "x", "-1", "\u00b2", "\u0661", "9" * 20)


async def test_unknown_users_and_collections_are_404(
    v1: httpx.AsyncClient, db: AsyncEngine
) -> None:
    for method, path, document in USER_ROUTES:
        for user in NOT_USERS:
            answer = await send(v1, method, path.format(id=user), document)
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


async def test_users_of_a_provider_not_enabled_here_are_409(
    v1: httpx.AsyncClient, db: AsyncEngine
) -> None:
    """The service here serves Fitbit only; a person connected through Google Health (before
    the deployment changed) is the deployment's refusal, not a provider's failure (502)."""
    user = await rows.user(db, "GOOGLE01", provider="google_health")
    for method, path in [
        ("PUT", f"/v1/users/{user}/subscriptions/sleep"),
        ("DELETE", f"/v1/users/{user}/subscriptions/sleep"),
        ("POST", f"/v1/users/{user}/subscriptions"),
    ]:
        answer = await send(v1, method, path)
        assert answer.status_code == 409, (method, path, answer.text)
        assert error(answer)["code"] == "provider_not_enabled"
        assert "'google_health'" in error(answer)["detail"]
    assert (await v1.delete(f"/v1/users/{user}")).status_code == 204


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


BAD_BACKFILLS: list[tuple[Any, int, str]] = [
    ([], 422, ""),
    ("2026-01-01", 422, ""),
    ({}, 422, "/data"),
    ({"data": []}, 422, "/data"),
    ({"data": "backfills"}, 422, "/data"),
    ({"data": {"type": "backfills"}}, 422, "/data/attributes"),
    ({"data": {"type": "backfills", "attributes": []}}, 422, "/data/attributes"),
    (_backfill(to="2026-01-02"), 422, "/data/attributes/from"),
    (_backfill(**{"from": 1767225600, "to": "2026-01-02"}), 422, "/data/attributes/from"),
    (_backfill(**{"from": "20260101", "to": "2026-01-02"}), 422, "/data/attributes/from"),
    (_backfill(**{"from": "2026-13-01", "to": "2026-01-02"}), 422, "/data/attributes/from"),
    (_backfill(**{"from": "2026-01-02", "to": "2026-01-01"}), 422, "/data/attributes/from"),
    (_backfill(**{"from": "2024-01-01", "to": "2026-01-02"}), 422, "/data/attributes/to"),
    (_backfill(**{"from": "2998-12-31", "to": "2999-01-01"}), 422, "/data/attributes/to"),
    (
        _backfill(**{**A_BACKFILL["data"]["attributes"], "collections": "sleep"}),
        422,
        "/data/attributes/collections",
    ),
    (
        _backfill(**{**A_BACKFILL["data"]["attributes"], "collections": []}),
        422,
        "/data/attributes/collections",
    ),
    (
        _backfill(**{**A_BACKFILL["data"]["attributes"], "collections": [1]}),
        422,
        "/data/attributes/collections/0",
    ),
    (
        _backfill(**{**A_BACKFILL["data"]["attributes"], "collections": ["x"]}),
        422,
        "/data/attributes/collections",
    ),
    (
        _backfill(**{**A_BACKFILL["data"]["attributes"], "colour": "red"}),
        422,
        "/data/attributes/colour",
    ),
    ({"data": {**A_BACKFILL["data"], "type": "users"}}, 409, "/data/type"),
    ({"data": {**A_BACKFILL["data"], "id": "1"}}, 403, "/data/id"),
]


async def test_bad_backfill_documents(v1: httpx.AsyncClient, db: AsyncEngine) -> None:
    user = await rows.user(db, "BACKDOC1")
    await _refused(v1, f"/v1/users/{user}/backfills", BAD_BACKFILLS)
    async with db.connect() as conn:
        assert await conn.scalar(select(func.count()).select_from(Backfill)) == 0


async def test_a_backfill_is_of_our_user_id_never_a_provider_id(
    v1: httpx.AsyncClient, db: AsyncEngine
) -> None:
    """`/v1/users/{id}` names our user: a Fitbit user id that looks like one is not it."""
    await rows.user(db, "987654321")
    answer = await send(v1, "POST", "/v1/users/987654321/backfills", A_BACKFILL)
    assert answer.status_code == 404, answer.text
    user = await rows.user(db, "BACKDOC2")
    answer = await send(v1, "POST", f"/v1/users/{user}/backfills", A_BACKFILL)
    assert answer.status_code == 202, answer.text
    assert answer.json()["data"]["attributes"]["owner_id"] == "BACKDOC2"
