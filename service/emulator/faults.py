"""Faults on demand for Fitbit-facing calls: added latency, 5xx answers and hangs.

Rates draw from a seeded random stream, so a fault plan replays identically; `fail_next` and
`timeout_next` hit exactly the next calls, which is what deterministic tests want.
"""

from __future__ import annotations

import asyncio
import random
import time
from typing import Literal

from starlette.requests import Request

from service.emulator.counters import Counters
from service.emulator.errors import FitbitError
from service.emulator.models import FaultPlan

Outcome = Literal["pass", "error", "hang"]


class Faults:
    def __init__(self, plan: FaultPlan | None = None) -> None:
        self.set(plan or FaultPlan())

    def set(self, plan: FaultPlan) -> None:
        self.plan = plan
        self._fail_left = plan.fail_next
        self._hang_left = plan.timeout_next
        self._random = random.Random(plan.seed)  # noqa: S311 - fault schedule, not a secret

    def decide(self) -> Outcome:
        if self._hang_left > 0:
            self._hang_left -= 1
            return "hang"
        if self._fail_left > 0:
            self._fail_left -= 1
            return "error"
        draw = self._random.random()
        if draw < self.plan.timeout_rate:
            return "hang"
        return "error" if draw < self.plan.timeout_rate + self.plan.error_rate else "pass"

    async def apply(self, request: Request, counters: Counters) -> None:
        """Delay, fail or hang this request as the plan says; return to let it through."""
        prefix = self.plan.path_prefix
        if prefix is not None and not request.url.path.startswith(prefix):
            return
        if self.plan.latency_ms:
            await asyncio.sleep(self.plan.latency_ms / 1000)
        outcome = self.decide()
        if outcome == "pass":
            return
        counters.faults[outcome] += 1
        if outcome == "hang":
            await _hang(request, self.plan.hang_seconds)
            raise FitbitError(504, "system", "Gateway timeout (emulated fault).")
        status = self.plan.error_status
        raise FitbitError(status, "system", f"Server error {status} (emulated fault).")


async def _hang(request: Request, seconds: float) -> None:
    """Hold the request open, but let go as soon as the client has given up on it."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if await request.is_disconnected():
            return
        await asyncio.sleep(0.05)
