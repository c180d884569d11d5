"""`projects.subscribers` and `projects.subscribers.subscriptions` (FACTS §3), called with the
project's cloud-platform credential and its project number.

Create and patch run the verification handshake synchronously against the endpoint and answer
a finished `Operation` whose `response` is the Subscriber; a failed handshake answers 400
FAILED_PRECONDITION and saves nothing. Subscriptions exist only for MANUAL data types.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

from fastapi import APIRouter, Request

from service.emulator.google.datatypes import DATA_TYPES, JSON
from service.emulator.google.deps import GoogleDep, project_call
from service.emulator.google.errors import (
    GoogleError,
    failed_precondition,
    invalid_argument,
    not_found,
)
from service.emulator.google.routes.api import _body, _offset, _page_size, _token
from service.emulator.google.state import GoogleHealth
from service.emulator.google.subscribers import RESOURCE_ID, Subscriber, Subscription, new_id

router = APIRouter(prefix="/v4/projects/{project}/subscribers", tags=["Google Health API"])
SUBSCRIBER_TYPE = "type.googleapis.com/google.devicesandservices.health.v4.Subscriber"
EMPTY_TYPE = "type.googleapis.com/google.protobuf.Empty"
MASKS = {
    "endpoint_uri": "endpointUri",
    "endpointUri": "endpointUri",
    "subscriber_configs": "subscriberConfigs",
    "subscriberConfigs": "subscriberConfigs",
    "endpoint_authorization": "endpointAuthorization",
    "endpointAuthorization": "endpointAuthorization",
}


def operation(project: str, response: JSON | None, type_url: str) -> JSON:
    return {
        "name": f"projects/{project}/operations/{uuid.uuid4()}",
        "done": True,
        "response": {"@type": type_url, **(response or {})},
    }


def _checked_id(value: str | None, what: str) -> str:
    if value and not RESOURCE_ID.match(value):
        raise invalid_argument(
            f"Invalid {what} {value!r}: 4-36 characters, [a-z]([a-z0-9-]{{2,34}}[a-z0-9])."
        )
    return new_id(value)


def _configs(value: Any) -> list[JSON]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(c, dict) for c in value):
        raise invalid_argument("subscriberConfigs must be a list of SubscriberConfig.")
    for config in value:
        unknown = set(config.get("dataTypes", [])) - set(DATA_TYPES)
        if unknown:
            raise invalid_argument(f"Unsupported data types: {sorted(unknown)}.")
        if config.get("subscriptionCreatePolicy") not in ("AUTOMATIC", "MANUAL"):
            raise invalid_argument("subscriptionCreatePolicy must be AUTOMATIC or MANUAL.")
    return value


def _endpoint(value: Any, google: GoogleHealth) -> str:
    if not isinstance(value, str) or not re.match(r"^https?://", value):
        raise invalid_argument("endpointUri must be an absolute HTTPS URI.")
    if google.config.require_https and not value.startswith("https://"):
        raise invalid_argument("endpointUri must use HTTPS.")
    return value


def _secret(body: JSON) -> str:
    secret = (body.get("endpointAuthorization") or {}).get("secret")
    if not isinstance(secret, str) or not secret:
        raise invalid_argument("endpointAuthorization.secret is required.")
    return secret


async def _verify(google: GoogleHealth, url: str, secret: str) -> None:
    result = await google.pusher.verify(url, secret)
    if not result.verified:
        got = f"with Authorization: {result.authorized.status or result.authorized.error}, "
        got += f"without: {result.unauthorized.status or result.unauthorized.error}"
        raise failed_precondition(
            f"Endpoint verification failed for {url}: expected 201 (or 200) with the secret and "
            f"401 or 403 without it; got {got}."
        )


def _subscriber(google: GoogleHealth, subscriber_id: str) -> Subscriber:
    found = google.subscribers.get(subscriber_id)
    if found is None:
        raise not_found(f"Subscriber {subscriber_id} not found.")
    return found


@router.post("")
async def create_subscriber(project: str, request: Request, google: GoogleDep) -> JSON:
    await project_call(request, google, project)
    body = await _body(request)
    subscriber_id = _checked_id(request.query_params.get("subscriberId"), "subscriberId")
    if google.subscribers.get(subscriber_id) is not None:
        raise GoogleError(409, f"Subscriber {subscriber_id} already exists.")
    url, secret, configs = (
        _endpoint(body.get("endpointUri"), google),
        _secret(body),
        _configs(body.get("subscriberConfigs")),
    )
    await _verify(google, url, secret)
    now = google.now()
    subscriber = Subscriber(project, subscriber_id, url, secret, configs, now, now)
    google.subscribers.put(subscriber)
    return operation(project, subscriber.json(), SUBSCRIBER_TYPE)


@router.get("")
async def list_subscribers(project: str, request: Request, google: GoogleDep) -> JSON:
    await project_call(request, google, project)
    every = google.subscribers.all()
    size = _page_size(request.query_params.get("pageSize"), 50, 1000)
    offset = _offset(request.query_params.get("pageToken"), "subscribers")
    out: JSON = {
        "subscribers": [s.json() for s in every[offset : offset + size]],
        "totalSize": len(every),
    }
    if offset + size < len(every):
        out["nextPageToken"] = _token("subscribers", offset + size)
    return out


@router.patch("/{subscriber_id}")
async def patch_subscriber(
    project: str, subscriber_id: str, request: Request, google: GoogleDep
) -> JSON:
    await project_call(request, google, project)
    subscriber = _subscriber(google, subscriber_id)
    body = await _body(request)
    mask = request.query_params.get("updateMask") or ",".join(k for k in body if k in MASKS)
    fields = set()
    for name in filter(None, (part.strip() for part in mask.split(","))):
        if name not in MASKS:
            raise invalid_argument(f"Unsupported updateMask field {name!r}.")
        fields.add(MASKS[name])
    url = (
        _endpoint(body.get("endpointUri"), google)
        if "endpointUri" in fields
        else subscriber.endpoint_uri
    )
    secret = _secret(body) if "endpointAuthorization" in fields else subscriber.secret
    configs = (
        _configs(body.get("subscriberConfigs"))
        if "subscriberConfigs" in fields
        else subscriber.configs
    )
    if fields & {"endpointUri", "endpointAuthorization"}:
        await _verify(google, url, secret)
    subscriber.endpoint_uri, subscriber.secret, subscriber.configs = url, secret, configs
    subscriber.updated = google.now()
    return operation(project, subscriber.json(), SUBSCRIBER_TYPE)


@router.delete("/{subscriber_id}")
async def delete_subscriber(
    project: str, subscriber_id: str, request: Request, google: GoogleDep
) -> JSON:
    await project_call(request, google, project)
    subscriber = _subscriber(google, subscriber_id)
    if subscriber.subscriptions and request.query_params.get("force") != "true":
        raise failed_precondition(
            f"Subscriber {subscriber_id} has subscriptions; delete them or pass force=true."
        )
    google.subscribers.remove(subscriber_id)
    google.pusher.drop(subscriber)
    return operation(project, None, EMPTY_TYPE)


@router.post("/{subscriber_id}/subscriptions")
async def create_subscription(
    project: str, subscriber_id: str, request: Request, google: GoogleDep
) -> JSON:
    await project_call(request, google, project)
    subscriber = _subscriber(google, subscriber_id)
    body = await _body(request)
    user = body.get("user")
    if not isinstance(user, str) or not re.fullmatch(r"users/[A-Za-z0-9-]{1,63}", user):
        raise invalid_argument(
            f"Invalid user {user!r}: expected users/{{healthUserId}}.", "INVALID_USER_RESOURCE_NAME"
        )
    data_types = [t.rsplit("/", 1)[-1] for t in body.get("dataTypes") or []]
    not_manual = [t for t in data_types if subscriber.policy(t) != "MANUAL"]
    if not data_types or not_manual:
        raise failed_precondition(
            f"The subscriber has no MANUAL policy for {not_manual or 'no data types'}."
        )
    subscription_id = _checked_id(request.query_params.get("subscriptionId"), "subscriptionId")
    if subscription_id in subscriber.subscriptions:
        raise GoogleError(409, f"Subscription {subscription_id} already exists.")
    now = google.now()
    subscription = Subscription(subscription_id, user.removeprefix("users/"), data_types, now, now)
    subscriber.subscriptions[subscription_id] = subscription
    return subscription.json(subscriber.name)


@router.get("/{subscriber_id}/subscriptions")
async def list_subscriptions(
    project: str, subscriber_id: str, request: Request, google: GoogleDep
) -> JSON:
    await project_call(request, google, project)
    subscriber = _subscriber(google, subscriber_id)
    wanted = _subscription_filter(request.query_params.get("filter"))
    every = [s for s in subscriber.subscriptions.values() if wanted(s)]
    size = _page_size(request.query_params.get("pageSize"), 50, 1000)
    query = f"subscriptions|{request.query_params.get('filter')}"
    offset = _offset(request.query_params.get("pageToken"), query)
    out: JSON = {"subscriptions": [s.json(subscriber.name) for s in every[offset : offset + size]]}
    if offset + size < len(every):
        out["nextPageToken"] = _token(query, offset + size)
    return out


def _subscription_filter(text: str | None) -> Any:
    """`user = "users/x"` and `data_type = "sleep"` terms; ORs within a field, ANDs across."""
    if not text:
        return lambda _: True
    users = set(re.findall(r'user\s*=\s*"users/([^"]+)"', text))
    types = set(re.findall(r'data_type\s*=\s*"([^"]+)"', text))
    if not users and not types:
        raise invalid_argument(f"Invalid filter {text!r}.", "INVALID_FILTER_FORMAT")

    def wanted(sub: Subscription) -> bool:
        return (not users or sub.user_id in users) and (
            not types or bool(types & set(sub.data_types))
        )

    return wanted


@router.delete("/{subscriber_id}/subscriptions/{subscription_id}")
async def delete_subscription(
    project: str, subscriber_id: str, subscription_id: str, request: Request, google: GoogleDep
) -> JSON:
    await project_call(request, google, project)
    subscriber = _subscriber(google, subscriber_id)
    if subscriber.subscriptions.pop(subscription_id, None) is None:
        raise not_found(f"Subscription {subscription_id} not found.")
    return {}
