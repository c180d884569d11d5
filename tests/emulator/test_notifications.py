"""Signed notification pushes to a real subscriber, Fitbit's verification handshake, and the
notifications for revoked and deleted users."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import socket
from collections.abc import Iterator

import httpx
import pytest

from service.emulator.testing import EmulatorControl
from tests.emulator.emulator_support import (
    CLIENT_SECRET,
    USER,
    YESTERDAY,
    BearerFactory,
    Receiver,
    assert_shaped_like,
    example,
)


def expected_signature(body: bytes, secret: str = CLIENT_SECRET) -> str:
    digest = hmac.new(f"{secret}&".encode(), body, hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


async def subscribe(
    fitbit: httpx.AsyncClient, headers: dict[str, str], sub_id: str, collection: str | None
) -> None:
    middle = f"{collection}/" if collection else ""
    response = await fitbit.post(
        f"/1/user/-/{middle}apiSubscriptions/{sub_id}.json", headers=headers
    )
    assert response.status_code == 201


async def test_a_change_pushes_a_signed_notification_array(
    fitbit: httpx.AsyncClient, control: EmulatorControl, bearer: BearerFactory, receiver: Receiver
) -> None:
    await subscribe(fitbit, await bearer(), "sleep-1", "sleep")
    await control.add_log(USER, "sleep", YESTERDAY)
    deliveries = await control.flush()
    assert [d.status for d in deliveries] == [204]
    [got] = receiver.received
    assert got.headers["content-type"] == "application/json"
    assert hmac.compare_digest(got.headers["x-fitbit-signature"], expected_signature(got.body))
    items = json.loads(got.body)
    assert items == [
        {
            "collectionType": "sleep",
            "date": YESTERDAY,
            "ownerId": USER,
            "ownerType": "user",
            "subscriptionId": "sleep-1",
        }
    ]
    assert_shaped_like(items, example("strict/ApiSubscriptionNotification.json"))
    counters = await control.counters()
    assert (counters.notification_posts, counters.notification_items) == (1, 1)
    assert counters.notification_responses == {"204": 1}


async def test_the_signature_follows_the_configured_client_secret(
    fitbit: httpx.AsyncClient, control: EmulatorControl, bearer: BearerFactory, receiver: Receiver
) -> None:
    await subscribe(fitbit, await bearer(), "all", None)
    await control.configure(client_secret="rotated-secret")
    await control.add_log(USER, "water", YESTERDAY)
    await control.flush()
    [got] = receiver.received
    assert got.headers["x-fitbit-signature"] == expected_signature(got.body, "rotated-secret")
    assert got.headers["x-fitbit-signature"] != expected_signature(got.body)


@pytest.mark.parametrize(
    ("resource", "collection"),
    [
        ("activities", "activities"),
        ("weight", "body"),
        ("fat", "body"),
        ("foods", "foods"),
        ("water", "foods"),
    ],
)
async def test_only_subscriptions_covering_the_collection_are_notified(
    fitbit: httpx.AsyncClient,
    control: EmulatorControl,
    bearer: BearerFactory,
    receiver: Receiver,
    resource: str,
    collection: str,
) -> None:
    await subscribe(fitbit, await bearer(), "sleep-only", "sleep")
    await control.add_log(USER, resource, YESTERDAY)
    assert await control.flush() == []
    await subscribe(fitbit, await bearer(), "mine", collection)
    await control.add_log(USER, resource, YESTERDAY)
    await control.flush()
    assert [(n["collectionType"], n["subscriptionId"]) for n in receiver.notifications()] == [
        (collection, "mine")
    ]


async def test_without_any_subscription_nothing_is_sent(
    control: EmulatorControl, receiver: Receiver
) -> None:
    await control.put_user(USER)
    await control.add_log(USER, "sleep", YESTERDAY)
    assert await control.flush() == []
    assert receiver.received == []


async def test_every_collection_plus_one_collection_means_duplicates(
    fitbit: httpx.AsyncClient, control: EmulatorControl, bearer: BearerFactory, receiver: Receiver
) -> None:
    headers = await bearer()
    await subscribe(fitbit, headers, "everything", None)
    await subscribe(fitbit, headers, "just-foods", "foods")
    await control.add_log(USER, "foods", YESTERDAY)
    await control.flush()
    assert sorted(n["subscriptionId"] for n in receiver.notifications()) == [
        "everything",
        "just-foods",
    ]


async def test_changes_are_batched_into_one_post_up_to_the_batch_size(
    fitbit: httpx.AsyncClient, control: EmulatorControl, bearer: BearerFactory, receiver: Receiver
) -> None:
    await subscribe(fitbit, await bearer(), "all", None)
    for day in ("2024-03-01", "2024-03-02", "2024-03-03"):
        await control.add_log(USER, "weight", day)
    assert len((await control.notifications()).pending) == 3
    await control.flush()
    assert [len(json.loads(got.body)) for got in receiver.received] == [3]
    assert [n["date"] for n in receiver.notifications()] == [
        "2024-03-01",
        "2024-03-02",
        "2024-03-03",
    ]

    await control.configure(batch_max_items=2)
    for day in ("2024-03-04", "2024-03-05", "2024-03-06"):
        await control.add_log(USER, "fat", day)
    deliveries = await control.flush()
    assert [len(d.notifications) for d in deliveries] == [2, 1]


async def test_with_a_batching_window_pushes_go_out_by_themselves(
    fitbit: httpx.AsyncClient, control: EmulatorControl, bearer: BearerFactory, receiver: Receiver
) -> None:
    await subscribe(fitbit, await bearer(), "all", None)
    await control.configure(batch_window_ms=300)
    await control.add_log(USER, "sleep", "2024-03-08")
    await control.add_log(USER, "sleep", "2024-03-09")
    assert await asyncio.to_thread(receiver.arrived.wait, 10)
    assert [len(json.loads(got.body)) for got in receiver.received] == [2]


async def test_a_silent_change_sends_nothing(
    fitbit: httpx.AsyncClient, control: EmulatorControl, bearer: BearerFactory
) -> None:
    await subscribe(fitbit, await bearer(), "all", None)
    await control.add_log(USER, "sleep", YESTERDAY, notify=False)
    assert (await control.notifications()).pending == []


async def test_duplicates_can_be_sent_on_demand(
    fitbit: httpx.AsyncClient, control: EmulatorControl, bearer: BearerFactory, receiver: Receiver
) -> None:
    await subscribe(fitbit, await bearer(), "all", None)
    await control.notify(USER, "sleep", YESTERDAY)
    await control.notify(USER, "sleep", YESTERDAY)
    await control.flush()
    [first, second] = receiver.notifications()
    assert first == second


async def test_collections_the_user_did_not_grant_are_not_notified(
    fitbit: httpx.AsyncClient, control: EmulatorControl, bearer: BearerFactory, receiver: Receiver
) -> None:
    await subscribe(fitbit, await bearer(scopes=["sleep"]), "all", None)
    await control.add_log(USER, "activities", YESTERDAY)
    await control.add_log(USER, "sleep", YESTERDAY)
    await control.flush()
    assert [n["collectionType"] for n in receiver.notifications()] == ["sleep"]


@pytest.mark.parametrize(
    ("action", "collection"), [("revoke", "userRevokedAccess"), ("delete", "deleteUser")]
)
async def test_a_user_who_leaves_is_announced_and_their_tokens_die(
    fitbit: httpx.AsyncClient,
    control: EmulatorControl,
    bearer: BearerFactory,
    receiver: Receiver,
    action: str,
    collection: str,
) -> None:
    headers = await bearer()
    await subscribe(fitbit, headers, "all", None)
    view = await (control.revoke_user(USER) if action == "revoke" else control.delete_user(USER))
    assert view.subscriptions == []
    assert view.deleted is (action == "delete")
    await control.flush()
    assert receiver.notifications() == [
        {
            "collectionType": collection,
            "date": "2024-03-10",
            "ownerId": USER,
            "ownerType": "user",
            "subscriptionId": "all",
        }
    ]
    refused = await fitbit.get(f"/1.2/user/-/sleep/date/{YESTERDAY}.json", headers=headers)
    assert (refused.status_code, refused.json()["errors"][0]["errorType"]) == (401, "invalid_token")


async def test_the_subscribers_answers_are_recorded_and_counted(
    fitbit: httpx.AsyncClient, control: EmulatorControl, bearer: BearerFactory, receiver: Receiver
) -> None:
    await subscribe(fitbit, await bearer(), "all", None)
    receiver.status = 500
    await control.add_log(USER, "sleep", YESTERDAY)
    [delivery] = await control.flush()
    assert delivery.status == 500
    assert (await control.notifications()).deliveries == [delivery]
    assert (await control.counters()).notification_responses == {"500": 1}


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port that accepts connections and never answers: a subscriber that hangs."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield sock.getsockname()[1]


async def test_a_subscriber_that_does_not_answer_in_time_is_a_timeout(
    fitbit: httpx.AsyncClient, control: EmulatorControl, bearer: BearerFactory, silent_port: int
) -> None:
    await subscribe(fitbit, await bearer(), "all", None)
    await control.configure(
        subscriber_url=f"http://127.0.0.1:{silent_port}/hook", notification_timeout_seconds=0.2
    )
    await control.add_log(USER, "sleep", YESTERDAY)
    [delivery] = await control.flush()
    assert (delivery.status, delivery.error) == (None, "timeout")
    assert (await control.counters()).notification_responses == {"timeout": 1}


async def test_verification_sends_the_right_and_a_wrong_code(
    control: EmulatorControl, receiver: Receiver
) -> None:
    result = await control.verify_subscriber()
    assert result.verified
    assert (result.right.status, result.wrong.status) == (204, 404)
    assert result.wrong.code != result.right.code

    receiver.verification_code = "something-else"
    failed = (await control.configure(verify=True)).verification
    assert failed is not None
    assert not failed.verified
    assert (failed.right.status, failed.right.ok, failed.wrong.ok) == (404, False, True)


async def test_verification_reports_an_unreachable_subscriber(control: EmulatorControl) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed = sock.getsockname()[1]  # bound, never listening: connections are refused
        await control.configure(subscriber_url=f"http://127.0.0.1:{closed}/hook")
        result = await control.verify_subscriber()
    assert not result.verified
    assert result.right.status is None
    assert result.right.error is not None
    assert result.right.error.startswith("ConnectError")
