"""What happened on the Google side, for tests and benchmarks: the Fitbit side's counters
(calls per endpoint and per user, 429s, notification POSTs and answers, tokens, faults) plus
verification handshakes and keyset fetches."""

from __future__ import annotations

from collections import Counter

from service.emulator.counters import Counters
from service.emulator.google.models import GoogleCountersView


class GoogleCounters(Counters):
    def clear(self) -> None:
        super().clear()
        self.verifications: Counter[str] = Counter()
        self.keyset_fetches = 0

    def google_view(self) -> GoogleCountersView:
        return GoogleCountersView(
            **self.view().model_dump(),
            verifications=dict(self.verifications),
            keyset_fetches=self.keyset_fetches,
        )
