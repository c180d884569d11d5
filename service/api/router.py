"""The `/v1` router, built from the declared resources, and its installation into an app."""

from __future__ import annotations

from fastapi import APIRouter, Depends, FastAPI, Request

from service.api import backfills, connections, errors, guide, oauth, routes, subscribing
from service.api.documents import MEDIA_TYPE, JsonApiResponse
from service.api.resources import RESOURCES


async def negotiate(request: Request) -> None:
    """JSON:API 1.0 content negotiation: 415 and 406 for the media type with parameters."""
    content_type = request.headers.get("content-type", "")
    if content_type.split(";")[0].strip() == MEDIA_TYPE and ";" in content_type:
        raise errors.ApiError(415, f"{MEDIA_TYPE} must be sent without media type parameters")
    ranges = [part.split(";") for part in request.headers.get("accept", "").split(",")]
    jsonapi = [
        [p for p in rest if not p.strip().startswith("q=")]  # a weight is not a parameter
        for media, *rest in ranges
        if media.strip() == MEDIA_TYPE
    ]
    if jsonapi and all(jsonapi):
        raise errors.ApiError(406, f"accept {MEDIA_TYPE} without media type parameters")


def build_router() -> APIRouter:
    router = APIRouter(
        prefix=errors.V1, dependencies=[Depends(negotiate)], default_response_class=JsonApiResponse
    )
    for resource in RESOURCES:
        routes.add_routes(router, resource)
    router.include_router(connections.router)
    router.include_router(subscribing.router)
    router.include_router(backfills.router)
    return router


def install(app: FastAPI) -> None:
    """Serve `/oauth/token` and `/v1`, with their error formats and their guide, on `app`."""
    app.include_router(oauth.router)
    app.include_router(build_router())
    errors.install(app)
    app.description = app.description or guide.OVERVIEW
    app.openapi_tags = [*(app.openapi_tags or []), *guide.tags(RESOURCES)]
