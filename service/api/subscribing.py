"""A person's Fitbit subscriptions under `/v1/users/{id}/subscriptions`: list, add, remove.

Adding and removing act at Fitbit first and are idempotent: adding what Fitbit already has
(its 200) is a success, and so is removing what it does not have. Answers are `subscriptions`
resources, as `GET /v1/subscriptions` shows them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Request, Response
from sqlalchemy import RowMapping, select
from sqlalchemy.ext.asyncio import AsyncEngine

from service.api import bodies, documents, errors, failures, params, schemas, scopes
from service.api.connections import user_id
from service.api.documents import MEDIA_TYPE, JsonApiResponse
from service.api.resources import subscriptions
from service.api.routes import Links, ReadConnection, collection_response, resource_object
from service.api.security import require_scope
from service.connect import management
from service.providers import registry
from service.state import ConnectorDep, EngineDep, SettingsDep
from service.store.models import ProviderAccount, Subscription, User

RESOURCE = subscriptions.RESOURCE
PATH = "/users/{id}/subscriptions"
CREATED = "created"

router = APIRouter(tags=["subscriptions"])
_write = [require_scope(scopes.SUBSCRIPTIONS_WRITE), Depends(bodies.json_api_content)]
_many, _one = schemas.document_models(RESOURCE)
_written: dict[int | str, dict[str, Any]] = {
    200: {"model": _one, "description": "Fitbit already had it"},
    201: {"model": _one, "description": "Subscribed now"},
    **failures.responses(404, 409, 502, 503),
}

SubscriptionBody = Annotated[bodies.SubscriptionRequest | None, Body(media_type=MEDIA_TYPE)]


@router.get(
    PATH,
    summary="List a person's subscriptions",
    operation_id="list_user_subscriptions",
    dependencies=[require_scope(scopes.READ)],
    response_class=JsonApiResponse,
    response_model=None,
    responses={200: {"model": _many}, **failures.responses(404)},
    openapi_extra={"parameters": schemas.collection_parameters(RESOURCE)},
)
async def list_user_subscriptions(
    id: str, request: Request, conn: ReadConnection, settings: SettingsDep
) -> JsonApiResponse:
    """`GET /v1/subscriptions?filter[user]={id}`, and a 404 for an unknown user."""
    user = user_id(id)
    if await conn.scalar(select(User.id).where(User.id == user)) is None:
        raise errors.not_found("users", id)
    fixed = (params.Condition("user", "in", (user,)),)
    return await collection_response(request, conn, settings, RESOURCE, fixed)


@router.post(
    PATH,
    summary="Subscribe a collection, or every granted one",
    operation_id="create_user_subscriptions",
    dependencies=_write,
    response_class=JsonApiResponse,
    response_model=None,
    responses={
        **_written,
        200: {"model": _one | _many, "description": "Fitbit already had them"},
        201: {"model": _one | _many, "description": "Subscribed now"},
        **failures.responses(404, 409, 415, 422, 502, 503),
    },
)
async def create_user_subscriptions(
    id: str,
    request: Request,
    connector: ConnectorDep,
    engine: EngineDep,
    document: SubscriptionBody = None,
) -> JsonApiResponse:
    """With `attributes.collection`, that collection (one resource back). Without a body or
    a collection, every collection whose scope the person granted (all of theirs back); a
    409 then lists the collections Fitbit refused, the others being subscribed."""
    user = user_id(id)
    data = bodies.checked(document.data, "subscriptions") if document else None
    if data and data.attributes.collection:
        return await _subscribe(request, connector, engine, user, data.attributes.collection)
    with failures.answered():
        outcomes = await management.subscribe_granted(connector, user)
    refused = [c for c, outcome in outcomes.items() if outcome == management.CONFLICT]
    if refused:
        detail = (
            f"Fitbit refused to subscribe {', '.join(refused)}: another subscription covers "
            "them there; the other collections are subscribed"
        )
        raise errors.ApiError(409, detail, code="SubscriptionConflict")
    rows = await _rows(engine, user, list(outcomes))
    links = Links.of(request)
    body = documents.collection([resource_object(RESOURCE, r, links) for r in rows], {}, len(rows))
    body["meta"]["outcomes"] = outcomes
    status = 201 if CREATED in outcomes.values() else 200
    return JsonApiResponse(body, status_code=status)


async def put_subscription(
    id: str, collection: str, request: Request, connector: ConnectorDep, engine: EngineDep
) -> JsonApiResponse:
    """Subscribe this collection at Fitbit (201), or confirm it already is (200)."""
    return await _subscribe(request, connector, engine, user_id(id), _collection(collection))


for _method in ("PUT", "POST"):
    router.add_api_route(
        f"{PATH}/{{collection}}",
        put_subscription,
        methods=[_method],
        summary="Subscribe one collection",
        operation_id=f"{_method.lower()}_user_subscription",
        dependencies=_write,
        response_class=JsonApiResponse,
        response_model=None,
        responses=_written,
    )


@router.delete(
    f"{PATH}/{{collection}}",
    status_code=204,
    summary="Unsubscribe one collection",
    operation_id="delete_user_subscription",
    dependencies=_write,
    # The answer is empty, but failures are JSON:API documents, and documented so.
    response_class=JsonApiResponse,
    responses={
        204: {"description": "Not subscribed (any more)"},
        **failures.responses(404, 409, 502, 503),
    },
)
async def delete_user_subscription(id: str, collection: str, connector: ConnectorDep) -> Response:
    """Remove the subscription at Fitbit and here; a 204 too when there was none."""
    user, wanted = user_id(id), _collection(collection)
    with failures.answered():
        await management.unsubscribe(connector, user, wanted)
    return Response(status_code=204)


async def _subscribe(
    request: Request, connector: ConnectorDep, engine: AsyncEngine, user: int, collection: str
) -> JsonApiResponse:
    with failures.answered():
        outcome = await management.subscribe(connector, user, collection)
    (row,) = await _rows(engine, user, [collection])
    data = resource_object(RESOURCE, row, Links.of(request))
    status = 201 if outcome == CREATED else 200
    return JsonApiResponse(documents.single(data, data["links"]["self"]), status_code=status)


async def _rows(engine: AsyncEngine, user: int, collections: list[str]) -> Sequence[RowMapping]:
    statement = (
        RESOURCE.select()
        .where(ProviderAccount.user_id == user, Subscription.collection.in_(collections))
        .order_by(Subscription.id)
    )
    async with engine.connect() as conn:
        rows: Sequence[RowMapping] = (await conn.execute(statement)).mappings().all()
    return rows


def _collection(text: str) -> str:
    collections = registry.collections()
    if text not in collections:
        known = ", ".join(collections)
        raise errors.ApiError(404, f"there is no collection {text!r}; collections: {known}")
    return text
