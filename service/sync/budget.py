"""Each user's provider call budget, shared by every worker through Redis.

Each provider's limit and window come from its `RateRules` (Fitbit 150 an hour, Google 300 a
minute); the rest is the same for every provider. Fitbit allows 150 calls per user per hour, the
window resetting at the top of the hour, and answers 429 beyond it; every answer says how many
calls are left (`Fitbit-Rate-Limit-Remaining`) and when the window resets (`-Reset`, in
seconds). A worker spends from the budget before it calls, so concurrent workers never
overspend, and learns from every answer, so calls made elsewhere (subscriptions, another
deployment) are accounted for.

State per (provider, user): a Redis hash of `remaining`, `reset_at` (epoch seconds) and `limit`.
Both operations are Lua scripts, so each is atomic however many workers share a user:
- spend: a window that has passed starts afresh (the learned limit, until our guess of its
  end); the calls are taken only if at least the priority's floor would remain.
- observe: the answer's reset time is believed (the provider's clock is the one that counts);
  its count is believed for a new window, but within the window we know only ever lowers
  ours, since calls spent after the answer was counted are not in it yet.

Backfill spends only while more than `reserve` calls would remain: live notifications always
find calls left.
"""

from __future__ import annotations

import dataclasses
import enum
import random
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, cast

from redis.asyncio import Redis

from service import metrics
from service.providers.base import RateRules
from service.providers.errors import RateLimited
from service.providers.ratelimit import RateLimitReading
from service.settings import Settings

KEY_PREFIX = "fitbit_subscriber:budget"
# The hash outlives its window so a learned limit is kept for the next one.
STATE_TTL_SECONDS = 2 * 24 * 3600

_SPEND = """
local key = KEYS[1]
local now, cost, floor = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local fresh_reset, ttl = tonumber(ARGV[4]), tonumber(ARGV[6])
local state = redis.call('HMGET', key, 'remaining', 'reset_at', 'limit')
local remaining, reset_at = tonumber(state[1]), tonumber(state[2])
local limit = tonumber(state[3]) or tonumber(ARGV[5])
if not reset_at or now >= reset_at then
  remaining, reset_at = limit, fresh_reset
  redis.call('HSET', key, 'reset_at', reset_at, 'limit', limit)
end
local granted = 0
if remaining - cost >= floor then
  remaining, granted = remaining - cost, 1
end
redis.call('HSET', key, 'remaining', remaining)
redis.call('EXPIRE', key, ttl)
return {granted, remaining, tostring(reset_at), limit}
"""

_OBSERVE = """
local key = KEYS[1]
local now, remaining, reset_at = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local limit, tolerance, ttl = tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])
local state = redis.call('HMGET', key, 'remaining', 'reset_at')
local known_remaining, known_reset = tonumber(state[1]), tonumber(state[2])
if known_reset and now < known_reset and reset_at <= known_reset + tolerance then
  remaining = math.min(remaining, known_remaining or remaining)
end
redis.call('HSET', key, 'remaining', remaining, 'reset_at', reset_at)
if limit > 0 then
  redis.call('HSET', key, 'limit', limit)
end
redis.call('EXPIRE', key, ttl)
return 1
"""


class Priority(enum.Enum):
    LIVE = "live"  # a notification: may spend the whole budget
    BACKFILL = "backfill"  # history: leaves the reserve to live work


@dataclass(frozen=True, slots=True)
class BudgetPolicy:
    limit: int = 150  # assumed until the provider says otherwise
    window_seconds: float = 3600.0  # windows end at multiples of this: the top of the hour
    reserve: int = 30
    jitter_seconds: float = 30.0
    # `Reset` is in whole seconds, answers take time and clocks differ a little: resets this
    # close are one window (windows are an hour apart).
    tolerance_seconds: float = 10.0

    @classmethod
    def from_settings(cls, settings: Settings) -> BudgetPolicy:
        return cls(
            reserve=settings.rate_budget_reserve,
            jitter_seconds=settings.rate_defer_jitter_seconds,
        )

    def floor(self, priority: Priority) -> int:
        """Calls that must remain after a spend of this priority."""
        return self.reserve if priority is Priority.BACKFILL else 0

    def window_end(self, now: float) -> float:
        """Our guess of when the current window ends, before the provider has told us."""
        return (now // self.window_seconds + 1) * self.window_seconds

    def defer(self, retry_after: float, rng: Callable[[], float] = random.random) -> float:
        """Seconds to defer a job told to retry after `retry_after`.

        One second past the reset, so the window has surely turned, plus jitter, so the jobs
        deferred to one reset do not all wake at once.
        """
        return max(retry_after, 0.0) + 1.0 + rng() * self.jitter_seconds


@dataclass(frozen=True, slots=True)
class BudgetState:
    remaining: int
    reset_at: float  # epoch seconds
    limit: int


@dataclass(frozen=True, slots=True)
class RateBudget:
    redis: Redis
    policy: BudgetPolicy = BudgetPolicy()
    clock: Callable[[], float] = time.time
    # Each provider's limit and window (`Descriptor.rate_rules`); others use the policy's.
    rules: Mapping[str, RateRules] = field(default_factory=dict)

    def policy_of(self, provider: str) -> BudgetPolicy:
        rules = self.rules.get(provider)
        if rules is None:
            return self.policy
        return dataclasses.replace(
            self.policy, limit=rules.limit, window_seconds=rules.window_seconds
        )

    async def spend(
        self, provider: str, owner_id: str, calls: int = 1, *, priority: Priority = Priority.LIVE
    ) -> BudgetState:
        """Take `calls` from the user's budget, or raise `RateLimited` until its reset."""
        now, policy = self.clock(), self.policy_of(provider)
        args = [now, calls, policy.floor(priority), policy.window_end(now)]
        granted, remaining, reset_at, limit = await self._run(
            _SPEND, provider, owner_id, [*args, policy.limit, STATE_TTL_SECONDS]
        )
        if not int(granted):
            raise RateLimited(
                f"{provider} user {owner_id}: {remaining} calls left for {priority.value} work",
                retry_after=max(float(reset_at) - now, 0.0),
            )
        return BudgetState(int(remaining), float(reset_at), int(limit))

    async def observe(self, provider: str, owner_id: str, reading: RateLimitReading) -> None:
        """Learn what the provider's answer said about the user's budget."""
        metrics.rate_budget_seen(provider, reading.remaining)
        now = self.clock()
        args = [now, reading.remaining, now + reading.reset_seconds, reading.limit or 0]
        await self._run(
            _OBSERVE,
            provider,
            owner_id,
            [*args, self.policy.tolerance_seconds, STATE_TTL_SECONDS],
        )

    async def state(self, provider: str, owner_id: str) -> BudgetState:
        """What the user's budget holds now (a full window when nothing is known)."""
        now, key, policy = self.clock(), _key(provider, owner_id), self.policy_of(provider)
        # redis-py types its commands for both clients; this one is the asyncio client.
        raw = await cast("Awaitable[dict[bytes | str, bytes | str]]", self.redis.hgetall(key))
        found = {_text(name): value for name, value in raw.items()}
        limit = int(found.get("limit", policy.limit))
        reset_at = float(found.get("reset_at", 0))
        if reset_at <= now:
            return BudgetState(limit, policy.window_end(now), limit)
        return BudgetState(int(found["remaining"]), reset_at, limit)

    def meter(self, provider: str, owner_id: str, priority: Priority) -> UserMeter:
        return UserMeter(self, provider, owner_id, priority)

    async def _run(self, script: str, provider: str, owner_id: str, args: list[Any]) -> Any:
        # EVALSHA, falling back to EVAL the first time a Redis sees the script.
        run = self.redis.register_script(script)
        return await run(keys=[_key(provider, owner_id)], args=[_arg(value) for value in args])


@dataclass(frozen=True, slots=True)
class UserMeter:
    """One user's budget at one priority, as a fetch sees it (`service.providers.ratelimit`)."""

    budget: RateBudget
    provider: str
    owner_id: str
    priority: Priority

    async def spend(self, calls: int = 1) -> None:
        await self.budget.spend(self.provider, self.owner_id, calls, priority=self.priority)

    async def observe(self, reading: RateLimitReading) -> None:
        await self.budget.observe(self.provider, self.owner_id, reading)


def _key(provider: str, owner_id: str) -> str:
    return f"{KEY_PREFIX}:{provider}:{owner_id}"


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def _arg(value: Any) -> str:
    # repr keeps every digit of a float; Lua's tonumber reads it back exactly.
    return repr(value) if isinstance(value, float) else str(value)
