"""The Google Health subscriber protocol over real HTTP: the verification handshake run by
`subscribers.create`, AUTOMATIC and MANUAL notifications, their ECDSA P-256 signatures checked
independently against the served Tink keyset, key rotation and the keyset's failure modes."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from starlette.applications import Starlette
from starlette.routing import Route

from service.emulator.testing import EmulatorControl, serve_app
from tests.emulator.emulator_support import GOOGLE
from tests.emulator.google_support import SECRET, GoogleReceiver, key_id, verifies

USER = "g-hook-user"
DAY = "2024-03-09"
PROJECT = f"/v4/projects/{GOOGLE.project_number}/subscribers"
CLOUD = {"Authorization": f"Bearer {GOOGLE.cloud_token}"}


@pytest.fixture(scope="session")
def google_receiver() -> Iterator[GoogleReceiver]:
    receiver = GoogleReceiver()
    app = Starlette(routes=[Route("/google/webhook", receiver.webhook, methods=["POST"])])
    with serve_app(app) as url:
        receiver.url = f"{url}/google/webhook"
        yield receiver


@pytest.fixture
async def http(
    emulator_url: str, control: EmulatorControl, google_receiver: GoogleReceiver
) -> AsyncIterator[httpx.AsyncClient]:
    google_receiver.clear()
    await control.google.issue_tokens(USER)
    async with httpx.AsyncClient(base_url=emulator_url) as client:
        yield client


async def create(
    http: httpx.AsyncClient, url: str, configs: list[dict[str, object]] | None = None
) -> httpx.Response:
    body = {
        "endpointUri": url,
        "endpointAuthorization": {"secret": SECRET},
        "subscriberConfigs": configs
        or [{"dataTypes": ["steps", "sleep", "weight"], "subscriptionCreatePolicy": "AUTOMATIC"}],
    }
    return await http.post(
        PROJECT, params={"subscriberId": "our-endpoint"}, json=body, headers=CLOUD
    )


async def test_create_runs_the_handshake_and_answers_an_operation(
    http: httpx.AsyncClient, google_receiver: GoogleReceiver, control: EmulatorControl
) -> None:
    answer = await create(http, google_receiver.url)
    assert answer.status_code == 200
    operation = answer.json()
    assert operation["done"] is True
    subscriber = operation["response"]
    assert subscriber["name"] == f"projects/{GOOGLE.project_number}/subscribers/our-endpoint"
    assert subscriber["state"] == "ACTIVE"
    assert subscriber["endpointAuthorization"] == {"secretSet": True}
    with_secret, without = google_receiver.received
    assert json.loads(with_secret.body) == {"type": "verification"}
    assert with_secret.headers["authorization"] == SECRET
    assert "authorization" not in without.headers
    listed = (await http.get(PROJECT, headers=CLOUD)).json()
    assert [s["name"] for s in listed["subscribers"]] == [subscriber["name"]]
    assert (await control.google.counters()).verifications == {"passed": 1}


async def test_an_endpoint_that_accepts_anyone_is_refused(
    http: httpx.AsyncClient, google_receiver: GoogleReceiver
) -> None:
    google_receiver.lax = True
    answer = await create(http, google_receiver.url)
    assert answer.status_code == 400
    assert answer.json()["error"]["status"] == "FAILED_PRECONDITION"
    assert (await http.get(PROJECT, headers=CLOUD)).json()["subscribers"] == []


async def test_project_calls_need_the_cloud_credential_and_the_project_number(
    http: httpx.AsyncClient, control: EmulatorControl
) -> None:
    user_token = (await control.google.issue_tokens(USER)).access_token
    assert (
        await http.get(PROJECT, headers={"Authorization": f"Bearer {user_token}"})
    ).status_code == 403
    assert (
        await http.get("/v4/projects/my-project-id/subscribers", headers=CLOUD)
    ).status_code == 403
    assert (await http.get(PROJECT)).status_code == 401


async def test_a_change_pushes_a_signed_automatic_notification(
    http: httpx.AsyncClient, google_receiver: GoogleReceiver, control: EmulatorControl
) -> None:
    await create(http, google_receiver.url)
    await control.google.put_user(USER, timezone="Europe/Paris")
    added = await control.google.add_point(
        USER,
        "steps",
        DAY,
        start=dt.datetime(2024, 3, 9, 9, 0, tzinfo=dt.UTC),
        values={"count": "640"},
    )
    deliveries = await control.google.flush()
    assert [d.status for d in deliveries] == [204]
    [got] = google_receiver.notifications()
    assert got.headers["authorization"] == SECRET
    assert got.headers["content-type"] == "application/json"
    keyset = (await http.get(GOOGLE.keyset_path)).json()
    assert verifies(got.body, got.headers["x-healthapi-signature"], keyset)
    assert not verifies(got.body + b" ", got.headers["x-healthapi-signature"], keyset)
    data = json.loads(got.body)["data"]
    uuid.UUID(data["clientProvidedSubscriptionName"])
    assert data["healthUserId"] == USER
    assert (data["operation"], data["dataType"], data["version"]) == ("UPSERT", "steps", "1")
    [interval] = data["intervals"]
    assert interval["physicalTimeInterval"] == {
        "startTime": "2024-03-09T09:00:00Z",
        "endTime": "2024-03-09T09:15:00Z",
    }
    assert interval["civilIso8601TimeInterval"] == {
        "startTime": "2024-03-09T10:00:00",
        "endTime": "2024-03-09T10:15:00",
    }
    assert interval["civilDateTimeInterval"]["startDateTime"] == {
        "date": {"year": 2024, "month": 3, "day": 9},
        "time": {"hours": 10},
    }

    await control.google.delete_point(USER, "steps", DAY, added["id"])
    await control.google.flush()
    assert json.loads(google_receiver.notifications()[-1].body)["data"]["operation"] == "DELETE"


async def test_rotation_signs_with_a_new_key_and_the_keyset_can_lag_or_fail(
    http: httpx.AsyncClient, google_receiver: GoogleReceiver, control: EmulatorControl
) -> None:
    await create(http, google_receiver.url)
    old = (await control.google.keyset()).published["primaryKeyId"]
    await control.google.rotate_key()
    await control.google.set_keyset(mode="without_primary")
    await control.google.add_point(USER, "weight", DAY)
    await control.google.flush()
    [got] = google_receiver.notifications()
    header = got.headers["x-healthapi-signature"]
    stale = (await http.get(GOOGLE.keyset_path)).json()
    assert key_id(header) != old
    assert not verifies(got.body, header, stale)
    await control.google.set_keyset(mode="normal")
    fresh = (await http.get(GOOGLE.keyset_path)).json()
    assert {key["keyId"] for key in fresh["key"]} == {old, key_id(header)}
    assert verifies(got.body, header, fresh)
    await control.google.set_keyset(mode="fail", fail_status=503)
    assert (await http.get(GOOGLE.keyset_path)).status_code == 503
    assert (await control.google.counters()).keyset_fetches == 3


async def test_the_other_signature_header_name_and_arrays(
    http: httpx.AsyncClient, google_receiver: GoogleReceiver, control: EmulatorControl
) -> None:
    await create(http, google_receiver.url)
    await control.google.configure(signature_header="GOOGLE-HEALTH-API-SIGNATURE", batching="array")
    await control.google.add_point(USER, "steps", DAY)
    await control.google.add_point(USER, "sleep", DAY)
    await control.google.flush()
    [got] = google_receiver.notifications()
    items = json.loads(got.body)
    assert [item["data"]["dataType"] for item in items] == ["steps", "sleep"]
    keyset = (await http.get(GOOGLE.keyset_path)).json()
    assert verifies(got.body, got.headers["google-health-api-signature"], keyset)


async def test_manual_subscriptions_name_the_notification_and_select_the_users(
    http: httpx.AsyncClient, google_receiver: GoogleReceiver, control: EmulatorControl
) -> None:
    await create(
        http, google_receiver.url, [{"dataTypes": ["sleep"], "subscriptionCreatePolicy": "MANUAL"}]
    )
    await control.google.issue_tokens("g-other-user")
    base = f"{PROJECT}/our-endpoint/subscriptions"
    bare = await http.post(base, json={"user": USER, "dataTypes": ["sleep"]}, headers=CLOUD)
    assert bare.status_code == 400
    made = await http.post(
        base,
        params={"subscriptionId": "sleep-of-user"},
        json={"user": f"users/{USER}", "dataTypes": ["sleep"]},
        headers=CLOUD,
    )
    assert made.status_code == 200
    assert made.json()["user"] == f"users/{USER}"
    await control.google.add_point(USER, "sleep", DAY)
    await control.google.add_point("g-other-user", "sleep", DAY)
    await control.google.add_point(USER, "steps", DAY)
    await control.google.flush()
    [got] = google_receiver.notifications()
    data = json.loads(got.body)["data"]
    assert (data["clientProvidedSubscriptionName"], data["healthUserId"]) == ("sleep-of-user", USER)
    listed = await http.get(base, params={"filter": f'user = "users/{USER}"'}, headers=CLOUD)
    assert [s["name"].rsplit("/", 1)[-1] for s in listed.json()["subscriptions"]] == [
        "sleep-of-user"
    ]
    assert (await http.delete(f"{base}/sleep-of-user", headers=CLOUD)).json() == {}


async def test_a_failed_delivery_is_retried_once_due(
    http: httpx.AsyncClient, google_receiver: GoogleReceiver, control: EmulatorControl
) -> None:
    await create(http, google_receiver.url)
    google_receiver.status = 500
    await control.google.add_point(USER, "weight", DAY)
    assert [d.status for d in await control.google.flush()] == [500]
    assert await control.google.flush() == []
    google_receiver.status = 204
    await control.advance_clock(30)
    retried = await control.google.flush()
    assert [(d.status, d.attempt) for d in retried] == [(204, 2)]
    assert (await control.google.counters()).notification_responses == {"500": 1, "204": 1}
