"""The Google users' data points: generated on read, stored only once changed.

A day is one (user, data type, local date); a sleep belongs to the day it ended. Days before
the user's `member_since` or after their local today are empty, and today's generated points
stop at the emulated now. Queries walk the days newest first, so a page only generates the
days it needs: points come back in descending start time, as Google returns them.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from datetime import date, datetime, timedelta

from service.emulator.google import generate
from service.emulator.google.datatypes import ACTIVITY_TYPES, DATA_TYPES, Point
from service.emulator.google.filters import Term
from service.emulator.google.users import GoogleUser

Key = tuple[str, str, date]
# The day's activity totals for a user, when another source (the Fitbit emulator) has them.
TotalsSource = Callable[[GoogleUser, date], generate.Totals | None]


class UnknownPoint(LookupError):
    pass


class DataStore:
    def __init__(self, seed: Callable[[], int], totals: TotalsSource) -> None:
        self._seed = seed  # the emulator's seed, read when used: the control API can change it
        self._totals = totals
        self._days: dict[Key, list[Point]] = {}
        self._added = 0

    @property
    def seed(self) -> int:
        return self._seed()

    def day(self, user: GoogleUser, kind: str, on: date, now: datetime) -> list[Point]:
        stored = self._days.get((user.health_user_id, kind, on))
        if stored is not None:
            return stored
        if not user.member_since <= on <= user.today(now):
            return []
        return [p for p in self._generate(user, kind, on) if p.end <= now]

    def _generate(self, user: GoogleUser, kind: str, on: date) -> list[Point]:
        uid, zone = user.health_user_id, user.zone()
        if kind in ACTIVITY_TYPES:
            totals = self._totals(user, on) or generate.own_totals(self.seed, uid, on)
            return generate.activity(self.seed, uid, zone, on, totals)[kind]
        makers = {
            "exercise": generate.exercises,
            "sleep": generate.sleeps,
            "weight": generate.weights,
            "body-fat": generate.body_fats,
            "daily-resting-heart-rate": generate.resting_heart_rates,
            "hydration-log": generate.hydrations,
            "nutrition-log": generate.nutritions,
        }
        return makers[kind](self.seed, uid, zone, on)

    def _edit(self, user: GoogleUser, kind: str, on: date, now: datetime) -> list[Point]:
        key = (user.health_user_id, kind, on)
        if key not in self._days:
            self._days[key] = copy.deepcopy(self.day(user, kind, on, now))
        return self._days[key]

    def points(
        self, user: GoogleUser, kind: str, low: date | None, high: date | None, now: datetime
    ) -> Iterator[Point]:
        """Points from `high` down to `low` (local dates), newest first."""
        day = min(high or user.today(now), user.today(now) + timedelta(days=1))
        first = max(low or user.member_since, user.member_since - timedelta(days=1))
        while day >= first:
            yield from sorted(self.day(user, kind, day, now), key=lambda p: p.start, reverse=True)
            day -= timedelta(days=1)

    def query(
        self,
        user: GoogleUser,
        kind: str,
        terms: list[Term],
        bounds: tuple[date | None, date | None],
        now: datetime,
        *,
        offset: int,
        limit: int,
    ) -> tuple[list[Point], bool]:
        """A page of matching points, and whether more follow."""
        found: list[Point] = []
        for point in self.points(user, kind, *bounds, now):
            if all(term.matches(point) for term in terms):
                found.append(point)
                if len(found) > offset + limit:
                    return found[offset : offset + limit], True
        return found[offset:], False

    # -- changes through the control API -----------------------------------------------------

    def new_point(self, user: GoogleUser, kind: str, on: date) -> Point:
        """A realistic point of this type on that local day, not yet stored."""
        self._added += 1
        uid = user.health_user_id
        rng = generate.stream(self.seed, uid, on, kind, "added", self._added)
        pid = generate.point_id(self.seed, uid, kind, on, "added", self._added)
        return generate.one(rng, user.zone(), on, kind, pid, generate.person(self.seed, uid))

    def add(self, user: GoogleUser, point: Point, now: datetime) -> Point:
        """Store a new point; a daily type's replaces the value its day had (one a day)."""
        points = self._edit(user, point.data_type, point.anchor(), now)
        if DATA_TYPES[point.data_type].shape == "daily":
            points.clear()
        points.append(point)
        return point

    def find(self, user: GoogleUser, kind: str, on: date, point_id: str, now: datetime) -> Point:
        for point in self._edit(user, kind, on, now):
            if point.point_id == point_id:
                return point
        raise UnknownPoint(f"no {kind} point {point_id} on {on}")

    def remove(self, user: GoogleUser, point: Point, on: date, now: datetime) -> None:
        self._edit(user, point.data_type, on, now).remove(point)

    def move(self, user: GoogleUser, point: Point, was: date, now: datetime) -> None:
        """Re-file a point whose times changed under the day it now belongs to."""
        if point.anchor() != was:
            self.remove(user, point, was, now)
            self.add(user, point, now)
