"""Parsing Fitbit's notification arrays into provider-neutral changes."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from service.providers.base import ChangeKind, InvalidNotification, SyncKey
from service.providers.fitbit import notifications
from tests.conftest import SHARED


def test_recorded_notification_example() -> None:
    body = (SHARED / "fitbit/examples/strict/ApiSubscriptionNotification.json").read_bytes()
    changes = notifications.parse(body)
    items = json.loads(body)
    assert len(changes) == len(items)
    for change, raw in zip(changes, items, strict=True):
        assert change.raw == raw
        assert change.owner_id == raw["ownerId"]
        assert change.date == dt.date.fromisoformat(raw["date"])


def test_kinds() -> None:
    body = json.dumps(
        [
            {
                "collectionType": kind,
                "date": "2026-01-31",
                "ownerId": "A",
                "ownerType": "user",
                "subscriptionId": "s",
            }
            for kind in ("foods", "userRevokedAccess", "deleteUser", "heartrate")
        ]
    ).encode()
    kinds = [change.kind for change in notifications.parse(body)]
    assert kinds == [
        ChangeKind.DATA,
        ChangeKind.ACCOUNT_REVOKED,
        ChangeKind.ACCOUNT_DELETED,
        ChangeKind.UNKNOWN,
    ]


def test_account_events_become_pseudo_collections() -> None:
    body = (
        b'[{"collectionType":"sleep","date":"2026-02-28","ownerId":"X","ownerType":"user",'
        b'"subscriptionId":"1"},{"collectionType":"deleteUser","date":"2026-02-28",'
        b'"ownerId":"X","ownerType":"user","subscriptionId":"1"}]'
    )
    data, deleted = notifications.parse(body)
    assert data.sync_key == SyncKey("fitbit", "X", "sleep", dt.date(2026, 2, 28))
    assert data.sync_key.job_id() == "sync:fitbit:X:sleep:2026-02-28"
    assert deleted.sync_key == SyncKey("fitbit", "X", "account_deleted", dt.date(2026, 2, 28))


def test_unknown_collections_have_no_sync_key() -> None:
    body = (
        b'[{"collectionType":"heartrate","date":"2026-02-28","ownerId":"X","ownerType":"user",'
        b'"subscriptionId":"1"}]'
    )
    [change] = notifications.parse(body)
    assert change.sync_key is None


def test_empty_array_is_valid() -> None:
    assert notifications.parse(b"[]") == []


@pytest.mark.parametrize("date", ["2026-02-30", "2026-2-01", "2026-02-01T00:00", "", "tomorrow"])
def test_bad_dates(date: str) -> None:
    body = json.dumps(
        [
            {
                "collectionType": "sleep",
                "date": date,
                "ownerId": "X",
                "ownerType": "user",
                "subscriptionId": "1",
            }
        ]
    ).encode()
    with pytest.raises(InvalidNotification, match="item 0"):
        notifications.parse(body)
