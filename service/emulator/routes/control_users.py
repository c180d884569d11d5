"""The control API, part two: emulated users and their data.

Each data change sends the matching notification to every subscription covering it (pass
`?notify=false` to change silently, as when Fitbit drops one).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Body, HTTPException, Path
from fastapi.responses import Response

from service.emulator.data import RESOURCES, Raw, UnknownLog
from service.emulator.deps import EmulatorDep
from service.emulator.generate import Day
from service.emulator.models import (
    DayView,
    JSONObject,
    NotifyRequest,
    RawLoad,
    TokenAnswer,
    TokenRequest,
    UserPatch,
    UserView,
)
from service.emulator.oauth import SCOPES
from service.emulator.users import EmulatedUser
from service.emulator.world import Emulator

router = APIRouter(prefix="/_emulator/users", tags=["control"])

UserId = Annotated[str, Path(pattern=r"^[A-Za-z0-9]{1,32}$")]
Resource = Annotated[str, Path(pattern="^(" + "|".join(RESOURCES) + ")$")]
Fields = Annotated[JSONObject, Body(default_factory=dict)]
DAY = "/{user_id}/data/{resource}/{date}"


def _user(world: Emulator, user_id: str) -> EmulatedUser:
    user = world.users.get(user_id)
    if user is None:
        raise HTTPException(404, f"no emulated user {user_id}")
    return user


@router.get("")
async def list_users(world: EmulatorDep) -> list[UserView]:
    return [world.user_view(user) for user in world.users.all()]


@router.get("/{user_id}")
async def get_user(user_id: UserId, world: EmulatorDep) -> UserView:
    return world.user_view(_user(world, user_id))


@router.put("/{user_id}")
async def put_user(user_id: UserId, patch: UserPatch, world: EmulatorDep) -> UserView:
    """Create the user, or change the fields given."""
    user = world.users.ensure(user_id)
    changes = patch.model_dump(exclude_unset=True)
    if changes.get("grant_scopes") is not None:
        changes["grant_scopes"] = frozenset(changes["grant_scopes"])
    if "offset_from_utc_millis" in changes:
        changes["fixed_offset_millis"] = changes.pop("offset_from_utc_millis")
    for name, value in changes.items():
        setattr(user, name, value)
    return world.user_view(user)


@router.post("/{user_id}/tokens")
async def issue_tokens(
    user_id: UserId, world: EmulatorDep, request: TokenRequest | None = None
) -> TokenAnswer:
    """Tokens as if the user had just consented, without the browser dance."""
    scopes = (request.scopes if request else None) or sorted(SCOPES)
    user = world.users.ensure(user_id)
    if user.deleted:
        raise HTTPException(409, f"user {user_id} has deleted the account")
    return world.issue_tokens(user, frozenset(scopes))


@router.post("/{user_id}/revoke")
async def revoke_user(user_id: UserId, world: EmulatorDep) -> UserView:
    """The user revokes the app: tokens die, each subscription gets `userRevokedAccess`."""
    user = _user(world, user_id)
    world.user_leaves(user, deleted=False)
    return world.user_view(user)


@router.post("/{user_id}/delete")
async def delete_user(user_id: UserId, world: EmulatorDep) -> UserView:
    """The user deletes the account: tokens die, each subscription gets `deleteUser`."""
    user = _user(world, user_id)
    world.user_leaves(user, deleted=True)
    return world.user_view(user)


@router.post("/{user_id}/notify")
async def notify(
    user_id: UserId, request: NotifyRequest, world: EmulatorDep
) -> list[dict[str, str]]:
    """A notification with no change behind it, as Fitbit's duplicates are."""
    return world.announce(_user(world, user_id), request.collection, request.date)


@router.get(DAY)
async def get_day(
    user_id: UserId, resource: Resource, date: dt.date, world: EmulatorDep
) -> DayView:
    user = _user(world, user_id)
    day = world.data.day(user, resource, date, world.today(user))
    raw = world.data.raw(user_id, resource, date)
    loaded = RawLoad(body=raw.body, status=raw.status) if raw else None
    return DayView(logs=day.logs, summary=day.summary, goals=day.goals, raw=loaded)


def _editable(
    world: Emulator, user_id: str, resource: str, date: dt.date
) -> tuple[EmulatedUser, Day]:
    user = world.users.ensure(user_id)
    return user, world.data.edit(user, resource, date, world.today(user))


def _changed(
    world: Emulator, user: EmulatedUser, resource: str, date: dt.date, notify: bool
) -> None:
    if notify:
        world.announce_change(user, resource, date)


@router.post(DAY + "/logs", status_code=201)
async def add_log(
    user_id: UserId,
    resource: Resource,
    date: dt.date,
    world: EmulatorDep,
    fields: Fields,
    notify: bool = True,
) -> JSONObject:
    """Add a realistic log on that day; the fields given replace the generated ones."""
    user, day = _editable(world, user_id, resource, date)
    try:
        log = world.data.add_log(user, day, resource, date, fields)
    except ValueError as exc:
        raise HTTPException(400, str(exc)) from exc
    _changed(world, user, resource, date, notify)
    return log


@router.patch(DAY + "/logs/{log_id}")
async def change_log(
    user_id: UserId,
    resource: Resource,
    date: dt.date,
    log_id: int,
    world: EmulatorDep,
    fields: Fields,
    notify: bool = True,
) -> JSONObject:
    user, day = _editable(world, user_id, resource, date)
    try:
        log = world.data.change_log(day, resource, log_id, fields)
    except (UnknownLog, ValueError) as exc:
        raise HTTPException(404 if isinstance(exc, UnknownLog) else 400, str(exc)) from exc
    _changed(world, user, resource, date, notify)
    return log


@router.delete(DAY + "/logs/{log_id}", status_code=204)
async def delete_log(
    user_id: UserId,
    resource: Resource,
    date: dt.date,
    log_id: int,
    world: EmulatorDep,
    notify: bool = True,
) -> Response:
    user, day = _editable(world, user_id, resource, date)
    try:
        world.data.delete_log(day, log_id)
    except UnknownLog as exc:
        raise HTTPException(404, str(exc)) from exc
    _changed(world, user, resource, date, notify)
    return Response(status_code=204)


@router.patch("/{user_id}/data/activities/{date}/summary")
async def change_summary(
    user_id: UserId, date: dt.date, world: EmulatorDep, fields: Fields, notify: bool = True
) -> JSONObject:
    """Change the daily activity summary (steps, caloriesOut, …) without touching logs."""
    user, day = _editable(world, user_id, "activities", date)
    day.summary.update(fields)
    _changed(world, user, "activities", date, notify)
    return day.summary


@router.put(DAY + "/raw", status_code=204)
async def load_raw(
    user_id: UserId,
    resource: Resource,
    date: dt.date,
    load: RawLoad,
    world: EmulatorDep,
    notify: bool = True,
) -> Response:
    """Serve this recorded Fitbit response, verbatim, for the (user, endpoint, date)."""
    user = world.users.ensure(user_id)
    world.data.set_raw(user_id, resource, date, Raw(load.body, load.status))
    _changed(world, user, resource, date, notify)
    return Response(status_code=204)


@router.delete(DAY + "/raw", status_code=204)
async def clear_raw(
    user_id: UserId, resource: Resource, date: dt.date, world: EmulatorDep, notify: bool = True
) -> Response:
    user = _user(world, user_id)
    world.data.set_raw(user_id, resource, date, None)
    _changed(world, user, resource, date, notify)
    return Response(status_code=204)
