"""The first resources: users, subscriptions, notifications and sync requests."""

from __future__ import annotations

import datetime as dt

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine

from service.store.models import SyncStatus, UserStatus
from tests.integration.api import rows


def ids(document: dict[str, object]) -> list[int]:
    data = document["data"]
    assert isinstance(data, list)
    return [int(item["id"]) for item in data]


async def test_users_show_accounts_and_subscriptions_but_never_tokens(
    v1: httpx.AsyncClient, db: AsyncEngine
) -> None:
    user_id = await rows.user(
        db, "228TQ4", user_ref="ref-1", timezone="Europe/Berlin", utc_offset_ms=3_600_000
    )
    await rows.subscriptions(db, "228TQ4", ["activities", "sleep"])
    answer = await v1.get(f"/v1/users/{user_id}")
    assert "SECRET" not in answer.text
    user = answer.json()["data"]
    attributes = user["attributes"]
    assert attributes["user_ref"] == "ref-1"
    assert (attributes["status"], attributes["providers"]) == ("active", ["fitbit"])
    assert (attributes["timezone"], attributes["utc_offset_ms"]) == ("Europe/Berlin", 3_600_000)
    (account,) = attributes["accounts"]
    assert set(account) == {"provider", "external_id", "scopes", "created_at"}
    assert account["external_id"] == "228TQ4"
    dt.datetime.fromisoformat(attributes["created_at"])

    subscriptions = user["relationships"]["subscriptions"]
    assert [item["type"] for item in subscriptions["data"]] == ["subscriptions"] * 2
    related = (await v1.get(subscriptions["links"]["related"])).json()
    assert ids(related) == [int(item["id"]) for item in subscriptions["data"]]
    assert {item["attributes"]["collection"] for item in related["data"]} == {"activities", "sleep"}
    back = related["data"][0]["relationships"]["user"]
    assert back["data"] == {"type": "users", "id": str(user_id)}
    assert (await v1.get(back["links"]["related"])).json()["data"]["id"] == str(user_id)


async def test_users_filter_and_sort(v1: httpx.AsyncClient, db: AsyncEngine) -> None:
    a = await rows.user(db, "AAAAAA", user_ref="a")
    b = await rows.user(db, "BBBBBB", user_ref="b", status=UserStatus.REAUTH_REQUIRED)
    c = await rows.user(db, "CCCCCC", user_ref="c", status=UserStatus.DISCONNECTED)
    cases = {
        "filter[status]=reauth_required,disconnected": [b, c],
        "filter[owner]=AAAAAA,CCCCCC": [a, c],
        "filter[provider]=fitbit&sort=-user_ref": [c, b, a],
        "filter[provider]=google-health": [],
        "filter[user_ref]=b": [b],
        "sort=status,-id": [a, b, c],
    }
    for query, expected in cases.items():
        assert ids((await v1.get(f"/v1/users?{query}")).json()) == expected, query


async def test_users_without_subscriptions_have_empty_linkage(
    v1: httpx.AsyncClient, db: AsyncEngine
) -> None:
    await rows.user(db, "228TQ4")
    (user,) = (await v1.get("/v1/users")).json()["data"]
    assert user["relationships"]["subscriptions"]["data"] == []
    assert user["attributes"]["user_ref"] is None


async def test_notifications_filter_by_our_user_or_the_providers(
    v1: httpx.AsyncClient, db: AsyncEngine
) -> None:
    user_id = await rows.user(db, "228TQ4")
    late = rows.T0 + dt.timedelta(hours=2)
    mine, sleep, stranger = await rows.notifications(
        db,
        [
            rows.notification("228TQ4"),
            rows.notification(
                "228TQ4", collection_type="sleep", received_at=late, date=dt.date(2026, 11, 21)
            ),
            rows.notification("UNKNWN"),
        ],
    )
    cases = {
        f"filter[user]={user_id}": [mine, sleep],
        "filter[owner]=UNKNWN": [stranger],
        "filter[collection]=sleep": [sleep],
        "filter[date][gte]=2026-11-21": [sleep],
        "filter[date][lte]=2026-11-20&filter[owner]=228TQ4": [mine],
        "filter[received_at][gt]=2026-11-21T09:00:00Z": [sleep],
        "filter[received_at][lt]=2026-11-21T09:00:00%2B01:00": [],
        "sort=-received_at,id": [sleep, mine, stranger],
    }
    for query, expected in cases.items():
        assert ids((await v1.get(f"/v1/notifications?{query}")).json()) == expected, query

    document = (await v1.get(f"/v1/notifications/{mine}")).json()["data"]
    assert document["attributes"]["collection"] == "activities"
    assert document["attributes"]["raw"] == {"collectionType": "activities", "ownerId": "228TQ4"}
    assert document["attributes"]["date"] == "2026-11-20"
    assert document["relationships"]["user"]["data"] == {"type": "users", "id": str(user_id)}
    orphan = (await v1.get(f"/v1/notifications/{stranger}")).json()["data"]
    assert orphan["relationships"]["user"] == {"data": None}


async def test_sync_requests_show_status_and_the_last_error(
    v1: httpx.AsyncClient, db: AsyncEngine
) -> None:
    user_id = await rows.user(db, "228TQ4")
    pending = await rows.sync_request(db)
    failed = await rows.sync_request(
        db,
        collection="sleep",
        status=SyncStatus.FAILED,
        attempts=5,
        last_error="fitbit answered 500",
        date=dt.date(2026, 11, 18),
    )
    synced = await rows.sync_request(
        db,
        "OTHER1",
        status=SyncStatus.SYNCED,
        synced_generation=1,
        synced_at=rows.T0,
        pending_since=None,
    )
    cases = {
        "filter[status]=failed": [failed],
        "filter[status]=pending,synced": [pending, synced],
        f"filter[user]={user_id}": [pending, failed],
        "filter[collection]=sleep": [failed],
        "filter[date][gte]=2026-11-19&filter[date][lte]=2026-11-20": [pending, synced],
        "sort=-attempts": [failed, synced, pending],  # ties: by id, in the same direction
        "sort=synced_at": [synced, pending, failed],
        "sort=-pending_since": [synced, failed, pending],  # NULL first when descending
    }
    for query, expected in cases.items():
        assert ids((await v1.get(f"/v1/sync-requests?{query}")).json()) == expected, query
    attributes = (await v1.get(f"/v1/sync-requests/{failed}")).json()["data"]["attributes"]
    assert (attributes["status"], attributes["attempts"]) == ("failed", 5)
    assert attributes["last_error"] == "fitbit answered 500"


async def test_sorting_by_a_column_with_nulls_pages_by_cursor(
    v1: httpx.AsyncClient, db: AsyncEngine
) -> None:
    made = [
        await rows.sync_request(db, f"OWNER{i}", synced_at=None if i % 2 else rows.T0)
        for i in range(7)
    ]
    for sort, expected in {
        "synced_at": [made[i] for i in (0, 2, 4, 6, 1, 3, 5)],
        "-synced_at": [made[i] for i in (5, 3, 1, 6, 4, 2, 0)],
    }.items():
        seen: list[int] = []
        url: str | None = f"/v1/sync-requests?sort={sort}&page[limit]=2"
        while url:
            assert len(seen) <= len(made), "the walk does not end"
            page = (await v1.get(url)).json()
            seen += ids(page)
            url = page["links"].get("next")
        assert seen == expected, sort
