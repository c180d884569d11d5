"""One emulated Fitbit: its configuration, clock, users, tokens, subscriptions, data, rate
limits, faults, counters and notification outbox, and the operations that span them."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date, datetime

from service.emulator.clock import Clock
from service.emulator.config import EmulatorConfig
from service.emulator.counters import Counters
from service.emulator.data import COLLECTION_OF, DataStore
from service.emulator.faults import Faults
from service.emulator.models import Notification, SubscriptionView, TokenAnswer, UserView
from service.emulator.push import Pusher
from service.emulator.ratelimit import RateLimiter
from service.emulator.subscriptions import Subscription, SubscriptionRegistry
from service.emulator.tokens import TokenStore
from service.emulator.users import EmulatedUser, UserDirectory

# The scope a collection's data needs; a user who withheld it gets no notifications for it.
COLLECTION_SCOPES = {
    "activities": "activity",
    "body": "weight",
    "foods": "nutrition",
    "sleep": "sleep",
}


class Emulator:
    def __init__(self, config: EmulatorConfig) -> None:
        self.initial = config
        self.clock = Clock()
        self.counters = Counters()
        self.pusher = Pusher(lambda: self.config, self.clock, self.counters)
        # Other providers served by the same process (the Google Health mode) reset with it.
        self.on_reset: list[Callable[[], None]] = []
        self.reset()

    def reset(self) -> None:
        """Back to the state at start-up: the initial configuration, nothing else."""
        self.config = self.initial
        self.clock.reset()
        self.users = UserDirectory()
        self.tokens = TokenStore()
        self.subscriptions = SubscriptionRegistry()
        self.data = DataStore(self.config.seed)
        self.rates = RateLimiter()
        self.faults = Faults()
        self.counters.clear()
        self.pusher.clear()
        for reset in self.on_reset:
            reset()

    def now(self) -> datetime:
        return self.clock.now()

    def configure(self, changes: Mapping[str, object]) -> EmulatorConfig:
        self.config = EmulatorConfig.model_validate(self.config.model_dump() | dict(changes))
        self.data.seed = self.config.seed
        return self.config

    def today(self, user: EmulatedUser) -> date:
        return user.today(self.now())

    def issue_tokens(self, user: EmulatedUser, scopes: frozenset[str]) -> TokenAnswer:
        user.granted, user.revoked = scopes, False
        self.counters.tokens_issued += 1
        return self.tokens.issue(
            user_id=user.user_id,
            client_id=self.config.client_id,
            scopes=scopes,
            now=self.now(),
            ttl=self.config.access_token_ttl_seconds,
        )

    def announce(self, user: EmulatedUser, collection: str, on: date) -> list[Notification]:
        """Queue the notification Fitbit sends for a change, to each covering subscription."""
        needed = COLLECTION_SCOPES.get(collection)
        if needed is not None and needed not in user.granted:
            return []
        subs = self.subscriptions.streams(user.user_id, collection, exact=False)
        items = [_item(sub, collection, on) for sub in subs]
        self.pusher.enqueue(items)
        return items

    def announce_change(self, user: EmulatedUser, resource: str, on: date) -> list[Notification]:
        return self.announce(user, COLLECTION_OF[resource], on)

    def revoke_access(self, user: EmulatedUser) -> None:
        """The app loses the user: tokens stop working and subscriptions go."""
        self.tokens.revoke_user(user.user_id)
        self.subscriptions.drop_owner(user.user_id)
        user.granted = frozenset()

    def user_leaves(self, user: EmulatedUser, *, deleted: bool) -> list[Notification]:
        """The user revokes the app (`userRevokedAccess`) or deletes the account (`deleteUser`);
        each of their subscriptions is told once, before it goes."""
        collection = "deleteUser" if deleted else "userRevokedAccess"
        on = self.today(user)
        items = [_item(sub, collection, on) for sub in self.subscriptions.of_owner(user.user_id)]
        self.pusher.enqueue(items)
        self.revoke_access(user)
        user.revoked, user.deleted = True, user.deleted or deleted
        return items

    def user_view(self, user: EmulatedUser) -> UserView:
        subs = self.subscriptions.of_owner(user.user_id)
        return UserView(
            user_id=user.user_id,
            timezone=user.timezone,
            offset_from_utc_millis=user.offset_millis(self.now()),
            display_name=user.display_name,
            member_since=user.member_since,
            grant_scopes=sorted(user.grant_scopes) if user.grant_scopes is not None else None,
            deny_consent=user.deny_consent,
            granted_scopes=sorted(user.granted),
            revoked=user.revoked,
            deleted=user.deleted,
            subscriptions=[subscription_view(sub) for sub in subs],
        )


def subscription_view(sub: Subscription) -> SubscriptionView:
    return SubscriptionView(
        subscription_id=sub.subscription_id,
        owner_id=sub.owner_id,
        collection=sub.collection,
        subscriber_id=sub.subscriber_id,
    )


def _item(sub: Subscription, collection: str, on: date) -> Notification:
    return {
        "collectionType": collection,
        "date": on.isoformat(),
        "ownerId": sub.owner_id,
        "ownerType": "user",
        "subscriptionId": sub.subscription_id,
    }
