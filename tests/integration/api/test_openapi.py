"""`/openapi.json` describes the API well enough to use it: security, parameters, documents."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from service.api.documents import MEDIA_TYPE
from service.api.resources import RESOURCES


@pytest.fixture
async def spec(api: httpx.AsyncClient) -> dict[str, Any]:
    answer = await api.get("/openapi.json")
    assert answer.status_code == 200
    document: dict[str, Any] = answer.json()
    return document


def test_the_security_scheme_is_oauth2_client_credentials(spec: dict[str, Any]) -> None:
    scheme = spec["components"]["securitySchemes"]["OAuth2"]
    flow = scheme["flows"]["clientCredentials"]
    assert (scheme["type"], flow["tokenUrl"], flow["refreshUrl"]) == (
        "oauth2",
        "/oauth/token",
        "/oauth/token",
    )
    assert set(flow["scopes"]) == {"read", "subscriptions:write"}


def test_every_v1_operation_names_its_scope_and_media_type(spec: dict[str, Any]) -> None:
    operations = [
        (path, operation)
        for path, item in spec["paths"].items()
        if path.startswith("/v1/")
        for method, operation in item.items()
        if method == "get"
    ]
    assert len(operations) == 2 * len(RESOURCES) + 1  # and /v1/users/{id}/subscriptions
    for path, operation in operations:
        assert operation["security"] == [{"OAuth2": ["read"]}], path
        assert MEDIA_TYPE in operation["responses"]["200"]["content"], path
        assert {"400", "401", "403"} <= set(operation["responses"]), path


def test_write_operations_name_their_scope_body_and_errors(spec: dict[str, Any]) -> None:
    paths = spec["paths"]
    writes = {
        ("post", "/v1/connections"): "201",
        ("delete", "/v1/users/{id}"): "204",
        ("post", "/v1/users/{id}/subscriptions"): "201",
        ("put", "/v1/users/{id}/subscriptions/{collection}"): "201",
        ("post", "/v1/users/{id}/subscriptions/{collection}"): "201",
        ("delete", "/v1/users/{id}/subscriptions/{collection}"): "204",
        ("post", "/v1/users/{id}/backfills"): "202",
    }
    for (method, path), success in writes.items():
        operation = paths[path][method]
        assert operation["security"] == [{"OAuth2": ["subscriptions:write"]}], path
        assert {success, "401", "403", "404" if "{id}" in path else "422"} <= set(
            operation["responses"]
        ), path
    bodies = {
        "/v1/connections": "ConnectionRequest",
        "/v1/users/{id}/subscriptions": "SubscriptionRequest",
        "/v1/users/{id}/backfills": "BackfillRequest",
    }
    for path, model in bodies.items():
        body = paths[path]["post"]["requestBody"]["content"][MEDIA_TYPE]["schema"]
        assert model in str(body), path
        assert {"409", "415", "422"} <= set(paths[path]["post"]["responses"]), path
    created = paths["/v1/connections"]["post"]["responses"]["201"]["content"][MEDIA_TYPE]
    assert created["schema"]["$ref"].endswith("/ConnectionDocument")
    attributes = spec["components"]["schemas"]["ConnectionAttributes"]["properties"]
    assert {"user_ref", "scopes", "provider"} == set(attributes)
    backfill = spec["components"]["schemas"]["BackfillAttributes"]
    assert ({"from", "to"}, {"from", "to", "collections"}) == (
        set(backfill["required"]),
        set(backfill["properties"]),
    )
    assert {"409", "502", "503"} <= set(paths["/v1/users/{id}/subscriptions"]["post"]["responses"])


def test_collections_document_paging_sorting_and_filters(spec: dict[str, Any]) -> None:
    operation = spec["paths"]["/v1/notifications"]["get"]
    names = {parameter["name"] for parameter in operation["parameters"]}
    assert {"sort", "page[size]", "page[number]", "page[limit]", "page[after]"} <= names
    assert {
        "filter[user]",
        "filter[collection]",
        "filter[date][gte]",
        "filter[date][lte]",
        "filter[received_at][lt]",
    } <= names
    schema_name = operation["responses"]["200"]["content"][MEDIA_TYPE]["schema"]["$ref"]
    collection = spec["components"]["schemas"][schema_name.rsplit("/", 1)[1]]
    assert {"data", "links", "meta"} <= set(collection["properties"])
    attributes = spec["components"]["schemas"]["NotificationsAttributes"]["properties"]
    assert {"owner_id", "collection", "received_at", "raw"} <= set(attributes)


def test_no_token_column_is_described(spec: dict[str, Any]) -> None:
    users = spec["components"]["schemas"]["UsersAttributes"]["properties"]
    assert not [name for name in users if "token" in name]


def test_the_token_endpoint_documents_its_form(spec: dict[str, Any]) -> None:
    operation = spec["paths"]["/oauth/token"]["post"]
    form = operation["requestBody"]["content"]["application/x-www-form-urlencoded"]["schema"]
    assert form["properties"]["grant_type"]["enum"] == ["client_credentials", "refresh_token"]
    assert {"200", "400", "401"} <= set(operation["responses"])


def test_the_guide_explains_authentication_and_paging(spec: dict[str, Any]) -> None:
    guide = spec["info"]["description"]
    for words in (
        "/oauth/token",
        "clients create",
        "page[limit]",
        "meta.count",
        "filter[",
        "POST /v1/connections",
        "source.pointer",
    ):
        assert words in guide
    tags = {tag["name"]: tag["description"] for tag in spec["tags"]}
    assert {"oauth", "users", "notifications", "sync-requests", "subscriptions"} <= set(tags)
    assert {"account-events", "connections"} <= set(tags)
