"""Fitbit Web API reads: the endpoints a subscriber fetches after a notification, and the
profile. The user in the path is `-` (the token's user) or that user's own id."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from service.emulator import generate, listing, render
from service.emulator.deps import (
    ActivityCaller,
    Caller,
    EmulatorDep,
    NutritionCaller,
    ProfileCaller,
    SleepCaller,
    WeightCaller,
    path_date,
)
from service.emulator.generate import JSON, Day
from service.emulator.world import Emulator

router = APIRouter(tags=["Fitbit Web API"])


def _answer(
    world: Emulator, caller: Caller, resource: str, day: dt.date, shape: Callable[[Day], JSON]
) -> JSONResponse:
    """The day's answer, or the recorded raw response loaded for it."""
    raw = world.data.raw(caller.user.user_id, resource, day)
    if raw is not None:
        return JSONResponse(raw.body, status_code=raw.status)
    return JSONResponse(shape(world.data.day(caller.user, resource, day, world.today(caller.user))))


@router.get("/1/user/{user_id}/activities/date/{date}.json")
async def daily_activity(caller: ActivityCaller, date: str, world: EmulatorDep) -> JSONResponse:
    return _answer(
        world, caller, "activities", path_date(date, caller, world), render.daily_activity
    )


@router.get("/1/user/{user_id}/activities/list.json")
async def activity_list(
    caller: ActivityCaller, request: Request, world: EmulatorDep
) -> JSONResponse:
    query = listing.parse(request.query_params)
    user, today = caller.user, world.today(caller.user)
    logs, more = listing.page(
        query,
        lambda day: world.data.day(user, "activities", day, today).logs,
        user.member_since,
        today,
    )
    base = str(request.base_url).rstrip("/")
    return JSONResponse(
        {
            "activities": [render.activity_list_entry(log, base) for log in logs],
            "pagination": listing.pagination(query, f"{base}{request.url.path}", more),
        }
    )


@router.get("/1/user/{user_id}/body/log/weight/date/{date}.json")
async def weight(caller: WeightCaller, date: str, world: EmulatorDep) -> JSONResponse:
    return _answer(world, caller, "weight", path_date(date, caller, world), render.weight)


@router.get("/1/user/{user_id}/body/log/fat/date/{date}.json")
async def fat(caller: WeightCaller, date: str, world: EmulatorDep) -> JSONResponse:
    return _answer(world, caller, "fat", path_date(date, caller, world), render.fat)


@router.get("/1/user/{user_id}/foods/log/date/{date}.json")
async def foods(caller: NutritionCaller, date: str, world: EmulatorDep) -> JSONResponse:
    day = path_date(date, caller, world)
    # The food log's summary carries the day's water total, as Fitbit's does.
    water_day = world.data.day(caller.user, "water", day, world.today(caller.user))
    return _answer(world, caller, "foods", day, lambda food_day: render.foods(food_day, water_day))


@router.get("/1/user/{user_id}/foods/log/water/date/{date}.json")
async def water(caller: NutritionCaller, date: str, world: EmulatorDep) -> JSONResponse:
    return _answer(world, caller, "water", path_date(date, caller, world), render.water)


@router.get("/1.2/user/{user_id}/sleep/date/{date}.json")
async def sleep(caller: SleepCaller, date: str, world: EmulatorDep) -> JSONResponse:
    return _answer(world, caller, "sleep", path_date(date, caller, world), render.sleep_by_date)


@router.get("/1/user/{user_id}/profile.json")
async def profile(caller: ProfileCaller, world: EmulatorDep) -> JSONResponse:
    person = generate.traits(world.config.seed, caller.user.user_id)
    return JSONResponse(render.profile(caller.user, person, world.now()))
