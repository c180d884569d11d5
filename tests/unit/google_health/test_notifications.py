"""Google Health notification bodies, shaped as FACTS.md §4.1 quotes them."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest

from service.providers.base import ChangeKind, InvalidNotification, SyncKey
from service.providers.google_health import PROVIDER, notifications
from service.providers.google_health.datatypes import LOG_TYPES, SUMMARY_TYPES


def _item(
    data_type: str = "steps", operation: str = "UPSERT", interval: dict[str, Any] | None = None
) -> dict[str, Any]:
    intervals = [interval] if interval else [_guide_interval()]
    return {
        "data": {
            "version": "1",
            "clientProvidedSubscriptionName": "subscription-name",
            "healthUserId": "health-user-id",
            "operation": operation,
            "dataType": data_type,
            "intervals": intervals,
        }
    }


def _guide_interval() -> dict[str, Any]:
    """The guide's example interval (its typo in the physical start corrected)."""
    return {
        "physicalTimeInterval": {
            "startTime": "2026-03-08T01:29:00Z",
            "endTime": "2026-03-08T01:34:00Z",
        },
        "civilDateTimeInterval": {
            "startDateTime": {
                "date": {"year": 2026, "month": 3, "day": 7},
                "time": {"hours": 17, "minutes": 29},
            },
            "endDateTime": {
                "date": {"year": 2026, "month": 3, "day": 7},
                "time": {"hours": 17, "minutes": 34},
            },
        },
        "civilIso8601TimeInterval": {
            "startTime": "2026-03-07T17:29:00",
            "endTime": "2026-03-07T17:34:00",
        },
    }


def _parse(document: Any) -> list[Any]:
    return notifications.parse(json.dumps(document).encode())


def test_the_guides_example_is_one_change_on_the_local_date() -> None:
    (change,) = _parse(_item())
    assert change.provider == PROVIDER
    assert change.kind is ChangeKind.DATA
    assert (change.owner_id, change.collection) == ("health-user-id", "activity-summary")
    assert change.date == dt.date(2026, 3, 7)  # civil, not the UTC 8 March
    assert change.subscription_id == "subscription-name"
    key = SyncKey(PROVIDER, "health-user-id", "activity-summary", dt.date(2026, 3, 7))
    assert change.sync_key == key
    assert change.raw == _item()


def test_an_array_of_items_is_read_whole() -> None:
    changes = _parse([_item("steps"), _item("sleep"), _item("weight")])
    assert [c.collection for c in changes] == ["activity-summary", "sleep", "weight"]


def test_every_summary_member_shares_one_key_and_the_others_keep_their_type() -> None:
    changes = _parse([_item(t) for t in (*SUMMARY_TYPES, *LOG_TYPES, "heart-rate")])
    keys = {c.sync_key for c in changes}
    day = dt.date(2026, 3, 7)
    assert keys == {
        SyncKey(PROVIDER, "health-user-id", c, day) for c in ("activity-summary", *LOG_TYPES)
    } | {None}
    unknown = [c for c in changes if c.kind is ChangeKind.UNKNOWN]
    assert [c.collection for c in unknown] == ["heart-rate"]
    assert [c.raw["data"]["dataType"] for c in changes[: len(SUMMARY_TYPES)]] == list(SUMMARY_TYPES)


def test_only_a_civil_start_is_enough() -> None:
    interval = {"civilIso8601TimeInterval": {"startTime": "2026-03-07T23:59:00"}}
    (change,) = _parse(_item(interval=interval))
    assert change.date == dt.date(2026, 3, 7)


def test_an_interval_over_midnight_yields_a_key_per_local_date() -> None:
    interval = {
        "civilIso8601TimeInterval": {
            "startTime": "2026-03-07T22:30:00",
            "endTime": "2026-03-08T06:45:00",
        }
    }
    changes = _parse(_item("sleep", interval=interval))
    assert [c.date for c in changes] == [dt.date(2026, 3, 7), dt.date(2026, 3, 8)]


def test_an_interval_ending_at_midnight_stays_on_its_day() -> None:
    interval = {
        "civilIso8601TimeInterval": {
            "startTime": "2026-03-07T23:00:00",
            "endTime": "2026-03-08T00:00:00",
        }
    }
    assert [c.date for c in _parse(_item(interval=interval))] == [dt.date(2026, 3, 7)]


def test_civil_date_objects_are_read_without_the_iso_form() -> None:
    interval = {"civilDateTimeInterval": _guide_interval()["civilDateTimeInterval"]}
    assert [c.date for c in _parse(_item(interval=interval))] == [dt.date(2026, 3, 7)]


def test_a_physical_interval_alone_covers_every_possible_local_date() -> None:
    interval = {"physicalTimeInterval": _guide_interval()["physicalTimeInterval"]}
    dates = [c.date for c in _parse(_item(interval=interval))]
    assert dates == [dt.date(2026, 3, 7), dt.date(2026, 3, 8), dt.date(2026, 3, 9)]


def test_intervals_of_one_item_on_one_day_are_one_change() -> None:
    item = _item()
    item["data"]["intervals"] = [_guide_interval(), _guide_interval()]
    assert len(_parse(item)) == 1


def test_a_delete_is_a_re_read_of_the_day() -> None:
    (change,) = _parse(_item("weight", "DELETE"))
    assert change.kind is ChangeKind.DATA
    assert change.sync_key is not None


def test_an_unknown_operation_is_kept_and_re_read() -> None:
    (change,) = _parse(_item("steps", "MERGE"))
    assert change.kind is ChangeKind.DATA
    assert change.raw["data"]["operation"] == "MERGE"


def test_a_data_type_we_do_not_store_is_recorded_only() -> None:
    (change,) = _parse(_item("heart-rate"))
    assert change.kind is ChangeKind.UNKNOWN
    assert change.sync_key is None


def test_an_item_without_intervals_is_recorded_only() -> None:
    item = _item()
    item["data"]["intervals"] = []
    (change,) = _parse(item)
    assert (change.kind, change.date, change.sync_key) == (ChangeKind.UNKNOWN, None, None)


def test_a_very_long_interval_yields_its_latest_days() -> None:
    interval = {
        "civilIso8601TimeInterval": {"startTime": "2025-01-01T00:00:00", "endTime": "2026-03-08"}
    }
    dates = [c.date for c in _parse(_item(interval=interval))]
    assert len(dates) == notifications.MAX_DAYS
    assert dates[-1] == dt.date(2026, 3, 7)


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b'"a string"',
        b"[1]",
        b'{"type": "verification"}',
        json.dumps({"data": {"dataType": "steps", "operation": "UPSERT"}}).encode(),
        json.dumps(
            {"data": {"healthUserId": "a:b", "dataType": "steps", "operation": "UPSERT"}}
        ).encode(),
        json.dumps(
            {"data": {"healthUserId": "u", "dataType": "Steps", "operation": "UPSERT"}}
        ).encode(),
        json.dumps({"data": {"healthUserId": "u", "dataType": "steps"}}).encode(),
        json.dumps(
            {
                "data": {
                    "healthUserId": "u",
                    "dataType": "steps",
                    "operation": "UPSERT",
                    "intervals": [{"civilIso8601TimeInterval": {"startTime": "yesterday"}}],
                }
            }
        ).encode(),
    ],
)
def test_bodies_google_does_not_send_are_refused(body: bytes) -> None:
    with pytest.raises(InvalidNotification):
        notifications.parse(body)


def test_the_verification_body_is_recognised() -> None:
    assert notifications.is_verification(b'{"type": "verification"}')
    assert notifications.is_verification(b'{"type":"verification","extra":1}')
    assert not notifications.is_verification(b'[{"type": "verification"}]')
    assert not notifications.is_verification(json.dumps(_item()).encode())
    assert not notifications.is_verification(b"\xff")
