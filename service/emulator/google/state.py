"""One emulated Google Health API: configuration, accounts, tokens, subscribers, data, rate
limits, signing keys, counters and the notification outbox. The clock and the fault plan are
the Fitbit emulator's, so one control moves both providers."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, timedelta
from uuid import uuid4

from service.emulator.google.config import GoogleConfig
from service.emulator.google.counters import GoogleCounters
from service.emulator.google.datatypes import DATA_TYPES, JSON, Point, civil, timestamp
from service.emulator.google.generate import Totals
from service.emulator.google.keyset import Keyring
from service.emulator.google.models import GoogleUserView
from service.emulator.google.push import Pusher
from service.emulator.google.store import DataStore
from service.emulator.google.subscribers import Subscriber, Subscribers
from service.emulator.google.tokens import Issued, TokenStore
from service.emulator.google.users import GoogleUser, GoogleUsers
from service.emulator.world import Emulator

ALL_TYPES = sorted(DATA_TYPES)
PRESET_SUBSCRIBER = "emulator"


class GoogleHealth:
    def __init__(self, config: GoogleConfig, fitbit: Emulator) -> None:
        self.initial = config
        self.fitbit = fitbit
        self.clock = fitbit.clock
        self.counters = GoogleCounters()
        self.pusher = Pusher(
            lambda: self.config,
            self.clock,
            self.counters,
            lambda: self.keys,
            lambda: self.subscribers,
        )
        self.reset()

    def reset(self) -> None:
        self.config = self.initial
        self.users = GoogleUsers()
        self.tokens = TokenStore()
        self.subscribers = Subscribers()
        self.data = DataStore(lambda: self.fitbit.config.seed, self._fitbit_totals)
        self.windows: dict[str, tuple[datetime, int]] = {}
        self.keys = Keyring()
        self.counters.clear()
        self.pusher.clear()
        if self.config.subscriber_url:
            self._preset_subscriber(self.config.subscriber_url)

    def _preset_subscriber(self, url: str) -> None:
        now = self.now()
        configs: list[JSON] = [{"dataTypes": ALL_TYPES, "subscriptionCreatePolicy": "AUTOMATIC"}]
        self.subscribers.put(
            Subscriber(
                self.config.project_number,
                PRESET_SUBSCRIBER,
                url,
                self.config.webhook_secret,
                configs,
                now,
                now,
            )
        )

    def now(self) -> datetime:
        return self.clock.now()

    def configure(self, changes: Mapping[str, object]) -> GoogleConfig:
        self.config = GoogleConfig.model_validate(self.config.model_dump() | dict(changes))
        return self.config

    # -- tokens -----------------------------------------------------------------------------

    def issue_tokens(
        self, user: GoogleUser, scopes: frozenset[str], *, offline: bool = True
    ) -> Issued:
        user.granted, user.revoked = scopes, False
        self.counters.tokens_issued += 1
        return self.tokens.issue(
            user.health_user_id,
            self.config.client_id,
            scopes,
            now=self.now(),
            ttl=self.config.access_token_ttl_seconds,
            offline=offline,
        )

    def revoke(self, user: GoogleUser) -> None:
        """The user removes the app's access: tokens die, notifications stop."""
        self.tokens.revoke_user(user.health_user_id)
        user.granted, user.revoked = frozenset(), True

    # -- rate limit -------------------------------------------------------------------------

    def spend(self, user_id: str) -> bool:
        """Count a call against the user's minute; false once the minute's budget is spent."""
        minute = self.now().replace(second=0, microsecond=0)
        start, used = self.windows.get(user_id, (minute, 0))
        used = used if start == minute else 0
        allowed = used < self.config.rate_limit_per_minute
        self.windows[user_id] = (minute, used + allowed)
        return allowed

    # -- notifications ----------------------------------------------------------------------

    def announce(
        self, user: GoogleUser, data_type: str, operation: str, points: list[Point]
    ) -> list[JSON]:
        """Queue the notification of a change to every subscriber that should hear of it."""
        kind = DATA_TYPES.get(data_type)
        if kind is None or kind.scope not in user.granted:
            return []
        intervals = [interval(p.start, p.end, p.start_offset, p.end_offset) for p in points]
        sent = []
        for subscriber in self.subscribers.all():
            if subscriber.state != "ACTIVE":
                continue
            names = self._names(subscriber, user, data_type)
            items = [notification(name, user, data_type, operation, intervals) for name in names]
            self.pusher.enqueue(subscriber.subscriber_id, items)
            sent.extend(items)
        return sent

    @staticmethod
    def _names(subscriber: Subscriber, user: GoogleUser, data_type: str) -> list[str]:
        """`clientProvidedSubscriptionName` of each notification this subscriber gets."""
        policy = subscriber.policy(data_type)
        if policy == "AUTOMATIC":
            return [str(uuid4())]
        if policy == "MANUAL":
            return [
                sub.subscription_id
                for sub in subscriber.subscriptions.values()
                if sub.user_id == user.health_user_id and data_type in sub.data_types
            ]
        return []

    # -- views ------------------------------------------------------------------------------

    def user_view(self, user: GoogleUser) -> GoogleUserView:
        return GoogleUserView(
            health_user_id=user.health_user_id,
            legacy_user_id=user.legacy_user_id,
            timezone=user.timezone,
            utc_offset_seconds=int(user.offset(self.now()).total_seconds()),
            member_since=user.member_since,
            grant_scopes=sorted(user.grant_scopes) if user.grant_scopes is not None else None,
            deny_consent=user.deny_consent,
            granted_scopes=sorted(user.granted),
            revoked=user.revoked,
        )

    def _fitbit_totals(self, user: GoogleUser, on: date) -> Totals | None:
        """The day's totals of the Fitbit account this Google account migrated from."""
        legacy = self.fitbit.users.get(user.legacy_user_id) if user.legacy_user_id else None
        if legacy is None:
            return None
        summary = self.fitbit.data.day(legacy, "activities", on, self.fitbit.today(legacy)).summary
        km = next(
            (d["distance"] for d in summary.get("distances", []) if d.get("activity") == "total"), 0
        )
        return Totals(
            steps=int(summary.get("steps", 0)),
            distance_mm=round(float(km) * 1_000_000),
            floors=int(summary.get("floors", 0)),
            kcal=float(summary.get("caloriesOut", 0)),
        )


def interval(
    start: datetime, end: datetime, start_offset: timedelta, end_offset: timedelta
) -> JSON:
    """One changed interval as a notification describes it: physical and civil."""
    local_start = (start + start_offset).replace(tzinfo=None)
    local_end = (end + end_offset).replace(tzinfo=None)
    return {
        "physicalTimeInterval": {"startTime": timestamp(start), "endTime": timestamp(end)},
        "civilDateTimeInterval": {
            "startDateTime": civil(local_start),
            "endDateTime": civil(local_end),
        },
        "civilIso8601TimeInterval": {
            "startTime": local_start.isoformat(timespec="seconds"),
            "endTime": local_end.isoformat(timespec="seconds"),
        },
    }


def notification(
    name: str, user: GoogleUser, data_type: str, operation: str, intervals: list[JSON]
) -> JSON:
    return {
        "data": {
            "version": "1",
            "clientProvidedSubscriptionName": name,
            "healthUserId": user.health_user_id,
            "operation": operation,
            "dataType": data_type,
            "intervals": intervals,
        }
    }
