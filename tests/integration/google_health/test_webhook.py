"""`POST /google-health/webhook` against the emulator playing Google: the subscriber
verification handshake, signed notifications recorded and coalesced, refused signatures, and
the keyset refetched once when Google signs with a key we do not hold yet."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from redis.asyncio import Redis
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from service.providers import errors
from service.providers.base import SyncKey
from service.providers.google_health import signature
from service.queue import QUEUE_NAME
from service.store.models import Notification, SyncRequest
from tests.integration.google_health.conftest import GOOGLE, GoogleStack

USER = "g-webhook-user"
DAY = dt.date(2026, 11, 20)
VERIFICATION = json.dumps({"type": "verification"}).encode()
JSON = {"content-type": "application/json"}


async def _count(engine: AsyncEngine, model: type[Notification] | type[SyncRequest]) -> int:
    async with engine.connect() as conn:
        return int((await conn.execute(select(func.count()).select_from(model))).scalar_one())


async def _steps(google: GoogleStack, hour: int = 9) -> None:
    start = dt.datetime.combine(DAY, dt.time(hour), tzinfo=dt.UTC)
    await google.emulator.google.add_point(USER, "steps", DAY, start=start)


async def test_the_emulator_verifies_our_endpoint(google: GoogleStack) -> None:
    subscriber = await google.create_subscriber()
    assert subscriber.state == "ACTIVE"
    assert (await google.emulator.google.counters()).verifications == {"passed": 1}


async def test_an_endpoint_registered_with_another_secret_fails_verification(
    google: GoogleStack,
) -> None:
    with pytest.raises(errors.UnexpectedResponse):
        await google.create_subscriber(secret="Bearer not-ours")
    assert await google.emulator.google.subscribers() == []


@pytest.mark.parametrize(
    ("authorization", "status"),
    [(GOOGLE.webhook_secret, 201), (None, 401), ("Bearer not-ours", 401), ("", 401)],
)
async def test_verification_answers_201_only_with_the_secret(
    google: GoogleStack, authorization: str | None, status: int
) -> None:
    headers = {**JSON, **({"authorization": authorization} if authorization is not None else {})}
    answer = await google.service.post(
        "/google-health/webhook", content=VERIFICATION, headers=headers
    )
    assert answer.status_code == status
    assert await _count(google.engine, Notification) == 0


async def test_a_signed_notification_is_recorded_per_user_type_and_local_date(
    google: GoogleStack,
) -> None:
    await google.create_subscriber()
    await google.emulator.google.put_user(USER, timezone="UTC")
    await google.emulator.google.issue_tokens(USER)
    await _steps(google, 9)
    await _steps(google, 10)
    await google.deliver()
    async with google.engine.connect() as conn:
        notes = list(await conn.execute(select(Notification)))
        [request] = list(await conn.execute(select(SyncRequest)))
    assert len(notes) == 2
    assert {(n.provider, n.owner_id, n.collection_type, n.date) for n in notes} == {
        ("google_health", USER, "activity-summary", DAY)
    }
    assert {n.raw["data"]["dataType"] for n in notes} == {"steps"}
    assert (request.provider, request.owner_id, request.collection, request.date) == (
        "google_health",
        USER,
        "activity-summary",
        DAY,
    )
    assert request.generation == 2


async def test_a_push_with_the_other_signature_header_name_is_accepted(
    google: GoogleStack,
) -> None:
    await google.emulator.google.configure(signature_header="GOOGLE-HEALTH-API-SIGNATURE")
    await google.create_subscriber()
    await google.emulator.google.issue_tokens(USER)
    await _steps(google)
    await google.deliver()
    assert await _count(google.engine, SyncRequest) == 1


async def _a_delivered_push(google: GoogleStack) -> tuple[bytes, dict[str, str]]:
    """A push Google signed, as delivered to us (then forgotten: tests replay it)."""
    await google.create_subscriber()
    await google.emulator.google.issue_tokens(USER)
    await _steps(google)
    await google.deliver()
    [delivery] = (await google.emulator.google.notifications()).deliveries[-1:]
    body = delivery.body.encode()
    keyset = (await google.emulator.google.keyset()).keys
    key_id = next(k.key_id for k in keyset if k.primary)
    assert delivery.key_id == key_id
    return body, {**JSON, "authorization": GOOGLE.webhook_secret}


async def test_a_replayed_push_verifies_and_a_tampered_one_is_refused(
    google: GoogleStack,
) -> None:
    body, headers = await _a_delivered_push(google)
    notes = await _count(google.engine, Notification)
    fresh = ec.generate_private_key(ec.SECP256R1())
    key_id = (await google.emulator.google.keyset()).keys[0].key_id
    forged = signature.sign(body, key_id, fresh)  # a known key id, the wrong key
    for bad in (
        {},  # no signature at all
        {"x-healthapi-signature": "not base64!"},
        {"x-healthapi-signature": forged},
        {"x-healthapi-signature": signature.sign(body, 4242, fresh)},  # a key Google never had
    ):
        answer = await google.service.post(
            "/google-health/webhook", content=body, headers={**headers, **bad}
        )
        assert answer.status_code == 401, bad
    assert await _count(google.engine, Notification) == notes


async def test_a_signed_push_without_our_secret_is_refused(google: GoogleStack) -> None:
    await google.create_subscriber()
    await google.emulator.google.issue_tokens(USER)
    await google.emulator.google.register_subscriber(
        "another", f"{google.url}/google-health/webhook", "Bearer someone-elses"
    )
    await _steps(google)
    deliveries = await google.emulator.google.flush()
    assert sorted(d.status or 0 for d in deliveries) == [204, 401]
    assert await _count(google.engine, Notification) == 1


async def test_a_rotated_key_is_fetched_once(google: GoogleStack) -> None:
    await google.create_subscriber()
    await google.emulator.google.issue_tokens(USER)
    await _steps(google, 9)
    await google.deliver()
    fetched = (await google.emulator.google.counters()).keyset_fetches
    assert fetched == 1
    await google.emulator.google.rotate_key()
    await _steps(google, 10)
    await google.deliver()  # signed with the new key: one refetch, then accepted
    assert (await google.emulator.google.counters()).keyset_fetches == fetched + 1
    await _steps(google, 11)
    await google.deliver()  # the new key is held now
    assert (await google.emulator.google.counters()).keyset_fetches == fetched + 1
    assert await _count(google.engine, Notification) == 3


async def test_a_keyset_outage_keeps_the_last_good_keys(google: GoogleStack) -> None:
    body, headers = await _a_delivered_push(google)
    await google.emulator.google.set_keyset(mode="fail", fail_status=503)
    fetched = (await google.emulator.google.counters()).keyset_fetches
    # A key id we do not hold makes the service fetch the keyset, which fails now.
    unknown = signature.sign(body, 4242, ec.generate_private_key(ec.SECP256R1()))
    answer = await google.service.post(
        "/google-health/webhook",
        content=body,
        headers={**headers, "x-healthapi-signature": unknown},
    )
    assert answer.status_code == 401
    assert (await google.emulator.google.counters()).keyset_fetches == fetched + 1
    # The keys fetched before the outage still verify Google's pushes.
    await _steps(google, 10)
    await google.deliver()
    assert await _count(google.engine, Notification) == 2


async def test_an_array_of_items_is_recorded_and_coalesced_per_key(
    google: GoogleStack, redis: Redis
) -> None:
    await google.emulator.google.configure(batching="array")
    await google.create_subscriber()
    await google.emulator.google.issue_tokens(USER)
    start = dt.datetime.combine(DAY, dt.time(9), tzinfo=dt.UTC)
    for minutes in range(0, 50, 1):
        await google.emulator.google.notify(USER, "steps", start + dt.timedelta(minutes=minutes))
    await google.emulator.google.notify(USER, "weight", start, operation="DELETE")
    [delivery] = await google.emulator.google.flush()
    assert (delivery.status, len(delivery.items)) == (204, 51)
    async with google.engine.connect() as conn:
        requests = {r.collection: r for r in await conn.execute(select(SyncRequest))}
    assert set(requests) == {"activity-summary", "weight"}
    # One push, one transaction: each key is upserted once, its generation bumped once.
    assert (requests["activity-summary"].generation, requests["weight"].generation) == (1, 1)
    jobs = [job.decode() for job in await redis.zrange(QUEUE_NAME, 0, -1)]
    assert sorted(jobs) == sorted(
        SyncKey("google_health", USER, t, DAY).job_id() for t in ("activity-summary", "weight")
    )
    assert await _count(google.engine, Notification) == 51
