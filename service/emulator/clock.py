"""The emulated clock: wall time plus an offset, or frozen at an instant.

Token expiry, authorization-code lifetime, the refresh replay window and the hourly rate-limit
reset all read this clock, so tests move it forward instead of sleeping.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta


class Clock:
    def __init__(self) -> None:
        self._offset = timedelta(0)
        self._frozen_at: datetime | None = None

    def reset(self) -> None:
        self._offset = timedelta(0)
        self._frozen_at = None

    @property
    def frozen(self) -> bool:
        return self._frozen_at is not None

    def now(self) -> datetime:
        if self._frozen_at is not None:
            return self._frozen_at
        return datetime.now(UTC) + self._offset

    def advance(self, seconds: float) -> datetime:
        step = timedelta(seconds=seconds)
        if self._frozen_at is not None:
            self._frozen_at += step
        else:
            self._offset += step
        return self.now()

    def set(self, at: datetime | None = None, *, frozen: bool | None = None) -> datetime:
        """Jump to `at` (keeping the current mode) and/or freeze or thaw at the current instant."""
        target = (at or self.now()).astimezone(UTC)
        keep_frozen = self.frozen if frozen is None else frozen
        self._frozen_at = target if keep_frozen else None
        self._offset = timedelta(0) if keep_frozen else target - datetime.now(UTC)
        return self.now()
