"""The Google side of the control API, under `/_emulator/google` (the clock, faults and
`/_emulator/reset` are shared with the Fitbit side):

    GET|PATCH /app                                  the configuration (GoogleConfig)
    GET /users · GET|PUT /users/{id}                accounts: legacy_user_id, timezone, scopes…
    POST /users/{id}/tokens                         tokens as after an offline consent
    POST /users/{id}/revoke                         the user removes the app's access
    POST /users/{id}/notify                         a notification with no change behind it
    GET  /users/{id}/data/{type}/{date}             the day's points, as served
    POST /users/{id}/data/{type}/{date}/points      add a point (201); UPSERT notification
    PATCH|DELETE /users/{id}/data/{type}/{date}/points/{pointId}   change (UPSERT), delete
    GET /subscribers · PUT|DELETE /subscribers/{id} register an endpoint and its secret directly
    POST /subscribers/{id}/verify                   run the verification handshake
    GET /notifications · POST /notifications/flush  pending items, deliveries; push now
    GET|PUT /keyset · POST /keyset/rotate           signing keys; keyset mode; a new primary key
    GET|DELETE /counters                            calls, 429s, pushes and answers, handshakes
    POST /reset                                     the Google side back to its start
"""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, HTTPException
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from pydantic import ValidationError

from service.emulator.google import oauth
from service.emulator.google.datatypes import DATA_TYPES, JSON, Point, render
from service.emulator.google.deps import GoogleDep
from service.emulator.google.models import (
    GoogleAppPatch,
    GoogleAppView,
    GoogleCountersView,
    GoogleDelivery,
    GoogleNotificationsView,
    GoogleTokenAnswer,
    GoogleTokenRequest,
    GoogleUserPatch,
    GoogleUserView,
    KeysetChange,
    KeysetView,
    KeyView,
    NotifyRequest,
    PointChange,
    SubscriberRegistration,
    SubscriberView,
    Verification,
)
from service.emulator.google.routes.oauth import _answer
from service.emulator.google.state import ALL_TYPES, GoogleHealth
from service.emulator.google.store import UnknownPoint
from service.emulator.google.subscribers import RESOURCE_ID, Subscriber
from service.emulator.google.users import GoogleUser

router = APIRouter(prefix="/_emulator/google", tags=["control: Google Health"])


@router.get("/app")
async def get_app(google: GoogleDep) -> GoogleAppView:
    return GoogleAppView(config=google.config)


@router.patch("/app")
async def configure(patch: GoogleAppPatch, google: GoogleDep) -> GoogleAppView:
    try:
        return GoogleAppView(config=google.configure(patch.model_dump(exclude_unset=True)))
    except ValidationError as exc:
        raise RequestValidationError(exc.errors(include_url=False)) from exc


# -- users ----------------------------------------------------------------------------------


def _user(google: GoogleHealth, user_id: str) -> GoogleUser:
    user = google.users.get(user_id)
    if user is None:
        raise HTTPException(404, f"no Google user {user_id}")
    return user


def _ensure_user(google: GoogleHealth, user_id: str) -> GoogleUser:
    """The user, created if new; 422 when `user_id` cannot name one."""
    try:
        return google.users.ensure(user_id)
    except ValueError as exc:
        raise HTTPException(422, str(exc)) from exc


@router.get("/users")
async def users(google: GoogleDep) -> list[GoogleUserView]:
    return [google.user_view(user) for user in google.users.all()]


@router.get("/users/{user_id}")
async def get_user(user_id: str, google: GoogleDep) -> GoogleUserView:
    return google.user_view(_user(google, user_id))


@router.put("/users/{user_id}")
async def put_user(user_id: str, patch: GoogleUserPatch, google: GoogleDep) -> GoogleUserView:
    user = _ensure_user(google, user_id)
    for name, value in patch.model_dump(exclude_unset=True).items():
        setattr(
            user, name, frozenset(value) if name == "grant_scopes" and value is not None else value
        )
    return google.user_view(user)


@router.post("/users/{user_id}/tokens")
async def tokens(user_id: str, ask: GoogleTokenRequest, google: GoogleDep) -> GoogleTokenAnswer:
    user = _ensure_user(google, user_id)
    scopes = frozenset(ask.scopes) if ask.scopes is not None else oauth.READ_SCOPES
    return GoogleTokenAnswer.model_validate(_answer(google.issue_tokens(user, scopes)))


@router.post("/users/{user_id}/revoke")
async def revoke(user_id: str, google: GoogleDep) -> GoogleUserView:
    user = _user(google, user_id)
    google.revoke(user)
    return google.user_view(user)


@router.post("/users/{user_id}/notify")
async def notify(user_id: str, ask: NotifyRequest, google: GoogleDep) -> list[JSON]:
    user = _user(google, user_id)
    _kind(ask.data_type)
    end = ask.end or ask.start
    offsets = (user.offset(ask.start), user.offset(end))
    point = Point("notify", ask.data_type, ask.start, end, *offsets, values={})
    return google.announce(user, ask.data_type, ask.operation, [point])


# -- data -----------------------------------------------------------------------------------


def _kind(data_type: str) -> str:
    if data_type not in DATA_TYPES:
        raise HTTPException(404, f"unknown data type {data_type}; known: {ALL_TYPES}")
    return data_type


def _view(user: GoogleUser, point: Point) -> JSON:
    return {"id": point.point_id, "point": render(user.health_user_id, point, reconciled=False)}


@router.get("/users/{user_id}/data/{data_type}/{day}")
async def day(user_id: str, data_type: str, day: dt.date, google: GoogleDep) -> list[JSON]:
    user = _user(google, user_id)
    points = google.data.day(user, _kind(data_type), day, google.now())
    return [_view(user, point) for point in sorted(points, key=lambda p: p.start)]


@router.post("/users/{user_id}/data/{data_type}/{day}/points", status_code=201)
async def add_point(
    user_id: str,
    data_type: str,
    day: dt.date,
    change: PointChange,
    google: GoogleDep,
    notify: bool = True,
) -> JSON:
    user = _user(google, user_id)
    point = google.data.new_point(user, _kind(data_type), day)
    _apply(user, point, change)
    google.data.add(user, point, google.now())
    if notify:
        google.announce(user, data_type, "UPSERT", [point])
    return _view(user, point)


@router.patch("/users/{user_id}/data/{data_type}/{day}/points/{point_id}")
async def change_point(
    user_id: str,
    data_type: str,
    day: dt.date,
    point_id: str,
    change: PointChange,
    google: GoogleDep,
    notify: bool = True,
) -> JSON:
    user = _user(google, user_id)
    point = _find(google, user, data_type, day, point_id)
    before = Point(
        point.point_id, data_type, point.start, point.end, point.start_offset, point.end_offset, {}
    )
    _apply(user, point, change)
    google.data.move(user, point, day, google.now())
    if notify:
        changed = (
            [before, point] if (before.start, before.end) != (point.start, point.end) else [point]
        )
        google.announce(user, data_type, "UPSERT", changed)
    return _view(user, point)


@router.delete("/users/{user_id}/data/{data_type}/{day}/points/{point_id}", status_code=204)
async def delete_point(
    user_id: str,
    data_type: str,
    day: dt.date,
    point_id: str,
    google: GoogleDep,
    notify: bool = True,
) -> Response:
    user = _user(google, user_id)
    point = _find(google, user, data_type, day, point_id)
    google.data.remove(user, point, day, google.now())
    if notify:
        google.announce(user, data_type, "DELETE", [point])
    return Response(status_code=204)


def _find(
    google: GoogleHealth, user: GoogleUser, data_type: str, day: dt.date, point_id: str
) -> Point:
    try:
        return google.data.find(user, _kind(data_type), day, point_id, google.now())
    except UnknownPoint as exc:
        raise HTTPException(404, str(exc)) from exc


def _apply(user: GoogleUser, point: Point, change: PointChange) -> None:
    if change.start is not None:
        length = point.end - point.start
        point.start = change.start.astimezone(dt.UTC)
        point.end = point.start + length
    if change.end is not None:
        point.end = change.end.astimezone(dt.UTC)
    if point.end < point.start:
        raise HTTPException(422, "end is before start")
    point.start_offset, point.end_offset = user.offset(point.start), user.offset(point.end)
    point.values = {**point.values, **(change.values or {})}


# -- subscribers, notifications -------------------------------------------------------------


def _subscriber_view(
    subscriber: Subscriber, verification: Verification | None = None
) -> SubscriberView:
    subscriptions = [s.json(subscriber.name) for s in subscriber.subscriptions.values()]
    return SubscriberView(
        subscriber=subscriber.json(), subscriptions=subscriptions, verification=verification
    )


@router.get("/subscribers")
async def subscribers(google: GoogleDep) -> list[SubscriberView]:
    return [_subscriber_view(s) for s in google.subscribers.all()]


@router.put("/subscribers/{subscriber_id}")
async def register(
    subscriber_id: str, ask: SubscriberRegistration, google: GoogleDep
) -> SubscriberView:
    if not RESOURCE_ID.match(subscriber_id):
        raise HTTPException(422, f"invalid subscriber id {subscriber_id!r}")
    verification = await google.pusher.verify(ask.endpoint_uri, ask.secret) if ask.verify else None
    if verification is not None and not verification.verified:
        raise HTTPException(409, verification.model_dump(mode="json"))
    now = google.now()
    configs = ask.subscriber_configs or [
        {"dataTypes": ALL_TYPES, "subscriptionCreatePolicy": "AUTOMATIC"}
    ]
    existing = google.subscribers.get(subscriber_id)
    subscriber = Subscriber(
        google.config.project_number,
        subscriber_id,
        ask.endpoint_uri,
        ask.secret,
        configs,
        existing.created if existing else now,
        now,
        subscriptions=existing.subscriptions if existing else {},
    )
    google.subscribers.put(subscriber)
    return _subscriber_view(subscriber, verification)


@router.delete("/subscribers/{subscriber_id}", status_code=204)
async def unregister(subscriber_id: str, google: GoogleDep) -> Response:
    subscriber = google.subscribers.get(subscriber_id)
    if subscriber is None:
        raise HTTPException(404, f"no subscriber {subscriber_id}")
    google.subscribers.remove(subscriber_id)
    google.pusher.drop(subscriber)
    return Response(status_code=204)


@router.post("/subscribers/{subscriber_id}/verify")
async def verify(subscriber_id: str, google: GoogleDep) -> Verification:
    subscriber = google.subscribers.get(subscriber_id)
    if subscriber is None:
        raise HTTPException(404, f"no subscriber {subscriber_id}")
    return await google.pusher.verify(subscriber.endpoint_uri, subscriber.secret)


@router.get("/notifications")
async def notifications(google: GoogleDep) -> GoogleNotificationsView:
    return GoogleNotificationsView(
        pending=google.pusher.pending_view(), deliveries=list(google.pusher.deliveries)
    )


@router.post("/notifications/flush")
async def flush(google: GoogleDep) -> list[GoogleDelivery]:
    return await google.pusher.flush()


# -- keyset, counters, reset ----------------------------------------------------------------


def _keyset_view(google: GoogleHealth) -> KeysetView:
    keys = google.keys
    return KeysetView(
        mode=keys.mode,
        fail_status=keys.fail_status,
        keys=[KeyView(key_id=key.key_id, primary=key is keys.primary) for key in keys.keys],
        published=keys.published(),
    )


@router.get("/keyset")
async def keyset(google: GoogleDep) -> KeysetView:
    return _keyset_view(google)


@router.put("/keyset")
async def change_keyset(change: KeysetChange, google: GoogleDep) -> KeysetView:
    if change.mode is not None:
        google.keys.mode = change.mode
    if change.fail_status is not None:
        google.keys.fail_status = change.fail_status
    return _keyset_view(google)


@router.post("/keyset/rotate")
async def rotate(google: GoogleDep) -> KeysetView:
    google.keys.rotate()
    return _keyset_view(google)


@router.get("/counters")
async def counters(google: GoogleDep) -> GoogleCountersView:
    return google.counters.google_view()


@router.delete("/counters", status_code=204)
async def reset_counters(google: GoogleDep) -> Response:
    google.counters.clear()
    return Response(status_code=204)


@router.post("/reset", status_code=204)
async def reset(google: GoogleDep) -> Response:
    google.reset()
    return Response(status_code=204)
