"""What a provider tells us about a user's call budget, and what a fetch asks of that budget.

Providers report a reading after every answer; the rate budget (`service.sync.budget`) learns
from the readings and is spent before every call. Providers depend only on the `Meter` protocol
here, so they never import the worker.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class RateLimitReading:
    """One answer's view of the user's budget: calls left and seconds until the window resets."""

    remaining: int
    reset_seconds: float
    limit: int | None = None


class Meter(Protocol):
    """One user's budget, as seen by a fetch."""

    async def spend(self, calls: int = 1) -> None:
        """Take `calls` from the budget, or raise `RateLimited` when they may not be made now."""

    async def observe(self, reading: RateLimitReading) -> None:
        """Learn from what the provider said about the budget."""
