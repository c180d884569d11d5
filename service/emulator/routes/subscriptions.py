"""Fitbit's subscription endpoints: `POST|DELETE /1/user/-/[{collection}/]apiSubscriptions/
{id}.json` and `GET /1/user/-/[{collection}/]apiSubscriptions.json`. Creating or deleting a
collection's subscription needs that collection's scope; every call counts against the
user's rate limit."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from service.emulator.deps import Caller, EmulatorDep, authorize
from service.emulator.errors import FitbitError, validation
from service.emulator.subscriptions import COLLECTIONS, MAX_ID_LENGTH, Subscription
from service.emulator.world import COLLECTION_SCOPES, Emulator

router = APIRouter(tags=["Fitbit subscriptions"])

ALL = "/1/user/{user_id}/apiSubscriptions"
ONE = "/1/user/{user_id}/{collection}/apiSubscriptions"


async def _caller(request: Request, world: Emulator) -> tuple[Caller, str | None]:
    # The collection comes from the path only (never a query parameter of the same name).
    collection = request.path_params.get("collection")
    caller = await authorize(request, world, COLLECTION_SCOPES.get(collection or ""))
    if collection is not None and collection not in COLLECTIONS:
        raise FitbitError(404, "not_found", f"Unknown collection: {collection}.")
    return caller, collection


@router.post(ALL + "/{subscription_id}.json")
@router.post(ONE + "/{subscription_id}.json")
async def create(request: Request, world: EmulatorDep, subscription_id: str) -> JSONResponse:
    caller, collection = await _caller(request, world)
    if len(subscription_id) > MAX_ID_LENGTH:
        raise validation("subscriptionId", f"Subscription id is longer than {MAX_ID_LENGTH}.")
    subscriber_id = request.headers.get("X-Fitbit-Subscriber-Id", world.config.subscriber_id)
    if subscriber_id != world.config.subscriber_id:
        raise validation("X-Fitbit-Subscriber-Id", f"Unknown subscriber id: {subscriber_id}.")
    wanted = Subscription(subscription_id, caller.user.user_id, collection, subscriber_id)
    sub, created = world.subscriptions.create(wanted)
    return JSONResponse(sub.as_fitbit(), status_code=201 if created else 200)


@router.delete(ALL + "/{subscription_id}.json")
@router.delete(ONE + "/{subscription_id}.json")
async def delete(request: Request, world: EmulatorDep, subscription_id: str) -> Response:
    caller, collection = await _caller(request, world)
    if not world.subscriptions.delete(caller.user.user_id, collection, subscription_id):
        raise FitbitError(404, "not_found", f"Subscription {subscription_id} not found.")
    return Response(status_code=204)


@router.get(ALL + ".json")
@router.get(ONE + ".json")
async def list_subscriptions(request: Request, world: EmulatorDep) -> JSONResponse:
    caller, collection = await _caller(request, world)
    subs = world.subscriptions.of_owner(caller.user.user_id)
    mine = [sub for sub in subs if collection is None or sub.collection == collection]
    return JSONResponse({"apiSubscriptions": [sub.as_fitbit() for sub in mine]})
