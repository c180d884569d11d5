"""Subscriptions: who gets notified of which user's changes (Fitbit's apiSubscriptions).

A subscription is a stream (owner, collection or every collection) under an id that is unique
across the app. Creating answers 201, or 200 when that id already names that stream, or 409
when the id names another stream or another id already covers the stream. "Every collection"
and a single collection are different streams, so mixing them gets duplicate notifications,
as it does on Fitbit.
"""

from __future__ import annotations

from dataclasses import dataclass

from service.emulator.errors import FitbitError

COLLECTIONS = ("activities", "body", "foods", "sleep")
MAX_ID_LENGTH = 50


@dataclass(frozen=True)
class Subscription:
    subscription_id: str
    owner_id: str
    collection: str | None
    subscriber_id: str

    def as_fitbit(self) -> dict[str, str]:
        return {
            "collectionType": self.collection or "user",
            "ownerId": self.owner_id,
            "ownerType": "user",
            "subscriberId": self.subscriber_id,
            "subscriptionId": self.subscription_id,
        }


class SubscriptionRegistry:
    def __init__(self) -> None:
        self._by_id: dict[str, Subscription] = {}

    def create(self, wanted: Subscription) -> tuple[Subscription, bool]:
        """The subscription and whether it is new; raises 409 on a conflict."""
        existing = self._by_id.get(wanted.subscription_id)
        if existing is not None:
            if (existing.owner_id, existing.collection) == (wanted.owner_id, wanted.collection):
                return existing, False
            raise _conflict(f"Subscription id {wanted.subscription_id} is used for another stream")
        if self.streams(wanted.owner_id, wanted.collection, exact=True):
            raise _conflict("Another subscription id already covers this stream")
        self._by_id[wanted.subscription_id] = wanted
        return wanted, True

    def delete(self, owner_id: str, collection: str | None, subscription_id: str) -> bool:
        existing = self._by_id.get(subscription_id)
        if existing is None or (existing.owner_id, existing.collection) != (owner_id, collection):
            return False
        del self._by_id[subscription_id]
        return True

    def streams(self, owner_id: str, collection: str | None, *, exact: bool) -> list[Subscription]:
        """The owner's subscriptions for `collection`: exactly that stream, or (not exact)
        every subscription whose notifications cover it, "every collection" included."""
        return [
            sub
            for sub in self._by_id.values()
            if sub.owner_id == owner_id
            and (sub.collection == collection or (not exact and sub.collection is None))
        ]

    def of_owner(self, owner_id: str) -> list[Subscription]:
        return [sub for sub in self._by_id.values() if sub.owner_id == owner_id]

    def drop_owner(self, owner_id: str) -> None:
        for sub in self.of_owner(owner_id):
            del self._by_id[sub.subscription_id]

    def all(self) -> list[Subscription]:
        return list(self._by_id.values())


def _conflict(message: str) -> FitbitError:
    return FitbitError(409, "conflict", message)
