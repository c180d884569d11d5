"""Subscriptions with Fitbit's semantics: 201 created, 200 already there, 409 conflicts,
204 deleted, 404 unknown; ids up to 50 characters, unique across the app."""

from __future__ import annotations

import httpx
import pytest

from service.emulator.testing import EmulatorControl
from tests.emulator.emulator_support import (
    USER,
    BearerFactory,
    SchemaCheck,
    assert_shaped_like,
    example,
)


def path(subscription_id: str, collection: str | None = None) -> str:
    middle = f"{collection}/" if collection else ""
    return f"/1/user/-/{middle}apiSubscriptions/{subscription_id}.json"


async def test_create_answers_201_then_200_for_the_same_id_and_stream(
    fitbit: httpx.AsyncClient, bearer: BearerFactory, schema: SchemaCheck
) -> None:
    headers = await bearer()
    created = await fitbit.post(path("sub-1", "sleep"), headers=headers)
    assert created.status_code == 201
    schema(created.json(), "AddSubscriptionResponse")
    assert_shaped_like(created.json(), example("fitbit-dotnet/AddSubscriptionResponse.json"))
    assert created.json() == {
        "collectionType": "sleep",
        "ownerId": USER,
        "ownerType": "user",
        "subscriberId": "1",
        "subscriptionId": "sub-1",
    }
    again = await fitbit.post(path("sub-1", "sleep"), headers=headers)
    assert (again.status_code, again.json()) == (200, created.json())


@pytest.mark.parametrize(
    ("first", "second", "other_user"),
    [
        (("sub-1", "sleep"), ("sub-1", "foods"), False),  # the id names another stream
        (("sub-1", "sleep"), ("sub-2", "sleep"), False),  # another id covers the stream
        (("sub-1", None), ("sub-2", None), False),  # the same for "every collection"
        (("sub-1", "sleep"), ("sub-1", "sleep"), True),  # ids are unique across the app
    ],
)
async def test_conflicts_answer_409(
    fitbit: httpx.AsyncClient,
    bearer: BearerFactory,
    first: tuple[str, str | None],
    second: tuple[str, str | None],
    other_user: bool,
) -> None:
    headers = await bearer()
    assert (await fitbit.post(path(*first), headers=headers)).status_code == 201
    second_headers = await bearer("OTHER1") if other_user else headers
    conflict = await fitbit.post(path(*second), headers=second_headers)
    assert conflict.status_code == 409
    assert conflict.json()["success"] is False


async def test_every_collection_and_one_collection_are_different_streams(
    fitbit: httpx.AsyncClient, bearer: BearerFactory
) -> None:
    headers = await bearer()
    assert (await fitbit.post(path("all"), headers=headers)).status_code == 201
    assert (await fitbit.post(path("sleep-only", "sleep"), headers=headers)).status_code == 201


async def test_delete_answers_204_then_404(
    fitbit: httpx.AsyncClient, bearer: BearerFactory
) -> None:
    headers = await bearer()
    await fitbit.post(path("sub-1", "body"), headers=headers)
    assert (await fitbit.delete(path("sub-1", "foods"), headers=headers)).status_code == 404
    assert (await fitbit.delete(path("sub-1", "body"), headers=headers)).status_code == 204
    gone = await fitbit.delete(path("sub-1", "body"), headers=headers)
    assert gone.status_code == 404
    assert gone.json()["errors"][0]["errorType"] == "not_found"


async def test_list_shows_the_users_subscriptions_by_collection(
    fitbit: httpx.AsyncClient, bearer: BearerFactory, schema: SchemaCheck
) -> None:
    headers = await bearer()
    await fitbit.post(path("everything"), headers=headers)
    await fitbit.post(path("meals", "foods"), headers=headers)
    await fitbit.post(path("theirs", "foods"), headers=await bearer("OTHER1"))
    listed = (await fitbit.get("/1/user/-/apiSubscriptions.json", headers=headers)).json()
    schema(listed, "GetSubscriptionListResponse")
    assert_shaped_like(listed, example("strict/ListApiSubscriptionsResponseMultiple.json"))
    assert {(s["subscriptionId"], s["collectionType"]) for s in listed["apiSubscriptions"]} == {
        ("everything", "user"),
        ("meals", "foods"),
    }
    foods = (await fitbit.get("/1/user/-/foods/apiSubscriptions.json", headers=headers)).json()
    assert [s["subscriptionId"] for s in foods["apiSubscriptions"]] == ["meals"]


async def test_ids_longer_than_50_characters_are_refused(
    fitbit: httpx.AsyncClient, bearer: BearerFactory
) -> None:
    headers = await bearer()
    assert (await fitbit.post(path("x" * 50), headers=headers)).status_code == 201
    assert (await fitbit.post(path("y" * 51, "sleep"), headers=headers)).status_code == 400


async def test_the_subscriber_id_header_must_name_the_configured_subscriber(
    fitbit: httpx.AsyncClient, bearer: BearerFactory, control: EmulatorControl
) -> None:
    await control.configure(subscriber_id="7")
    headers = await bearer()
    wrong = await fitbit.post(path("s"), headers=headers | {"X-Fitbit-Subscriber-Id": "1"})
    assert wrong.status_code == 400
    right = await fitbit.post(path("s"), headers=headers | {"X-Fitbit-Subscriber-Id": "7"})
    assert (right.status_code, right.json()["subscriberId"]) == (201, "7")


@pytest.mark.parametrize(
    ("collection", "scope"),
    [("activities", "activity"), ("body", "weight"), ("foods", "nutrition"), ("sleep", "sleep")],
)
async def test_a_collections_subscription_needs_its_scope(
    fitbit: httpx.AsyncClient, bearer: BearerFactory, collection: str, scope: str
) -> None:
    without = await bearer(scopes=["profile"])
    refused = await fitbit.post(path("s", collection), headers=without)
    assert refused.status_code == 403
    assert refused.json()["errors"][0]["errorType"] == "insufficient_scope"
    allowed = await fitbit.post(path("s", collection), headers=await bearer(scopes=[scope]))
    assert allowed.status_code == 201


async def test_unknown_collections_are_not_found(
    fitbit: httpx.AsyncClient, bearer: BearerFactory
) -> None:
    response = await fitbit.post(path("s", "heartrate"), headers=await bearer())
    assert response.status_code == 404


async def test_the_collection_comes_from_the_path_only(
    fitbit: httpx.AsyncClient, bearer: BearerFactory
) -> None:
    response = await fitbit.post(path("s") + "?collection=sleep", headers=await bearer())
    assert response.json()["collectionType"] == "user"
