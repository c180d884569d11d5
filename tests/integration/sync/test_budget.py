"""The rate budget against the real Redis: atomic spends, learning from answers, the reserve."""

from __future__ import annotations

import asyncio

import pytest
from redis.asyncio import Redis

from service.providers.errors import RateLimited
from service.providers.ratelimit import RateLimitReading
from service.sync.budget import BudgetPolicy, Priority, RateBudget

START = 1_800_000_000.0  # 2027-01-15T08:00:00Z, the top of an hour
USER = ("fitbit", "ABC123")


class Clock:
    """Seconds since the epoch, moved by the test."""

    def __init__(self, now: float = START + 600) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


def _budget(redis: Redis, clock: Clock, **policy: float) -> RateBudget:
    return RateBudget(redis, BudgetPolicy(**policy), clock)  # type: ignore[arg-type]


async def _spent_out(budget: RateBudget, priority: Priority = Priority.LIVE) -> RateLimited:
    with pytest.raises(RateLimited) as caught:
        await budget.spend(*USER, priority=priority)
    return caught.value


async def test_an_unknown_user_has_the_whole_window(redis: Redis, clock: Clock) -> None:
    budget = _budget(redis, clock)
    state = await budget.spend(*USER, 2)
    assert (state.remaining, state.reset_at, state.limit) == (148, START + 3600, 150)
    assert await budget.state(*USER) == state


async def test_spent_until_the_reset_then_whole_again(redis: Redis, clock: Clock) -> None:
    budget = _budget(redis, clock, limit=3)
    await budget.spend(*USER, 3)
    refused = await _spent_out(budget)
    assert refused.retry_after == pytest.approx(3000)
    clock.now = START + 3600
    assert (await budget.spend(*USER)).remaining == 2


async def test_concurrent_spenders_never_overspend(redis: Redis, clock: Clock) -> None:
    budgets = [_budget(Redis.from_url(_url(redis)), clock, limit=150) for _ in range(4)]

    async def spend(budget: RateBudget) -> bool:
        try:
            await budget.spend(*USER)
        except RateLimited:
            return False
        return True

    granted = await asyncio.gather(*(spend(budgets[i % 4]) for i in range(400)))
    assert sum(granted) == 150
    assert (await budgets[0].state(*USER)).remaining == 0
    for budget in budgets:
        await budget.redis.aclose()


def _url(redis: Redis) -> str:
    kwargs = redis.connection_pool.connection_kwargs
    return f"redis://{kwargs['host']}:{kwargs['port']}/{kwargs['db']}"


async def test_backfill_leaves_the_reserve_to_live_work(redis: Redis, clock: Clock) -> None:
    budget = _budget(redis, clock, limit=10, reserve=4)
    await budget.spend(*USER, 6, priority=Priority.BACKFILL)
    await _spent_out(budget, Priority.BACKFILL)
    state = await budget.spend(*USER, 4, priority=Priority.LIVE)
    assert state.remaining == 0


async def test_a_spend_that_does_not_fit_takes_nothing(redis: Redis, clock: Clock) -> None:
    budget = _budget(redis, clock, limit=3)
    await budget.spend(*USER, 2)
    with pytest.raises(RateLimited):
        await budget.spend(*USER, 2)
    assert (await budget.spend(*USER, 1)).remaining == 0


async def test_users_have_their_own_budgets(redis: Redis, clock: Clock) -> None:
    budget = _budget(redis, clock, limit=1)
    await budget.spend("fitbit", "A")
    await budget.spend("fitbit", "B")
    await budget.spend("google-health", "A")


async def test_answers_lower_what_is_left(redis: Redis, clock: Clock) -> None:
    budget = _budget(redis, clock)
    await budget.spend(*USER)
    # Calls made elsewhere (connect, another deployment) show in the provider's count.
    await budget.observe(*USER, RateLimitReading(remaining=40, reset_seconds=3000, limit=150))
    assert (await budget.state(*USER)).remaining == 40


async def test_an_answer_never_raises_what_is_left_within_a_window(
    redis: Redis, clock: Clock
) -> None:
    budget = _budget(redis, clock)
    await budget.observe(*USER, RateLimitReading(remaining=100, reset_seconds=3000))
    await budget.spend(*USER, 10)
    # An answer to a call spent before the last ten: they are not in its count yet.
    await budget.observe(*USER, RateLimitReading(remaining=99, reset_seconds=2999))
    assert (await budget.state(*USER)).remaining == 90


async def test_a_new_window_is_taken_from_the_answer(redis: Redis, clock: Clock) -> None:
    budget = _budget(redis, clock)
    await budget.observe(*USER, RateLimitReading(remaining=0, reset_seconds=5))
    clock.now += 6
    await budget.observe(*USER, RateLimitReading(remaining=149, reset_seconds=3594))
    state = await budget.state(*USER)
    assert (state.remaining, state.reset_at) == (149, clock.now + 3594)


async def test_an_earlier_reset_is_believed(redis: Redis, clock: Clock) -> None:
    # The provider's clock is the one that counts (an emulator's can be moved).
    budget = _budget(redis, clock)
    await budget.observe(*USER, RateLimitReading(remaining=0, reset_seconds=3000))
    await budget.observe(*USER, RateLimitReading(remaining=0, reset_seconds=5))
    assert (await _spent_out(budget)).retry_after == pytest.approx(5)
    clock.now += 5
    assert (await budget.spend(*USER)).remaining == 149


async def test_the_providers_window_replaces_our_guess(redis: Redis, clock: Clock) -> None:
    budget = _budget(redis, clock)
    await budget.spend(*USER)  # guessed: whole limit until the top of the hour
    await budget.observe(*USER, RateLimitReading(remaining=4, reset_seconds=30, limit=5))
    assert (await budget.state(*USER)).reset_at == clock.now + 30
    await budget.spend(*USER, 4)
    refused = await _spent_out(budget)
    assert refused.retry_after == pytest.approx(30)
    clock.now += 31
    state = await budget.spend(*USER)
    assert (state.remaining, state.limit) == (4, 5)  # the learned limit


async def test_a_429_spends_the_window(redis: Redis, clock: Clock) -> None:
    budget = _budget(redis, clock)
    await budget.observe(*USER, RateLimitReading(remaining=0, reset_seconds=120))
    refused = await _spent_out(budget)
    assert refused.retry_after == pytest.approx(120)


async def test_the_meter_spends_and_learns_for_its_user(redis: Redis, clock: Clock) -> None:
    budget = _budget(redis, clock, limit=10, reserve=5)
    meter = budget.meter(*USER, Priority.BACKFILL)
    await meter.spend(5)
    with pytest.raises(RateLimited):
        await meter.spend()
    await meter.observe(RateLimitReading(remaining=2, reset_seconds=100))
    assert (await budget.state(*USER)).remaining == 2
