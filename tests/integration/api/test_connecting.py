"""Connecting and managing a person through the API only, against the emulated Fitbit:
`POST /v1/connections`, consent, subscriptions added and removed, disconnect, account events."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from service.api import scopes
from tests.integration.api.conftest import NewClient, get_token, jsonapi_client
from tests.integration.api.writing import connect, error, send
from tests.integration.conftest import Stack

ALL = ["activities", "body", "foods", "sleep"]


@pytest.fixture
async def client(stack: Stack, new_client: NewClient) -> AsyncIterator[httpx.AsyncClient]:
    """A downstream service with both scopes, talking to the service beside the emulator."""
    credentials = await new_client(scopes.READ, scopes.SUBSCRIPTIONS_WRITE)
    token = await get_token(stack.service, credentials)
    async with jsonapi_client(stack.service, token) as client:
        yield client


async def _connected(client: httpx.AsyncClient, fitbit_user: str, asked: list[str]) -> int:
    answer = await connect(client, f"ref-{fitbit_user}", fitbit_user, asked)
    assert answer.status_code == 200, answer.text
    return int(answer.json()["user_id"])


async def _at_fitbit(stack: Stack, fitbit_user: str) -> set[tuple[str | None, str]]:
    return {
        (s.collection, s.subscription_id)
        for s in await stack.emulator.subscriptions()
        if s.owner_id == fitbit_user
    }


async def _listed(client: httpx.AsyncClient, user_id: int) -> list[str]:
    answer = await client.get(f"/v1/users/{user_id}/subscriptions", params={"sort": "collection"})
    assert answer.status_code == 200, answer.text
    return [item["attributes"]["collection"] for item in answer.json()["data"]]


async def _events(client: httpx.AsyncClient, **filters: str) -> list[dict[str, Any]]:
    params = {f"filter[{name}]": value for name, value in filters.items()}
    answer = await client.get("/v1/account-events", params=params)
    assert answer.status_code == 200, answer.text
    data: list[dict[str, Any]] = answer.json()["data"]
    return data


async def test_connection_answers_a_consent_url_for_the_user_ref(
    client: httpx.AsyncClient, stack: Stack
) -> None:
    document = {"data": {"type": "connections", "attributes": {"user_ref": "ref-1"}}}
    answer = await send(client, "POST", "/v1/connections", document)
    assert answer.status_code == 201, answer.text
    data = answer.json()["data"]
    assert data["type"] == "connections"
    attributes = data["attributes"]
    assert attributes["authorization_url"].startswith(stack.settings.fitbit_authorize_url + "?")
    assert "code_challenge_method=S256" in attributes["authorization_url"]
    assert (attributes["user_ref"], attributes["provider"]) == ("ref-1", "fitbit")
    assert attributes["scopes"] == stack.settings.fitbit_scopes.split()
    left = dt.datetime.fromisoformat(attributes["expires_at"]) - dt.datetime.now(dt.UTC)
    assert dt.timedelta(minutes=9) < left <= dt.timedelta(minutes=10)


async def test_connect_manage_and_disconnect_through_the_api(
    client: httpx.AsyncClient, stack: Stack
) -> None:
    user_id = await _connected(client, "API001", ["activity", "sleep", "weight"])
    expected = {(c, f"{user_id}-{c}") for c in ("activities", "body", "sleep")}
    assert await _at_fitbit(stack, "API001") == expected
    assert await _listed(client, user_id) == ["activities", "body", "sleep"]

    path = f"/v1/users/{user_id}/subscriptions"
    for _ in range(2):  # removing is idempotent
        removed = await client.delete(f"{path}/sleep")
        assert removed.status_code == 204, removed.text
    assert await _at_fitbit(stack, "API001") == expected - {("sleep", f"{user_id}-sleep")}
    assert await _listed(client, user_id) == ["activities", "body"]

    added = await client.put(f"{path}/sleep")
    assert added.status_code == 201, added.text
    assert added.json()["data"]["attributes"]["subscription_id"] == f"{user_id}-sleep"
    assert added.json()["data"]["relationships"]["user"]["data"]["id"] == str(user_id)
    again = await client.post(f"{path}/sleep")  # Fitbit's 200: already subscribed
    assert again.status_code == 200, again.text
    assert again.json()["data"]["id"] == added.json()["data"]["id"]
    assert await _at_fitbit(stack, "API001") == expected

    every = await send(client, "POST", path)
    assert every.status_code == 200, every.text
    assert every.json()["meta"]["outcomes"] == {
        "activities": "already_subscribed",
        "body": "already_subscribed",
        "sleep": "already_subscribed",
    }
    assert [item["attributes"]["collection"] for item in every.json()["data"]] == [
        "activities",
        "body",
        "sleep",
    ]

    refused = await client.put(f"{path}/foods")  # nutrition was not asked for
    assert refused.status_code == 409
    assert error(refused)["code"] == "ScopeNotGranted"
    assert "nutrition" in error(refused)["detail"]

    await stack.emulator.reset_counters()
    for _ in range(2):  # disconnecting again changes nothing
        gone = await client.delete(f"/v1/users/{user_id}")
        assert gone.status_code == 204, gone.text
    assert await _at_fitbit(stack, "API001") == set()
    calls = (await stack.emulator.counters()).calls_by_endpoint
    assert calls["POST /oauth2/revoke"] == 1
    assert (await stack.emulator.user("API001")).granted_scopes == []

    user = (await client.get(f"/v1/users/{user_id}")).json()["data"]
    assert user["attributes"]["status"] == "disconnected"
    assert await _listed(client, user_id) == []
    resubscribe = await client.put(f"{path}/sleep")
    assert resubscribe.status_code == 409
    assert error(resubscribe)["code"] == "UserDisconnected"
    assert "disconnected" in error(resubscribe)["detail"]
    kinds = [e["attributes"]["kind"] for e in await _events(client, user=str(user_id))]
    assert kinds == ["connected", "disconnected"]


async def test_subscribing_every_granted_collection_restores_the_missing(
    client: httpx.AsyncClient, stack: Stack
) -> None:
    user_id = await _connected(client, "API002", ["activity", "sleep", "nutrition", "profile"])
    path = f"/v1/users/{user_id}/subscriptions"
    for collection in ("foods", "sleep"):
        assert (await client.delete(f"{path}/{collection}")).status_code == 204
    answer = await send(client, "POST", path, {"data": {"type": "subscriptions"}})
    assert answer.status_code == 201, answer.text
    assert answer.json()["meta"]["outcomes"] == {
        "activities": "already_subscribed",
        "foods": "created",
        "sleep": "created",
    }
    assert {c for c, _ in await _at_fitbit(stack, "API002")} == {"activities", "foods", "sleep"}
    one = {"data": {"type": "subscriptions", "attributes": {"collection": "body"}}}
    refused = await send(client, "POST", path, one)  # weight was not asked for
    assert refused.status_code == 409
    assert error(refused)["code"] == "ScopeNotGranted"


async def test_fitbit_refusing_a_subscription_is_a_conflict(
    client: httpx.AsyncClient, stack: Stack
) -> None:
    user_id = await _connected(client, "API003", ["activity", "sleep"])
    path = f"/v1/users/{user_id}/subscriptions"
    assert (await client.delete(f"{path}/sleep")).status_code == 204
    # Another app server of ours (or an old id) holds this person's sleep stream at Fitbit.
    tokens = await stack.emulator.issue_tokens("API003", scopes=["activity", "sleep"])
    async with httpx.AsyncClient(base_url=stack.settings.fitbit_api_url) as other:
        taken = await other.post(
            "/1/user/-/sleep/apiSubscriptions/someone-else.json",
            headers={"Authorization": f"Bearer {tokens.access_token}"},
        )
    assert taken.status_code == 201, taken.text

    refused = await client.put(f"{path}/sleep")
    assert refused.status_code == 409
    problem = error(refused)
    assert problem["code"] == "SubscriptionConflict"
    assert f"{user_id}-sleep" in problem["detail"]
    every = await send(client, "POST", path)
    assert every.status_code == 409
    assert error(every)["code"] == "SubscriptionConflict"
    assert "sleep" in error(every)["detail"]
    assert await _listed(client, user_id) == ["activities"]


async def test_fitbit_down_is_a_503_not_a_500(client: httpx.AsyncClient, stack: Stack) -> None:
    user_id = await _connected(client, "API004", ["activity"])
    await stack.emulator.set_faults(error_rate=1, error_status=500, path_prefix="/1/user")
    path = f"/v1/users/{user_id}/subscriptions/activities"
    for answer in (await client.delete(path), await client.put(path)):
        assert answer.status_code == 503, answer.text
        assert error(answer)["code"] == "ProviderUnavailable"
    await stack.emulator.clear_faults()
    assert (await client.put(path)).status_code == 200


async def test_a_revoke_at_fitbit_shows_as_an_account_event(
    client: httpx.AsyncClient, stack: Stack
) -> None:
    user_id = await _connected(client, "API005", ["activity", "sleep"])
    await stack.emulator.revoke_user("API005")
    deliveries = await stack.emulator.flush()
    assert deliveries
    assert {d.status for d in deliveries} == {204}
    await stack.run_worker()

    (revoked,) = await _events(client, kind="account_revoked")
    assert revoked["attributes"]["user_ref"] == "ref-API005"
    assert revoked["relationships"]["user"]["data"] == {"type": "users", "id": str(user_id)}
    user = (await client.get(revoked["relationships"]["user"]["links"]["related"])).json()
    assert user["data"]["attributes"]["status"] == "disconnected"
    answer = await client.put(f"/v1/users/{user_id}/subscriptions/sleep")
    assert answer.status_code == 409
    assert error(answer)["code"] == "UserDisconnected"


async def test_account_events_page_both_ways(client: httpx.AsyncClient, stack: Stack) -> None:
    first = await _connected(client, "API006", ["activity"])
    await _connected(client, "API007", ["activity"])
    assert (await client.delete(f"/v1/users/{first}")).status_code == 204
    assert (await connect(client, "ref-API006", "API006", ["activity"])).status_code == 200
    await stack.emulator.put_user("API009", deny_consent=True)
    assert (await connect(client, "ref-no", "API009", ["activity"])).status_code == 403

    everything = await _events(client)
    kinds = [e["attributes"]["kind"] for e in everything]
    assert kinds == [
        "connected",
        "connected",
        "disconnected",
        "reconnected",
        "consent_denied",
    ]
    assert everything[-1]["attributes"]["user_ref"] == "ref-no"
    assert everything[-1]["relationships"]["user"]["data"] is None

    walked: list[str] = []
    url: str | None = "/v1/account-events?page[limit]=2&sort=-id"
    while url:
        page = (await client.get(url)).json()
        assert page["meta"]["count"] == 5
        walked += [e["id"] for e in page["data"]]
        url = page["links"].get("next")
    assert walked == [e["id"] for e in reversed(everything)]

    skip = (
        await client.get("/v1/account-events", params={"page[size]": 3, "page[number]": 2})
    ).json()
    assert [e["id"] for e in skip["data"]] == [e["id"] for e in everything[3:]]
    assert skip["links"]["next"] is None
    mine = await _events(client, user=str(first), kind="connected,reconnected")
    assert [e["attributes"]["kind"] for e in mine] == ["connected", "reconnected"]
