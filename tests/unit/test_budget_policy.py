"""The arithmetic of the rate budget: floors, windows and how long to defer."""

from __future__ import annotations

import datetime as dt

import pytest

from service.settings import Settings
from service.sync.budget import BudgetPolicy, Priority

POLICY = BudgetPolicy(reserve=30, jitter_seconds=20.0)


def test_backfill_leaves_the_reserve() -> None:
    assert POLICY.floor(Priority.LIVE) == 0
    assert POLICY.floor(Priority.BACKFILL) == 30


def test_window_ends_at_the_top_of_the_hour() -> None:
    at = dt.datetime(2026, 3, 9, 14, 25, 7, tzinfo=dt.UTC).timestamp()
    end = dt.datetime.fromtimestamp(POLICY.window_end(at), dt.UTC)
    assert end == dt.datetime(2026, 3, 9, 15, tzinfo=dt.UTC)


def test_window_on_the_hour_is_the_next_one() -> None:
    at = dt.datetime(2026, 3, 9, 15, tzinfo=dt.UTC).timestamp()
    assert POLICY.window_end(at) == at + 3600


@pytest.mark.parametrize(("draw", "expected"), [(0.0, 101.0), (0.5, 111.0), (0.999, 120.98)])
def test_defer_is_past_the_reset_plus_jitter(draw: float, expected: float) -> None:
    assert POLICY.defer(100.0, lambda: draw) == pytest.approx(expected)


def test_defer_never_negative() -> None:
    assert POLICY.defer(-5.0, lambda: 0.0) == 1.0


def test_policy_from_settings() -> None:
    settings = Settings(_env_file=None, rate_budget_reserve=12, rate_defer_jitter_seconds=0.5)
    policy = BudgetPolicy.from_settings(settings)
    assert (policy.reserve, policy.jitter_seconds, policy.limit) == (12, 0.5, 150)
