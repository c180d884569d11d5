"""`/fitbit/webhook` end to end: real HTTP, PostgreSQL and Redis.

Signatures here are computed with hmac directly, independently of the service's signer.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
from redis.asyncio import Redis
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from service import queue
from service.settings import Settings
from service.store.models import Notification, SyncRequest, SyncStatus
from tests.conftest import CLIENT_SECRET, SHARED, VERIFICATION_CODE

WEBHOOK = "/fitbit/webhook"
VECTOR = json.loads((SHARED / "fitbit/examples/strict/x-fitbit-signature-vector.json").read_text())
VECTOR_BODY = (SHARED / "fitbit/examples/strict" / VECTOR["body_file"]).read_bytes()


def fitbit_signature(body: bytes, secret: str = CLIENT_SECRET) -> str:
    digest = hmac.new(f"{secret}&".encode(), body, hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def item(**overrides: str) -> dict[str, str]:
    base = {
        "collectionType": "activities",
        "date": "2026-11-20",
        "ownerId": "228TQ4",
        "ownerType": "user",
        "subscriptionId": "228TQ4-activities",
    }
    return {**base, **overrides}


async def post_signed(api: httpx.AsyncClient, body: bytes, **headers: str) -> httpx.Response:
    all_headers = {
        "content-type": "application/json",
        "x-fitbit-signature": fitbit_signature(body),
        **headers,
    }
    return await api.post(WEBHOOK, content=body, headers=all_headers)


def encode(items: list[dict[str, Any]]) -> bytes:
    return json.dumps(items).encode()


async def count(engine: AsyncEngine, model: type[Notification] | type[SyncRequest]) -> int:
    async with engine.connect() as conn:
        return int(await conn.scalar(select(func.count()).select_from(model)) or 0)


async def sync_requests(engine: AsyncEngine) -> list[Any]:
    async with engine.connect() as conn:
        return list(await conn.execute(select(SyncRequest).order_by(SyncRequest.id)))


async def queued_jobs(redis: Redis) -> list[str]:
    return [job.decode() for job in await redis.zrange(queue.QUEUE_NAME, 0, -1)]


# -- verification ---------------------------------------------------------------------------


async def test_verification_accepts_the_configured_code(api: httpx.AsyncClient) -> None:
    response = await api.get(WEBHOOK, params={"verify": VERIFICATION_CODE})
    assert response.status_code == 204
    assert response.content == b""


@pytest.mark.parametrize(
    "query",
    [
        "",
        "verify=",
        "verify=wrong-code",
        f"verify={VERIFICATION_CODE}x",
        f"verify={VERIFICATION_CODE}&verify={VERIFICATION_CODE}",
        f"verify=wrong&verify={VERIFICATION_CODE}",
        f"Verify={VERIFICATION_CODE}",
    ],
)
async def test_verification_refuses_anything_else(api: httpx.AsyncClient, query: str) -> None:
    response = await api.get(f"{WEBHOOK}?{query}")
    assert response.status_code == 404


# -- signatures -----------------------------------------------------------------------------


def test_vector_matches_an_independent_hmac() -> None:
    assert VECTOR["client_secret"] == CLIENT_SECRET
    assert hashlib.sha256(VECTOR_BODY).hexdigest() == VECTOR["body_sha256"]
    assert fitbit_signature(VECTOR_BODY) == VECTOR["expected_x_fitbit_signature"]


async def test_vector_body_is_accepted_and_recorded(
    api: httpx.AsyncClient, db: AsyncEngine
) -> None:
    response = await api.post(
        WEBHOOK,
        content=VECTOR_BODY,
        headers={
            "content-type": "application/json",
            "x-fitbit-signature": VECTOR["expected_x_fitbit_signature"],
        },
    )
    assert response.status_code == 204
    assert await count(db, Notification) == len(json.loads(VECTOR_BODY))


@pytest.mark.parametrize(
    "body",
    [
        # Non-ASCII in a field: the signature covers the UTF-8 bytes as sent.
        json.dumps(
            [item(ownerId="ÜSER1", subscriptionId="sübscription")], ensure_ascii=False
        ).encode(),
        # Insignificant whitespace must not be normalised away before checking.
        b'[\n  {"collectionType" : "sleep",\t"date":"2026-11-19", "ownerId":"ABC",'
        b' "ownerType":"user", "subscriptionId":"ABC-sleep"}\r\n]\n',
    ],
    ids=["non-ascii", "whitespace"],
)
async def test_signature_covers_the_raw_bytes(
    api: httpx.AsyncClient, db: AsyncEngine, body: bytes
) -> None:
    assert (await post_signed(api, body)).status_code == 204
    assert await count(db, Notification) == 1
    reserialised = json.dumps(json.loads(body)).encode()
    assert reserialised != body
    response = await api.post(
        WEBHOOK,
        content=reserialised,
        headers={"content-type": "application/json", "x-fitbit-signature": fitbit_signature(body)},
    )
    assert response.status_code == 404


@pytest.mark.parametrize(
    ("signature", "reason"),
    [
        (None, "missing"),
        ("", "missing"),
        ("not base64!", "malformed"),
        (base64.b64encode(b"x" * 20).decode(), "mismatch"),
        ("WRONG", "malformed"),
    ],
)
async def test_bad_signature_is_404_and_logged_without_secrets(
    api: httpx.AsyncClient,
    db: AsyncEngine,
    caplog: pytest.LogCaptureFixture,
    signature: str | None,
    reason: str,
) -> None:
    body = encode([item()])
    headers = {"content-type": "application/json"}
    if signature is not None:
        headers["x-fitbit-signature"] = signature
    with caplog.at_level(logging.INFO):
        response = await api.post(WEBHOOK, content=body, headers=headers)
    assert response.status_code == 404
    assert await count(db, Notification) == 0
    assert f"signature {reason}" in caplog.text
    assert CLIENT_SECRET not in caplog.text
    assert fitbit_signature(body) not in caplog.text


async def test_signature_with_another_secret_is_refused(api: httpx.AsyncClient) -> None:
    body = encode([item()])
    headers = {
        "content-type": "application/json",
        "x-fitbit-signature": fitbit_signature(body, "another-secret"),
    }
    assert (await api.post(WEBHOOK, content=body, headers=headers)).status_code == 404


# -- bad input ------------------------------------------------------------------------------


async def test_body_over_one_mebibyte_is_413(api: httpx.AsyncClient, db: AsyncEngine) -> None:
    body = b"[" + b" " * (1024 * 1024) + b"]"
    response = await post_signed(api, body)
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "body_too_large"


async def test_streamed_body_over_the_limit_is_413(api: httpx.AsyncClient) -> None:
    def chunks() -> Iterator[bytes]:
        yield b"["
        for _ in range(2048):
            yield b" " * 1024
        yield b"]"

    async def stream() -> AsyncIterator[bytes]:
        for chunk in chunks():
            yield chunk

    headers = {"content-type": "application/json", "x-fitbit-signature": "AAAA"}
    response = await api.post(WEBHOOK, content=stream(), headers=headers)
    assert "content-length" not in response.request.headers
    assert response.status_code == 413


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", ""])
async def test_content_type_other_than_json_is_415(
    api: httpx.AsyncClient, content_type: str
) -> None:
    body = encode([item()])
    response = await post_signed(api, body, **{"content-type": content_type})
    assert response.status_code == 415
    assert response.json()["error"]["code"] == "unsupported_media_type"


async def test_json_with_charset_is_accepted(api: httpx.AsyncClient) -> None:
    body = encode([item()])
    response = await post_signed(api, body, **{"content-type": "application/json; charset=utf-8"})
    assert response.status_code == 204


def _without(field: str) -> dict[str, str]:
    broken = item()
    del broken[field]
    return broken


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        (b"{not json", "not JSON"),
        (b"\xff\xfe", "not JSON"),
        (encode(item()), "JSON array"),  # type: ignore[arg-type]
        (b'"text"', "JSON array"),
        (encode(["text"]), "not an object"),  # type: ignore[list-item]
        (encode([_without("collectionType")]), "collectionType"),
        (encode([_without("date")]), "date"),
        (encode([_without("ownerId")]), "ownerId"),
        (encode([_without("ownerType")]), "ownerType"),
        (encode([_without("subscriptionId")]), "subscriptionId"),
        (encode([item(ownerId=1)]), "ownerId"),  # type: ignore[arg-type]
        (encode([item(date="2026-13-01")]), "YYYY-MM-DD"),
        (encode([item(date="20261101")]), "YYYY-MM-DD"),
        (encode([item(date="2026-11-1")]), "YYYY-MM-DD"),
        (encode([item(), item(ownerType="group")]), "item 1: ownerType"),
    ],
)
async def test_malformed_notification_is_400_and_nothing_is_stored(
    api: httpx.AsyncClient, db: AsyncEngine, body: bytes, detail: str
) -> None:
    response = await post_signed(api, body)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid_notification"
    assert detail in error["detail"]
    assert await count(db, Notification) == 0


# -- recording and queueing -----------------------------------------------------------------


async def test_batch_is_recorded_and_each_key_queued_once(
    api: httpx.AsyncClient, db: AsyncEngine, redis: Redis
) -> None:
    items = [
        item(),
        item(collectionType="sleep"),
        item(collectionType="sleep"),
        item(ownerId="OTHER"),
    ]
    assert (await post_signed(api, encode(items))).status_code == 204
    async with db.connect() as conn:
        rows = (await conn.execute(select(Notification).order_by(Notification.id))).all()
    assert [(r.owner_id, r.collection_type, str(r.date)) for r in rows] == [
        ("228TQ4", "activities", "2026-11-20"),
        ("228TQ4", "sleep", "2026-11-20"),
        ("228TQ4", "sleep", "2026-11-20"),
        ("OTHER", "activities", "2026-11-20"),
    ]
    assert rows[0].raw == items[0]
    assert rows[0].received_at is not None
    assert rows[0].subscription_id == "228TQ4-activities"
    assert sorted(await queued_jobs(redis)) == [
        "sync:fitbit:228TQ4:activities:2026-11-20",
        "sync:fitbit:228TQ4:sleep:2026-11-20",
        "sync:fitbit:OTHER:activities:2026-11-20",
    ]


async def test_unknown_collection_is_recorded_but_not_synced(
    api: httpx.AsyncClient, db: AsyncEngine, redis: Redis
) -> None:
    body = encode([item(collectionType="mindfulness"), item(collectionType="heartrate")])
    assert (await post_signed(api, body)).status_code == 204
    assert await count(db, Notification) == 2
    assert await count(db, SyncRequest) == 0
    assert await queued_jobs(redis) == []


async def test_account_events_are_queued_like_changes(
    api: httpx.AsyncClient, db: AsyncEngine, redis: Redis
) -> None:
    body = encode([item(collectionType="userRevokedAccess"), item(collectionType="deleteUser")])
    assert (await post_signed(api, body)).status_code == 204
    assert sorted(await queued_jobs(redis)) == [
        "sync:fitbit:228TQ4:account_deleted:2026-11-20",
        "sync:fitbit:228TQ4:account_revoked:2026-11-20",
    ]


async def test_hundred_identical_notifications_make_one_pending_job(
    api: httpx.AsyncClient, db: AsyncEngine, redis: Redis
) -> None:
    body = encode([item()])
    import asyncio

    responses = await asyncio.gather(*(post_signed(api, body) for _ in range(100)))
    assert {r.status_code for r in responses} == {204}
    assert await count(db, Notification) == 100
    [request] = await sync_requests(db)
    assert request.status is SyncStatus.PENDING
    assert 1 <= request.generation <= 100
    assert request.synced_generation == 0
    assert await queued_jobs(redis) == ["sync:fitbit:228TQ4:activities:2026-11-20"]


async def test_notification_for_a_pending_key_bumps_its_generation(
    api: httpx.AsyncClient, db: AsyncEngine, redis: Redis
) -> None:
    body = encode([item()])
    await post_signed(api, body)
    [first] = await sync_requests(db)
    await post_signed(api, body)
    [second] = await sync_requests(db)
    assert second.generation == first.generation + 1
    assert second.pending_since == first.pending_since
    assert len(await queued_jobs(redis)) == 1


async def test_queued_job_is_what_arq_would_have_queued(
    api: httpx.AsyncClient, redis: Redis, settings: Settings
) -> None:
    from arq.jobs import Job, JobStatus

    assert (await post_signed(api, encode([item()]))).status_code == 204
    job = Job("sync:fitbit:228TQ4:activities:2026-11-20", redis, _queue_name=queue.QUEUE_NAME)
    info = await job.info()
    assert info is not None
    assert info.function == "sync"
    assert info.args == ("fitbit", "228TQ4", "activities", "2026-11-20")
    # Debounced: the job waits SYNC_DEBOUNCE_SECONDS so a burst for the key costs one fetch.
    assert await job.status() is JobStatus.deferred
    debounce_ms = 1000 * settings.sync_debounce_seconds
    assert debounce_ms > 0
    score = await redis.zscore(queue.QUEUE_NAME, "sync:fitbit:228TQ4:activities:2026-11-20")
    assert abs(score - (info.enqueue_time.timestamp() * 1000 + debounce_ms)) < 2
    ttl = await redis.pttl("arq:job:sync:fitbit:228TQ4:activities:2026-11-20")
    assert 86_000_000 < ttl <= 86_400_000 + debounce_ms
