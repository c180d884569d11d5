"""What happened, for tests and benchmarks: Fitbit calls per endpoint and per user, 429s,
notification POSTs and the subscriber's answers, token grants, injected faults."""

from __future__ import annotations

from collections import Counter

from service.emulator.models import CountersView


class Counters:
    def __init__(self) -> None:
        self.clear()

    def clear(self) -> None:
        self.calls_by_endpoint: Counter[str] = Counter()
        self.calls_by_user: Counter[str] = Counter()
        self.rate_limited_by_user: Counter[str] = Counter()
        self.notification_posts = 0
        self.notification_items = 0
        self.notification_responses: Counter[str] = Counter()
        self.tokens_issued = 0
        self.token_refreshes = 0
        self.faults: Counter[str] = Counter()

    def call(self, endpoint: str, user_id: str | None) -> None:
        self.calls_by_endpoint[endpoint] += 1
        if user_id is not None:
            self.calls_by_user[user_id] += 1

    def delivered(self, items: int, outcome: str) -> None:
        """One notification POST; `outcome` is the status code, or why there was none."""
        self.notification_posts += 1
        self.notification_items += items
        self.notification_responses[outcome] += 1

    def view(self) -> CountersView:
        return CountersView(
            calls_total=sum(self.calls_by_endpoint.values()),
            calls_by_endpoint=dict(self.calls_by_endpoint),
            calls_by_user=dict(self.calls_by_user),
            rate_limited_total=sum(self.rate_limited_by_user.values()),
            rate_limited_by_user=dict(self.rate_limited_by_user),
            notification_posts=self.notification_posts,
            notification_items=self.notification_items,
            notification_responses=dict(self.notification_responses),
            tokens_issued=self.tokens_issued,
            token_refreshes=self.token_refreshes,
            faults=dict(self.faults),
        )
