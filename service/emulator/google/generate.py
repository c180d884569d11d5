"""Deterministic, realistic data per (user, data type, local date), from a seed.

One day's movement is 15-minute buckets from local midnight to the next (23 or 25 hours on a
DST day), whose steps, distance, floors, altitude gain and calories add up to the day's
totals: the user's own generated totals, or, for a user with a legacy Fitbit id, the totals
of that Fitbit user's day in the Fitbit emulator, so both providers describe the same day.
Each waking bucket also has an activity level, from its steps a minute (asleep is no level,
as Fitbit's sedentary minutes leave out sleep). The daily resting heart rate is one point a
day, over the whole local day. Every point carries the UTC offset of its own instants.
"""

from __future__ import annotations

import hashlib
import math
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from service.emulator.google.datatypes import JSON, Point, duration, timestamp

BUCKET = timedelta(minutes=15)
WATCH: JSON = {
    "recordingMethod": "PASSIVELY_MEASURED",
    "device": {"displayName": "Pixel Watch 3", "formFactor": "WATCH", "manufacturer": "Google"},
    "platform": "FITBIT",
    "application": {"packageName": "com.fitbit.FitbitMobile"},
}
SCALE: JSON = {
    "recordingMethod": "ACTIVELY_MEASURED",
    "device": {"displayName": "Aria Air", "formFactor": "SCALE", "manufacturer": "Fitbit"},
    "platform": "FITBIT",
    "application": {"packageName": "com.fitbit.FitbitMobile"},
}
MANUAL: JSON = {
    "recordingMethod": "MANUAL",
    "platform": "FITBIT",
    "application": {"packageName": "com.fitbit.FitbitMobile"},
}
EXERCISES = (
    ("WALKING", "Walking", 4.8),
    ("RUNNING", "Running", 10.5),
    ("OUTDOOR_BIKE", "Outdoor Bike", 8.0),
    ("SWIMMING", "Swimming", 9.0),
    ("STRENGTH_TRAINING", "Strength Training", 6.0),
    ("YOGA", "Yoga", 3.5),
)
# Steps a minute from which a bucket counts as lightly, moderately and very active.
LEVELS = ((100.0, "VERY_ACTIVE"), (60.0, "MODERATELY_ACTIVE"), (10.0, "LIGHTLY_ACTIVE"))
FOODS = ("Oatmeal", "Chicken salad", "Pasta", "Apple", "Yogurt", "Rice and beans", "Soup")


@dataclass(frozen=True)
class Totals:
    """One day's activity, as a daily summary states it."""

    steps: int
    distance_mm: int
    floors: int
    kcal: float


def stream(seed: int, *parts: object) -> random.Random:
    digest = hashlib.sha256(":".join(map(str, (seed, *parts))).encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))  # noqa: S311 - test data


def point_id(seed: int, user_id: str, kind: str, day: date, *parts: object) -> str:
    """A data point id (4-63 lowercase letters, digits, hyphens) that starts with its day."""
    key = ":".join(map(str, ("point", seed, user_id, kind, day, *parts)))
    return f"{day:%Y%m%d}-{hashlib.sha256(key.encode()).hexdigest()[:16]}"


def person(seed: int, user_id: str) -> tuple[float, float, float]:
    """(weight kg, body fat %, stride m): a person's stable traits."""
    rng = stream(seed, user_id, "person")
    return round(rng.uniform(55, 100), 1), round(rng.uniform(14, 30), 1), rng.uniform(0.65, 0.8)


def own_totals(seed: int, user_id: str, day: date) -> Totals:
    rng = stream(seed, user_id, day, "totals")
    steps = rng.randint(2500, 14000)
    stride = person(seed, user_id)[2]
    bmr = 1400 + rng.random() * 400
    return Totals(
        steps, round(steps * stride * 1000), rng.randint(0, 25), round(bmr + steps * 0.045, 2)
    )


def _at(zone: ZoneInfo, day: date, hours: float) -> datetime:
    local = datetime.combine(day, time(0), tzinfo=zone) + timedelta(hours=hours)
    return local.astimezone(UTC)


def _point(
    kind: str, pid: str, zone: ZoneInfo, start: datetime, end: datetime, values: JSON, source: JSON
) -> Point:
    return Point(
        point_id=pid,
        data_type=kind,
        start=start,
        end=end,
        start_offset=start.astimezone(zone).utcoffset() or timedelta(0),
        end_offset=end.astimezone(zone).utcoffset() or timedelta(0),
        values=values,
        source=source,
        created=end,
    )


def split(rng: random.Random, total: int, weights: list[float]) -> list[int]:
    """`total` in whole parts proportional to `weights`, summing exactly."""
    if not weights:
        return []
    whole = sum(weights) or 1.0
    shares = [math.floor(total * weight / whole) for weight in weights]
    shares[rng.randrange(len(shares))] += total - sum(shares)
    return shares


def activity(
    seed: int, user_id: str, zone: ZoneInfo, day: date, totals: Totals
) -> dict[str, list[Point]]:
    """The day's steps, distance, floors, altitude, total-calories and activity-level points."""
    rng = stream(seed, user_id, day, "buckets")
    start = datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone).astimezone(UTC)
    buckets = [start + BUCKET * i for i in range(int((end - start) / BUCKET))]
    awake = [7 <= b.astimezone(zone).hour < 23 for b in buckets]
    weights = [rng.random() ** 2 if up else 0.0 for up in awake]
    steps = split(rng, totals.steps, weights)
    distance = (
        split(rng, totals.distance_mm, [float(s) for s in steps])
        if totals.steps
        else [0] * len(steps)
    )
    climbs = [rng.random() if up and rng.random() < 0.1 else 0.0 for up in awake]
    floors = split(rng, totals.floors, climbs) if any(climbs) else [0] * len(buckets)
    cents = split(rng, round(totals.kcal * 100), [1.0 + s / 40 for s in steps])
    out: dict[str, list[Point]] = {
        name: []
        for name in ("steps", "distance", "floors", "altitude", "total-calories", "activity-level")
    }
    for i, at in enumerate(buckets):
        made = _bucket_maker(zone, day, i, at)
        if steps[i]:
            out["steps"].append(made("steps", {"count": str(steps[i])}))
            out["distance"].append(made("distance", {"millimeters": str(distance[i])}))
        if floors[i]:
            out["floors"].append(made("floors", {"count": str(floors[i])}))
            out["altitude"].append(made("altitude", {"gainMillimeters": str(floors[i] * 3048)}))
        out["total-calories"].append(made("total-calories", {"kcal": cents[i] / 100}))
        if awake[i]:
            level = activity_level(steps[i] / (BUCKET.total_seconds() / 60))
            out["activity-level"].append(made("activity-level", {"activityLevelType": level}))
    return out


def activity_level(steps_per_minute: float) -> str:
    return next((name for least, name in LEVELS if steps_per_minute >= least), "SEDENTARY")


def _bucket_maker(zone: ZoneInfo, day: date, i: int, at: datetime) -> Callable[[str, JSON], Point]:
    def made(kind: str, values: JSON) -> Point:
        return _point(kind, f"{kind}-{day}-{i}", zone, at, at + BUCKET, values, WATCH)

    return made


def exercises(seed: int, user_id: str, zone: ZoneInfo, day: date) -> list[Point]:
    rng = stream(seed, user_id, day, "exercise")
    out = []
    for n in range(rng.choice((0, 1, 1, 2))):
        out.append(
            exercise(rng, zone, day, point_id(seed, user_id, "exercise", day, n), hour=7 + 6 * n)
        )
    return out


def exercise(
    rng: random.Random, zone: ZoneInfo, day: date, pid: str, hour: float | None = None
) -> Point:
    kind, label, kmh = rng.choice(EXERCISES)
    start = _at(zone, day, (hour if hour is not None else 7) + rng.uniform(0, 5))
    minutes = rng.randint(20, 75)
    end = start + timedelta(minutes=minutes)
    distance = kmh * minutes / 60 * 1_000_000 if kind != "STRENGTH_TRAINING" else 0.0
    summary: JSON = {
        "caloriesKcal": round(minutes * rng.uniform(6, 11), 1),
        "distanceMillimeters": round(distance),
        "steps": str(round(distance / 750)) if kind in ("WALKING", "RUNNING") else "0",
        "averageHeartRateBeatsPerMinute": str(rng.randint(95, 160)),
        "activeZoneMinutes": str(rng.randint(0, minutes)),
    }
    values = {
        "exerciseType": kind,
        "displayName": label,
        "activeDuration": duration(end - start),
        "metricsSummary": summary,
        "createTime": timestamp(end),
        "updateTime": timestamp(end),
    }
    return _point("exercise", pid, zone, start, end, values, WATCH)


def sleeps(seed: int, user_id: str, zone: ZoneInfo, day: date) -> list[Point]:
    """The main sleep that ended on the morning of `day`."""
    rng = stream(seed, user_id, day, "sleep")
    if rng.random() < 0.1:
        return []
    return [sleep(rng, zone, day, point_id(seed, user_id, "sleep", day, 0))]


def sleep(rng: random.Random, zone: ZoneInfo, day: date, pid: str) -> Point:
    start = _at(zone, day, rng.uniform(-2.5, 0.5))
    end = start + timedelta(minutes=rng.randint(330, 540))
    stages: list[JSON] = []
    at = start
    cycle = ("LIGHT", "DEEP", "LIGHT", "REM", "AWAKE")
    while at < end:
        for kind in cycle:
            length = timedelta(
                minutes=rng.randint(2, 8) if kind == "AWAKE" else rng.randint(10, 35)
            )
            stop = min(at + length, end)
            stages.append(_stage(zone, kind, at, stop))
            at = stop
            if at >= end:
                break
    return _point("sleep", pid, zone, start, end, sleep_values(stages, start, end), WATCH)


def _stage(zone: ZoneInfo, kind: str, start: datetime, end: datetime) -> JSON:
    return {
        "type": kind,
        "startTime": timestamp(start),
        "startUtcOffset": duration(start.astimezone(zone).utcoffset() or timedelta(0)),
        "endTime": timestamp(end),
        "endUtcOffset": duration(end.astimezone(zone).utcoffset() or timedelta(0)),
        "createTime": timestamp(end),
        "updateTime": timestamp(end),
    }


def sleep_values(stages: list[JSON], start: datetime, end: datetime) -> JSON:
    """A sleep's stages with the summary Google computes from them."""
    minutes: dict[str, int] = {}
    counts: dict[str, int] = {}
    for stage in stages:
        begin = datetime.fromisoformat(stage["startTime"])
        stop = datetime.fromisoformat(stage["endTime"])
        minutes[stage["type"]] = minutes.get(stage["type"], 0) + round(
            (stop - begin).total_seconds() / 60
        )
        counts[stage["type"]] = counts.get(stage["type"], 0) + 1
    awake = minutes.get("AWAKE", 0)
    total = round((end - start).total_seconds() / 60)
    summary = {
        "minutesInSleepPeriod": str(total),
        "minutesAsleep": str(sum(minutes.values()) - awake),
        "minutesAwake": str(awake),
        "minutesToFallAsleep": "0",
        "minutesAfterWakeUp": "0",
        "stagesSummary": [
            {"type": kind, "minutes": str(minutes[kind]), "count": str(counts[kind])}
            for kind in sorted(minutes)
        ],
    }
    return {
        "type": "STAGES",
        "stages": stages,
        "metadata": {
            "mainSleep": True,
            "nap": False,
            "processed": True,
            "stagesStatus": "SUCCEEDED",
        },
        "summary": summary,
        "createTime": timestamp(end),
        "updateTime": timestamp(end),
    }


def weights(seed: int, user_id: str, zone: ZoneInfo, day: date) -> list[Point]:
    rng = stream(seed, user_id, day, "weight")
    if rng.random() < 0.4:
        return []
    kg = person(seed, user_id)[0] + rng.uniform(-0.8, 0.8)
    at = _at(zone, day, rng.uniform(6.5, 8.5))
    pid = point_id(seed, user_id, "weight", day, 0)
    return [_point("weight", pid, zone, at, at, {"weightGrams": round(kg * 1000, 1)}, SCALE)]


def body_fats(seed: int, user_id: str, zone: ZoneInfo, day: date) -> list[Point]:
    rng = stream(seed, user_id, day, "body-fat")
    if rng.random() < 0.6:
        return []
    at = _at(zone, day, rng.uniform(6.5, 8.5))
    value = round(person(seed, user_id)[1] + rng.uniform(-0.5, 0.5), 1)
    pid = point_id(seed, user_id, "body-fat", day, 0)
    return [_point("body-fat", pid, zone, at, at, {"percentage": value}, SCALE)]


def resting_heart_rates(seed: int, user_id: str, zone: ZoneInfo, day: date) -> list[Point]:
    """The day's resting heart rate (none on one day in ten: too little wear)."""
    rng = stream(seed, user_id, day, "resting-heart-rate")
    if rng.random() < 0.1:
        return []
    usual = stream(seed, user_id, "resting-heart-rate").randint(52, 72)
    pid = point_id(seed, user_id, "daily-resting-heart-rate", day, 0)
    return [resting_heart_rate(zone, day, pid, usual + rng.randint(-3, 3))]


def resting_heart_rate(zone: ZoneInfo, day: date, pid: str, bpm: int) -> Point:
    values = {
        "beatsPerMinute": str(bpm),
        "dailyRestingHeartRateMetadata": {"calculationMethod": "WITH_SLEEP"},
    }
    start, end = _at(zone, day, 0), _at(zone, day + timedelta(days=1), 0)
    return _point("daily-resting-heart-rate", pid, zone, start, end, values, WATCH)


def hydration(rng: random.Random, zone: ZoneInfo, day: date, pid: str, hour: float) -> Point:
    at = _at(zone, day, hour)
    values = {
        "amountConsumed": {
            "milliliters": float(rng.choice((200, 250, 330, 500))),
            "userProvidedUnit": "MILLILITER",
        }
    }
    return _point("hydration-log", pid, zone, at, at, values, MANUAL)


def hydrations(seed: int, user_id: str, zone: ZoneInfo, day: date) -> list[Point]:
    rng = stream(seed, user_id, day, "hydration")
    count = rng.randint(0, 6)
    return [
        hydration(rng, zone, day, point_id(seed, user_id, "hydration-log", day, n), 8 + n * 2.25)
        for n in range(count)
    ]


def nutrition(
    rng: random.Random, zone: ZoneInfo, day: date, pid: str, meal: str, hour: float
) -> Point:
    at = _at(zone, day, hour)
    kcal = round(rng.uniform(150, 900), 1)
    carbs, fat, protein = (
        round(kcal * 0.5 / 4, 1),
        round(kcal * 0.3 / 9, 1),
        round(kcal * 0.2 / 4, 1),
    )
    values = {
        "mealType": meal,
        "foodDisplayName": rng.choice(FOODS),
        "energy": {"kcal": kcal},
        "totalCarbohydrate": {"grams": carbs},
        "totalFat": {"grams": fat},
        "nutrients": [
            {"nutrient": "PROTEIN", "quantity": {"grams": protein}},
            {"nutrient": "DIETARY_FIBER", "quantity": {"grams": round(rng.uniform(1, 9), 1)}},
            {"nutrient": "SODIUM", "quantity": {"grams": round(rng.uniform(0.1, 1.2), 2)}},
        ],
        "serving": {
            "amount": 1.0,
            "foodMeasurementUnit": "serving",
            "foodMeasurementUnitDisplayName": "serving",
        },
    }
    return _point("nutrition-log", pid, zone, at, at, values, MANUAL)


def nutritions(seed: int, user_id: str, zone: ZoneInfo, day: date) -> list[Point]:
    rng = stream(seed, user_id, day, "nutrition")
    meals = [("BREAKFAST", 7.5), ("LUNCH", 12.5), ("DINNER", 19.0), ("SNACK", 16.0)]
    eaten = [meal for meal in meals if rng.random() < 0.7]
    return [
        nutrition(
            rng,
            zone,
            day,
            point_id(seed, user_id, "nutrition-log", day, n),
            meal,
            hour + rng.uniform(0, 1),
        )
        for n, (meal, hour) in enumerate(eaten)
    ]


def one(
    rng: random.Random,
    zone: ZoneInfo,
    day: date,
    kind: str,
    pid: str,
    traits: tuple[float, float, float],
) -> Point:
    """One new point of any type, at a plausible time of that local day."""
    hour = rng.uniform(8, 20)
    if kind == "exercise":
        return exercise(rng, zone, day, pid)
    if kind == "sleep":
        return sleep(rng, zone, day, pid)
    if kind == "hydration-log":
        return hydration(rng, zone, day, pid, hour)
    if kind == "nutrition-log":
        return nutrition(rng, zone, day, pid, "SNACK", hour)
    if kind == "daily-resting-heart-rate":
        return resting_heart_rate(zone, day, pid, rng.randint(50, 75))
    at = _at(zone, day, round(hour * 4) / 4)
    if kind in ("weight", "body-fat"):
        kg, fat, _ = traits
        value = {"weightGrams": round(kg * 1000, 1)} if kind == "weight" else {"percentage": fat}
        return _point(kind, pid, zone, at, at, value, SCALE)
    floors = rng.randint(1, 3)
    table: dict[str, JSON] = {
        "steps": {"count": str(rng.randint(100, 2000))},
        "distance": {"millimeters": str(rng.randint(70_000, 1_500_000))},
        "floors": {"count": str(floors)},
        "altitude": {"gainMillimeters": str(floors * 3048)},
        "total-calories": {"kcal": round(rng.uniform(20, 120), 2)},
        "activity-level": {"activityLevelType": activity_level(rng.uniform(0, 130))},
    }
    return _point(kind, pid, zone, at, at + BUCKET, table[kind], WATCH)
