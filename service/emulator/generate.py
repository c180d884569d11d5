"""Deterministic, realistic Fitbit data for one (user, resource, date).

Every value comes from a random stream seeded by (seed, user, resource, date), so a day reads
the same on every call and in every run, and nothing is stored until it is changed. Units are
metric, as Fitbit answers without an Accept-Language header: km, kg, ml, cm. Log ids are
above 2^32, as Fitbit's are, so a 32-bit column fails early.
"""

from __future__ import annotations

import hashlib
import itertools
import math
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any

from service.emulator import catalogue as cat
from service.emulator import sleep

JSON = dict[str, Any]


@dataclass
class Day:
    """One (user, resource, date): its logs and, where the endpoint has them, summary and goals."""

    logs: list[JSON] = field(default_factory=list)
    summary: JSON = field(default_factory=dict)
    goals: JSON = field(default_factory=dict)


@dataclass(frozen=True)
class Traits:
    """What stays put about a person from day to day."""

    height_cm: float
    weight_kg: float
    fat_percent: float
    born: date
    gender: str
    bmr: int
    resting_heart_rate: int
    stride_walking_cm: float


def stream(seed: int, *parts: object) -> random.Random:
    digest = hashlib.sha256(":".join(map(str, (seed, *parts))).encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))  # noqa: S311 - test data


def log_id(rng: random.Random) -> int:
    return rng.randrange(2**33, 2**40)


def traits(seed: int, user_id: str) -> Traits:
    rng = stream(seed, user_id, "traits")
    height = round(rng.uniform(155, 195), 1)
    weight = round(rng.uniform(20, 28) * (height / 100) ** 2, 1)
    return Traits(
        height_cm=height,
        weight_kg=weight,
        fat_percent=round(rng.uniform(14, 30), 1),
        born=date(rng.randint(1955, 2004), rng.randint(1, 12), rng.randint(1, 28)),
        gender=rng.choice(("MALE", "FEMALE")),
        bmr=round(10 * weight + 6.25 * height - 5 * 40),
        resting_heart_rate=rng.randint(52, 74),
        stride_walking_cm=round(height * 0.415, 1),
    )


def local_iso(at: datetime) -> str:
    return at.isoformat(timespec="milliseconds")


def utc_iso(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def heart_zone_bounds(person: Traits, day: date) -> list[tuple[int, int]]:
    peak = 220 - (day.year - person.born.year)
    cuts = [30, round(peak * 0.5), round(peak * 0.7), round(peak * 0.85), 220]
    return list(itertools.pairwise(cuts))


def _split(rng: random.Random, total: int, parts: int) -> list[int]:
    """`total` as `parts` non-negative integers, weighted at random."""
    weights = [rng.random() + 0.05 for _ in range(parts)]
    shares = [math.floor(total * w / sum(weights)) for w in weights]
    shares[-1] += total - sum(shares)
    return shares


# -- activities --------------------------------------------------------------------------


def activity_log(rng: random.Random, person: Traits, zone: tzinfo, day: date) -> JSON:
    kind = rng.choice(cat.ACTIVITY_TYPES)
    minutes = rng.randint(20, 75)
    start = datetime.combine(day, time(rng.randint(6, 19), rng.randrange(60), rng.randrange(60)))
    start = start.replace(tzinfo=zone)
    paused_ms = rng.choice((0, 0, rng.randint(1, 5))) * 60_000
    duration_ms = minutes * 60_000 + paused_ms
    log_type = rng.choice(cat.LOG_TYPES)
    log: JSON = {
        "activeDuration": minutes * 60_000,
        "activityLevel": _levels(rng, minutes),
        "activityName": kind.name,
        "activityTypeId": kind.type_id,
        "averageHeartRate": rng.randint(95, 150),
        "calories": round(minutes * kind.kcal_per_minute * rng.uniform(0.9, 1.1)),
        "duration": duration_ms,
        "elevationGain": round(rng.randint(0, 8) * 1.524, 3),
        "hasActiveZoneMinutes": True,
        "heartRateZones": _zones(rng, person, day, minutes),
        "lastModified": utc_iso(start + timedelta(milliseconds=duration_ms, minutes=4)),
        "logId": log_id(rng),
        "logType": log_type,
        "manualValuesSpecified": {"calories": False, "distance": False, "steps": False},
        "originalDuration": duration_ms,
        "originalStartTime": local_iso(start),
        "startTime": local_iso(start),
        "steps": round(minutes * kind.steps_per_minute * rng.uniform(0.9, 1.1)),
    }
    if kind.km_per_hour:
        log["distance"] = round(kind.km_per_hour * minutes / 60 * rng.uniform(0.85, 1.15), 2)
        log["distanceUnit"] = "Kilometer"
    if log_type == "tracker":
        log["source"] = dict(cat.TRACKER)
    return log


def _levels(rng: random.Random, minutes: int) -> list[JSON]:
    shares = _split(rng, minutes, len(cat.ACTIVITY_LEVELS))
    return [{"minutes": m, "name": n} for m, n in zip(shares, cat.ACTIVITY_LEVELS, strict=True)]


def _zones(rng: random.Random, person: Traits, day: date, minutes: int) -> list[JSON]:
    shares = _split(rng, minutes, len(cat.HEART_ZONES))
    bounds = heart_zone_bounds(person, day)
    return [
        {"max": high, "min": low, "minutes": share, "name": name}
        for (low, high), share, name in zip(bounds, shares, cat.HEART_ZONES, strict=True)
    ]


def activities(rng: random.Random, person: Traits, zone: tzinfo, day: date) -> Day:
    logs = [activity_log(rng, person, zone, day) for _ in range(rng.choice((0, 1, 1, 2)))]
    logs.sort(key=lambda log: log["startTime"])
    summary = _activity_summary(rng, person, day, logs)
    return Day(logs=logs, summary=summary, goals=_activity_goals(person))


def _activity_goals(person: Traits) -> JSON:
    return {**cat.ACTIVITY_GOALS, "caloriesOut": person.bmr + 800, "steps": cat.STEP_GOAL}


def _activity_summary(rng: random.Random, person: Traits, day: date, logs: list[JSON]) -> JSON:
    very, fairly, lightly = rng.randint(0, 50), rng.randint(0, 40), rng.randint(120, 320)
    steps = rng.randint(2500, 12000) + sum(log["steps"] for log in logs)
    total_km = round(steps * person.stride_walking_cm / 100_000, 2)
    activity_calories = round(very * 11 + fairly * 7 + lightly * 3.5)
    floors = rng.randint(0, 25)
    return {
        "activeScore": -1,
        "activityCalories": activity_calories,
        "caloriesBMR": person.bmr,
        "caloriesOut": person.bmr + activity_calories,
        "distances": _distances(rng, total_km, logs),
        "elevation": round(floors * 3.048, 2),
        "fairlyActiveMinutes": fairly,
        "floors": floors,
        "heartRateZones": _day_zones(rng, person, day),
        "lightlyActiveMinutes": lightly,
        "marginalCalories": round(activity_calories * 0.7),
        "restingHeartRate": person.resting_heart_rate + rng.randint(-2, 2),
        "sedentaryMinutes": 1440 - 480 - very - fairly - lightly,
        "steps": steps,
        "veryActiveMinutes": very,
    }


def _distances(rng: random.Random, total_km: float, logs: list[JSON]) -> list[JSON]:
    very, moderate, light = (round(total_km * share, 2) for share in _fractions(rng, 3))
    logged = round(sum(log.get("distance", 0) for log in logs), 2)
    values = (total_km, total_km, logged, very, moderate, light, 0)
    return [{"activity": n, "distance": v} for n, v in zip(cat.DISTANCES, values, strict=True)]


def _fractions(rng: random.Random, parts: int) -> list[float]:
    weights = [rng.random() + 0.1 for _ in range(parts)]
    return [w / sum(weights) for w in weights]


def _day_zones(rng: random.Random, person: Traits, day: date) -> list[JSON]:
    peak, cardio, fat_burn = rng.randint(0, 5), rng.randint(0, 25), rng.randint(30, 200)
    minutes = [1440 - peak - cardio - fat_burn, fat_burn, cardio, peak]
    rates = (1.1, 5.5, 9.0, 12.0)  # kcal per minute in each zone
    bounds = heart_zone_bounds(person, day)
    zones = zip(minutes, rates, bounds, cat.HEART_ZONES, strict=True)
    return [
        {
            "caloriesOut": round(m * rate * rng.uniform(0.9, 1.1), 5),
            "max": high,
            "min": low,
            "minutes": m,
            "name": name,
        }
        for m, rate, (low, high), name in zones
    ]


# -- body --------------------------------------------------------------------------------


def _measurement(
    rng: random.Random, person: Traits, day: date, *, with_fat: bool = False
) -> tuple[JSON, JSON | None]:
    """One weigh-in (weight log, fat log or None), with the shared logId Fitbit gives both."""
    at = time(rng.randint(6, 8), rng.randrange(60), rng.randrange(60))
    weight = round(person.weight_kg + 1.2 * math.sin(day.toordinal() / 23) + rng.gauss(0, 0.25), 2)
    ident = int(datetime.combine(day, at, tzinfo=UTC).timestamp() * 1000)
    common = {"date": day.isoformat(), "logId": ident, "time": at.isoformat()}
    measured_fat = rng.random() < 0.85 or with_fat
    fat = round(person.fat_percent + rng.gauss(0, 0.4), 2) if measured_fat else None
    source = "Aria" if fat is not None else "API"
    bmi = round(weight / (person.height_cm / 100) ** 2, 2)
    weight_log = {**common, "bmi": bmi, "source": source, "weight": weight}
    if fat is None:
        return weight_log, None
    return weight_log | {"fat": fat}, {**common, "fat": fat, "source": source}


def weight(rng: random.Random, person: Traits, zone: tzinfo, day: date) -> Day:
    if rng.random() >= 0.55:
        return Day()
    return Day(logs=[_measurement(rng, person, day)[0]])


def fat(rng: random.Random, person: Traits, zone: tzinfo, day: date) -> Day:
    # Same stream as weight ("body"), so a day's fat log shares the weigh-in of its weight log.
    if rng.random() >= 0.55:
        return Day()
    fat_log = _measurement(rng, person, day)[1]
    return Day(logs=[fat_log] if fat_log else [])


# -- foods and water ---------------------------------------------------------------------


def food_log(rng: random.Random, day: date, meal: int) -> JSON:
    food = rng.choice(cat.FOODS)
    grams = rng.randint(*food.grams)
    factor = grams / 100
    values = {
        "calories": round(food.calories * factor),
        "carbs": round(food.carbs * factor, 2),
        "fat": round(food.fat * factor, 2),
        "fiber": round(food.fiber * factor, 2),
        "protein": round(food.protein * factor, 2),
        "sodium": round(food.sodium * factor, 2),
    }
    logged = {
        "accessLevel": "PUBLIC",
        "amount": grams,
        "brand": food.brand,
        "calories": values["calories"],
        "foodId": food.food_id,
        "locale": "en_GB",
        "mealTypeId": meal,
        "name": food.name,
        "unit": dict(cat.GRAM),
        "units": list(cat.FOOD_UNITS),
    }
    return {
        "isFavorite": rng.random() < 0.3,
        "logDate": day.isoformat(),
        "logId": log_id(rng),
        "loggedFood": logged,
        "nutritionalValues": values,
    }


def foods(rng: random.Random, person: Traits, zone: tzinfo, day: date) -> Day:
    logs = [
        food_log(rng, day, meal)
        for meal, least, most in cat.MEALS
        for _ in range(rng.randint(least, most))
    ]
    return Day(logs=logs, goals=_food_goals(person))


def _food_goals(person: Traits) -> JSON:
    return {"calories": person.bmr + 700}


def water_log(rng: random.Random) -> JSON:
    return {"amount": rng.choice(cat.WATER_AMOUNTS), "logId": log_id(rng)}


def water(rng: random.Random, person: Traits, zone: tzinfo, day: date) -> Day:
    return Day(logs=[water_log(rng) for _ in range(rng.randint(0, 7))])


def sleep_day(rng: random.Random, person: Traits, zone: tzinfo, day: date) -> Day:
    logs = [sleep.main_sleep(rng, day, log_id(rng))] if rng.random() < 0.92 else []
    if rng.random() < 0.15:
        logs.append(sleep.nap(rng, day, log_id(rng)))
    return Day(logs=logs)


Generator = Callable[[random.Random, Traits, tzinfo, date], Day]
GENERATORS: dict[str, Generator] = {
    "activities": activities,
    "weight": weight,
    "fat": fat,
    "foods": foods,
    "water": water,
    "sleep": sleep_day,
}
# Weight and fat come from one weigh-in, so they read one stream.
STREAMS = {"weight": "body", "fat": "body"}


def generate(seed: int, user_id: str, zone: tzinfo, resource: str, day: date) -> Day:
    rng = stream(seed, user_id, STREAMS.get(resource, resource), day.isoformat())
    return GENERATORS[resource](rng, traits(seed, user_id), zone, day)


def blank(seed: int, user_id: str, resource: str, day: date) -> Day:
    """A day without data, as Fitbit answers one: no logs, a zeroed activity summary, goals."""
    person = traits(seed, user_id)
    if resource == "foods":
        return Day(goals=_food_goals(person))
    if resource != "activities":
        return Day()
    zones = [
        {"caloriesOut": 0, "max": high, "min": low, "minutes": 0, "name": name}
        for (low, high), name in zip(heart_zone_bounds(person, day), cat.HEART_ZONES, strict=True)
    ]
    summary = {
        "activeScore": -1,
        "activityCalories": 0,
        "caloriesBMR": person.bmr,
        "caloriesOut": person.bmr,
        "distances": [{"activity": name, "distance": 0} for name in cat.DISTANCES],
        "elevation": 0,
        "fairlyActiveMinutes": 0,
        "floors": 0,
        "heartRateZones": zones,
        "lightlyActiveMinutes": 0,
        "marginalCalories": 0,
        "sedentaryMinutes": 1440,
        "steps": 0,
        "veryActiveMinutes": 0,
    }
    return Day(summary=summary, goals=_activity_goals(person))


def new_log(rng: random.Random, person: Traits, zone: tzinfo, resource: str, day: date) -> JSON:
    """A realistic log to add on `day`, before the caller's fields are laid over it."""
    if resource == "activities":
        return activity_log(rng, person, zone, day)
    if resource in ("weight", "fat"):
        weight_log, fat_log = _measurement(rng, person, day, with_fat=resource == "fat")
        return fat_log if fat_log is not None and resource == "fat" else weight_log
    if resource == "foods":
        return food_log(rng, day, rng.choice(cat.MEALS)[0])
    if resource == "water":
        return water_log(rng)
    return sleep.main_sleep(rng, day, log_id(rng))
