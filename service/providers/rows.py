"""Provider-neutral rows: what one fetch of a user's (collection, date) turns into.

A provider parses its own payloads into these; the store writes them to the table of the same
name without knowing which provider they came from. Dates and times are the user's local ones,
exactly as the provider gave them; the store adds the user's UTC offset so UTC can be derived.
Units are metric: kilometres, metres, kilograms, millilitres, kilocalories, grams.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

Raw = dict[str, Any]


@dataclass(frozen=True, slots=True, kw_only=True)
class ActivitySummary:
    date: dt.date
    steps: int | None
    calories_out: int | None
    activity_calories: int | None
    calories_bmr: int | None
    distance_km: float | None
    floors: int | None
    elevation_m: float | None
    sedentary_minutes: int | None
    lightly_active_minutes: int | None
    fairly_active_minutes: int | None
    very_active_minutes: int | None
    resting_heart_rate: int | None
    heart_rate_zones: list[Raw] | None
    raw: Raw


@dataclass(frozen=True, slots=True, kw_only=True)
class ActivityLog:
    log_id: int
    date: dt.date
    start_time: dt.datetime  # local, naive
    duration_ms: int | None
    active_duration_ms: int | None
    name: str | None
    activity_type_id: int | None
    log_type: str | None
    calories: int | None
    steps: int | None
    distance_km: float | None
    average_heart_rate: int | None
    elevation_gain_m: float | None
    heart_rate_zones: list[Raw] | None
    raw: Raw


@dataclass(frozen=True, slots=True, kw_only=True)
class SleepLog:
    log_id: int
    date: dt.date  # the day the sleep ended
    start_time: dt.datetime  # local, naive
    end_time: dt.datetime | None
    duration_ms: int | None
    efficiency: int | None
    minutes_asleep: int | None
    minutes_awake: int | None
    minutes_to_fall_asleep: int | None
    time_in_bed: int | None
    is_main_sleep: bool | None
    sleep_type: str | None  # "stages" or "classic"
    stage_summary: Raw | None
    # Each period as {"start": local ISO datetime, "level": str, "seconds": int}.
    stages: list[Raw] | None
    short_wakes: list[Raw] | None
    raw: Raw


@dataclass(frozen=True, slots=True, kw_only=True)
class WeightLog:
    log_id: int
    source: str
    date: dt.date
    time: dt.time | None
    weight_kg: float | None
    bmi: float | None
    fat_percent: float | None
    raw: Raw


@dataclass(frozen=True, slots=True, kw_only=True)
class BodyFatLog:
    log_id: int
    source: str
    date: dt.date
    time: dt.time | None
    fat_percent: float | None
    raw: Raw


@dataclass(frozen=True, slots=True, kw_only=True)
class FoodLog:
    log_id: int
    date: dt.date
    food_id: int | None
    name: str | None
    brand: str | None
    meal_type_id: int | None
    amount: float | None
    unit: str | None
    calories: float | None
    carbs_g: float | None
    fat_g: float | None
    fiber_g: float | None
    protein_g: float | None
    sodium_mg: float | None
    raw: Raw


@dataclass(frozen=True, slots=True, kw_only=True)
class NutritionSummary:
    date: dt.date
    calories: float | None
    carbs_g: float | None
    fat_g: float | None
    fiber_g: float | None
    protein_g: float | None
    sodium_mg: float | None
    raw: Raw


@dataclass(frozen=True, slots=True, kw_only=True)
class WaterLog:
    log_id: int
    date: dt.date
    amount_ml: float | None
    raw: Raw


@dataclass(frozen=True, slots=True, kw_only=True)
class WaterSummary:
    date: dt.date
    water_ml: float | None
    raw: Raw


Row = (
    ActivitySummary
    | ActivityLog
    | SleepLog
    | WeightLog
    | BodyFatLog
    | FoodLog
    | NutritionSummary
    | WaterLog
    | WaterSummary
)


@dataclass(frozen=True, slots=True)
class DayData:
    """Everything the provider says about one (collection, date) of a user.

    Every kind in `tables` is replaced for that date: its rows are upserted and the user's rows
    of that kind and date that are not among them are deleted. A kind with an empty list means
    "the provider has none on that date"; a kind that is absent is left alone.
    """

    date: dt.date
    tables: Mapping[type[Row], Sequence[Row]]
