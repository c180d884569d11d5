"""The control API: JSON in and out, under `/_emulator` (no Fitbit path starts with it).

    GET    /_emulator/health                       {"ok": true}
    GET    /_emulator/app                          the configuration (EmulatorConfig)
    PATCH  /_emulator/app                          change any of it ("verify": true: handshake)
    POST   /_emulator/app/verify                   ?verify=<right> expects 204, <wrong> expects 404
    GET    /_emulator/users[/{id}]                 users, granted scopes, subscriptions
    PUT    /_emulator/users/{id}                   create or change: timezone, display_name,
                                                   offset_from_utc_millis, member_since,
                                                   grant_scopes, deny_consent
    POST   /_emulator/users/{id}/tokens            tokens, no browser ({"scopes": [...]})
    POST   /_emulator/users/{id}/revoke            tokens die, subscriptions go, userRevokedAccess
    POST   /_emulator/users/{id}/delete            the same, with deleteUser
    POST   /_emulator/users/{id}/notify            {"collection", "date"}: a bare notification
    GET    /_emulator/users/{id}/data/{resource}/{date}               logs, summary, goals, raw
    POST   /_emulator/users/{id}/data/{resource}/{date}/logs          add a log (fields override)
    PATCH  /_emulator/users/{id}/data/{resource}/{date}/logs/{logId}  change a log
    DELETE /_emulator/users/{id}/data/{resource}/{date}/logs/{logId}  delete a log
    PATCH  /_emulator/users/{id}/data/activities/{date}/summary       change the daily summary
    PUT    /_emulator/users/{id}/data/{resource}/{date}/raw           serve a recorded response
    DELETE /_emulator/users/{id}/data/{resource}/{date}/raw           stop serving it
    GET    /_emulator/subscriptions                every subscription
    GET    /_emulator/notifications                pending items and recent deliveries
    POST   /_emulator/notifications/flush          push everything pending now
    GET|PUT|DELETE /_emulator/faults               latency, 5xx, hangs (FaultPlan)
    GET|DELETE /_emulator/counters                 calls, 429s, pushes and answers, tokens, faults
    GET|POST /_emulator/clock                      {"set", "frozen", "advance_seconds"}
    POST   /_emulator/reset                        back to the start

`{resource}` is activities, weight, fat, foods, water or sleep; data changes take
`?notify=false`. Routes for users and their data are in `control_users`; the README
(`service/emulator/README.md`) tells the whole story.
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from pydantic import ValidationError

from service.emulator.deps import EmulatorDep
from service.emulator.models import (
    AppPatch,
    AppView,
    ClockChange,
    ClockView,
    CountersView,
    Delivery,
    FaultPlan,
    NotificationsView,
    SubscriptionView,
    VerificationResult,
)
from service.emulator.world import subscription_view

router = APIRouter(prefix="/_emulator", tags=["control"])


@router.get("/health")
async def health() -> dict[str, bool]:
    return {"ok": True}


@router.get("/app")
async def get_app(world: EmulatorDep) -> AppView:
    return AppView(config=world.config)


@router.patch("/app")
async def configure(patch: AppPatch, world: EmulatorDep) -> AppView:
    """Change any of the configuration; with `"verify": true`, then run the handshake."""
    try:
        config = world.configure(patch.model_dump(exclude_unset=True, exclude={"verify"}))
    except ValidationError as exc:
        raise RequestValidationError(exc.errors(include_url=False)) from exc
    verification = await world.pusher.verify() if patch.verify else None
    return AppView(config=config, verification=verification)


@router.post("/app/verify")
async def verify(world: EmulatorDep) -> VerificationResult:
    """Fitbit's handshake: `?verify=<right code>` expects 204, a wrong code expects 404."""
    return await world.pusher.verify()


@router.get("/subscriptions")
async def subscriptions(world: EmulatorDep) -> list[SubscriptionView]:
    return [subscription_view(sub) for sub in world.subscriptions.all()]


@router.get("/notifications")
async def notifications(world: EmulatorDep) -> NotificationsView:
    pusher = world.pusher
    return NotificationsView(pending=list(pusher.pending), deliveries=list(pusher.deliveries))


@router.post("/notifications/flush")
async def flush(world: EmulatorDep) -> list[Delivery]:
    """Send every pending notification now; answers once the subscriber has answered."""
    return await world.pusher.flush()


@router.get("/faults")
async def get_faults(world: EmulatorDep) -> FaultPlan:
    return world.faults.plan


@router.put("/faults")
async def set_faults(plan: FaultPlan, world: EmulatorDep) -> FaultPlan:
    world.faults.set(plan)
    return plan


@router.delete("/faults", status_code=204)
async def clear_faults(world: EmulatorDep) -> Response:
    world.faults.set(FaultPlan())
    return Response(status_code=204)


@router.get("/counters")
async def counters(world: EmulatorDep) -> CountersView:
    return world.counters.view()


@router.delete("/counters", status_code=204)
async def reset_counters(world: EmulatorDep) -> Response:
    world.counters.clear()
    return Response(status_code=204)


@router.get("/clock")
async def clock(world: EmulatorDep) -> ClockView:
    return ClockView(now=world.now(), frozen=world.clock.frozen)


@router.post("/clock")
async def move_clock(change: ClockChange, world: EmulatorDep) -> ClockView:
    """Jump (`set`), freeze or thaw (`frozen`), then move forward (`advance_seconds`)."""
    if change.set is not None or change.frozen is not None:
        world.clock.set(change.set, frozen=change.frozen)
    if change.advance_seconds:
        world.clock.advance(change.advance_seconds)
    return ClockView(now=world.now(), frozen=world.clock.frozen)


@router.post("/reset", status_code=204)
async def reset(world: EmulatorDep) -> Response:
    """Forget everything: users, tokens, subscriptions, data, faults, counters, outbox, clock."""
    world.reset()
    return Response(status_code=204)
