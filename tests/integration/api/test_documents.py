"""JSON:API documents: the schema check itself, media types, an error document for every
failure under /v1, and the rest of the service keeping its own error formats."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from fastapi import APIRouter
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncEngine

from service.api.documents import MEDIA_TYPE
from service.app import create_app
from service.settings import Settings
from tests.integration.api import jsonapi, rows
from tests.integration.api.conftest import jsonapi_client
from tests.integration.conftest import serving

EXAMPLES = jsonapi.SCHEMA_DIR / "tests" / "response"


@pytest.mark.parametrize("path", sorted((EXAMPLES / "valid").rglob("*.json")), ids=str)
def test_the_checker_accepts_the_specifications_valid_examples(path: Path) -> None:
    assert jsonapi.errors_of(json.loads(path.read_text())) == []


@pytest.mark.parametrize("path", sorted((EXAMPLES / "invalid").rglob("*.json")), ids=str)
def test_the_checker_refuses_the_specifications_invalid_examples(path: Path) -> None:
    assert jsonapi.errors_of(json.loads(path.read_text())) != []


async def test_collections_and_resources_are_jsonapi(
    v1: httpx.AsyncClient, db: AsyncEngine
) -> None:
    user_id = await rows.user(db, "228TQ4", user_ref="ref-1")
    collection = await v1.get("/v1/users")  # `v1` checks every answer against the schema
    assert collection.status_code == 200
    assert collection.headers["content-type"] == MEDIA_TYPE
    document = collection.json()
    assert document["jsonapi"] == {"version": "1.0"}
    assert document["meta"] == {"count": 1}
    (resource,) = document["data"]
    assert (resource["type"], resource["id"]) == ("users", str(user_id))
    assert resource["links"]["self"] == f"{v1.base_url}/v1/users/{user_id}"
    single = await v1.get(resource["links"]["self"])
    assert single.status_code == 200
    assert single.json()["data"] == resource


@pytest.mark.parametrize(
    ("method", "path", "status", "code"),
    [
        ("GET", "/v1/users/999999", 404, "ResourceNotFound"),
        ("GET", "/v1/users/not-a-number", 404, "ResourceNotFound"),
        ("GET", "/v1/no-such-type", 404, "ResourceNotFound"),
        ("GET", "/v1", 404, "ResourceNotFound"),
        ("POST", "/v1/users", 405, "MethodNotAllowed"),
        ("DELETE", "/v1/notifications/1", 405, "MethodNotAllowed"),
        ("GET", "/v1/users/1?sort=id", 400, "InvalidParameter"),
    ],
)
async def test_every_failure_is_an_error_document(
    v1: httpx.AsyncClient, method: str, path: str, status: int, code: str
) -> None:
    answer = await v1.request(method, path)
    assert answer.status_code == status
    (error,) = answer.json()["errors"]
    assert (error["status"], error["code"]) == (str(status), code)
    assert error["title"]
    assert error["detail"]


async def test_media_type_parameters_are_refused_as_jsonapi_requires(
    v1: httpx.AsyncClient,
) -> None:
    not_acceptable = await v1.get("/v1/users", headers={"Accept": f"{MEDIA_TYPE}; ext=bulk"})
    assert not_acceptable.status_code == 406
    unsupported = await v1.get("/v1/users", headers={"Content-Type": f"{MEDIA_TYPE}; v=1"})
    assert unsupported.status_code == 415
    weighted = await v1.get("/v1/users", headers={"Accept": f"{MEDIA_TYPE};q=0.9, */*"})
    assert weighted.status_code == 200


async def test_other_routes_keep_their_own_errors(api: httpx.AsyncClient) -> None:
    unknown = await api.get("/nothing-here")
    assert (unknown.status_code, unknown.json()) == (404, {"detail": "Not Found"})
    webhook = await api.post(
        "/fitbit/webhook", content=b"x", headers={"content-type": "text/plain"}
    )
    assert webhook.status_code == 415
    assert webhook.headers["content-type"] == "application/json"
    assert "errors" not in webhook.json()


class Attributes(BaseModel):
    name: str


class Data(BaseModel):
    attributes: Attributes


class Body(BaseModel):
    data: Data


def later_routes() -> APIRouter:
    """Routes as later issues will add them under /v1: typed parameters and bodies."""
    router = APIRouter(prefix="/v1/later")

    @router.get("/typed")
    async def typed(n: int) -> dict[str, int]:
        return {"n": n}

    @router.post("/typed")
    async def create(body: Body) -> dict[str, str]:
        return {"name": body.data.attributes.name}

    @router.get("/broken")
    async def broken() -> None:
        raise RuntimeError("a bug, not the client's mistake")

    return router


async def test_framework_failures_on_v1_are_error_documents(
    settings: Settings, db: AsyncEngine, redis: object
) -> None:
    app = create_app(settings)
    app.include_router(later_routes())
    async with serving(app) as url, jsonapi_client(url, None) as client:
        query = await client.get("/v1/later/typed", params={"n": "x"})
        assert query.status_code == 400
        assert query.json()["errors"][0]["source"] == {"parameter": "n"}
        body = await client.post("/v1/later/typed", json={"data": {"attributes": {}}})
        assert body.status_code == 422
        assert body.json()["errors"][0]["source"] == {"pointer": "/data/attributes/name"}
        failed = await client.get("/v1/later/broken")
        assert failed.status_code == 500
        assert failed.json()["errors"][0]["code"] == "InternalError"
        assert "bug" not in failed.text
