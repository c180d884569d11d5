"""Fitbit's collection-change notification: a JSON array of
`{collectionType, date, ownerId, ownerType, subscriptionId}` items, batched, at-least-once.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from service.providers.base import ChangeKind, InvalidNotification, ReceivedChange
from service.providers.fitbit import PROVIDER

FIELDS = ("collectionType", "date", "ownerId", "ownerType", "subscriptionId")
DATA_COLLECTIONS = frozenset({"activities", "body", "foods", "sleep"})
ACCOUNT_EVENTS = {
    "userRevokedAccess": ChangeKind.ACCOUNT_REVOKED,
    "deleteUser": ChangeKind.ACCOUNT_DELETED,
}


def parse(body: bytes) -> list[ReceivedChange]:
    try:
        document = json.loads(body)
    except (UnicodeDecodeError, ValueError) as exc:
        raise InvalidNotification(f"body is not JSON: {exc}") from None
    if not isinstance(document, list):
        raise InvalidNotification("body must be a JSON array of notification items")
    return [_parse_item(index, item) for index, item in enumerate(document)]


def _parse_item(index: int, item: Any) -> ReceivedChange:
    if not isinstance(item, dict):
        raise InvalidNotification(f"item {index} is not an object")
    for field in FIELDS:
        if not isinstance(item.get(field), str) or not item[field]:
            raise InvalidNotification(f"item {index}: {field} is missing or not a string")
    if item["ownerType"] != "user":
        raise InvalidNotification(f"item {index}: ownerType must be 'user'")
    collection = item["collectionType"]
    return ReceivedChange(
        provider=PROVIDER,
        kind=_kind(collection),
        owner_id=item["ownerId"],
        collection=collection,
        date=_parse_date(index, item["date"]),
        owner_type=item["ownerType"],
        subscription_id=item["subscriptionId"],
        raw=item,
    )


def _kind(collection: str) -> ChangeKind:
    if collection in DATA_COLLECTIONS:
        return ChangeKind.DATA
    return ACCOUNT_EVENTS.get(collection, ChangeKind.UNKNOWN)


def _parse_date(index: int, text: str) -> dt.date:
    try:
        if len(text) != 10:
            raise ValueError(text)
        return dt.date.fromisoformat(text)
    except ValueError:
        raise InvalidNotification(f"item {index}: date must be YYYY-MM-DD, got {text!r}") from None
