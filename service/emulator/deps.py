"""What every Fitbit-facing call goes through: faults, the bearer token, the rate limit, the
user named in the path, and the scope the endpoint needs (in that order)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date
from typing import Annotated

from fastapi import Depends, Request

from service.emulator.errors import FitbitError, validation
from service.emulator.tokens import AccessToken
from service.emulator.users import EmulatedUser
from service.emulator.world import Emulator

# Request-state keys the edge middleware reads back when the answer goes out.
RATE_HEADERS = "fitbit_rate_headers"
CALLER = "fitbit_user_id"


def remember(request: Request, key: str, value: object) -> None:
    """Leave a value in the request state (the scope's "state" dict) for the middleware."""
    request.scope.setdefault("state", {})[key] = value


def get_emulator(request: Request) -> Emulator:
    world = request.app.state.emulator
    if not isinstance(world, Emulator):
        raise TypeError("app.state.emulator is not an Emulator")
    return world


EmulatorDep = Annotated[Emulator, Depends(get_emulator)]


@dataclass(frozen=True)
class Caller:
    user: EmulatedUser
    token: AccessToken


def bearer(request: Request) -> str:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise FitbitError(401, "invalid_request", "Authorization header required.")
    return token.strip()


async def authorize(request: Request, world: Emulator, scope: str | None) -> Caller:
    await world.faults.apply(request, world.counters)
    token = world.tokens.authenticate(bearer(request), world.now())
    user = world.users.get(token.user_id or "")
    if user is None:
        raise FitbitError(403, "insufficient_permissions", "This call needs a user's token.")
    remember(request, CALLER, user.user_id)
    _spend(request, world, user)
    named = request.path_params.get("user_id", "-")
    if named not in ("-", user.user_id):
        raise FitbitError(403, "insufficient_permissions", f"Access to user {named} is denied.")
    if scope is not None and scope not in token.scopes:
        message = f"This application does not have permission to access {scope} data."
        raise FitbitError(403, "insufficient_scope", message)
    return Caller(user, token)


def _spend(request: Request, world: Emulator, user: EmulatedUser) -> None:
    status = world.rates.spend(user.user_id, world.now(), world.config.rate_limit_per_hour)
    remember(request, RATE_HEADERS, status.headers())
    if not status.allowed:
        world.counters.rate_limited_by_user[user.user_id] += 1
        message = (
            "Rate limit exceeded for the user. Please try again at the start of the hour. "
            "More information about rate limiting is at https://dev.fitbit.com/."
        )
        headers = {"Retry-After": str(status.reset_seconds)}
        raise FitbitError(429, "request", message, field_name="n/a", headers=headers)


def caller_with(scope: str | None) -> Callable[[Request, Emulator], Awaitable[Caller]]:
    async def dependency(request: Request, world: EmulatorDep) -> Caller:
        return await authorize(request, world, scope)

    return dependency


ActivityCaller = Annotated[Caller, Depends(caller_with("activity"))]
WeightCaller = Annotated[Caller, Depends(caller_with("weight"))]
NutritionCaller = Annotated[Caller, Depends(caller_with("nutrition"))]
SleepCaller = Annotated[Caller, Depends(caller_with("sleep"))]
ProfileCaller = Annotated[Caller, Depends(caller_with("profile"))]


def path_date(text: str, caller: Caller, world: Emulator) -> date:
    """A `yyyy-MM-dd` path segment, or `today` in the user's time zone, as Fitbit accepts."""
    if text == "today":
        return world.today(caller.user)
    # Only the extended form: fromisoformat would also take "20240309".
    if len(text) == len("yyyy-mm-dd"):
        try:
            return date.fromisoformat(text)
        except ValueError:
            pass
    raise validation("date", f"Invalid date:{text}")
