"""Fitbit responses parsed into provider-neutral rows (`service.providers.rows`).

The one place that knows Fitbit's payload shapes. Pure: a response body in, rows out. Fields a
user's scopes or device do not provide are None; a body whose structure is not what Fitbit
sends raises `UnexpectedResponse`. Each row keeps the Fitbit object it came from as `raw`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from service.providers import rows
from service.providers.fitbit import values
from service.providers.fitbit.fetch import Endpoint
from service.providers.fitbit.values import Obj

Tables = dict[type[rows.Row], list[rows.Row]]


def parse(endpoint: Endpoint, date: dt.date, body: Any) -> Tables:
    """The rows of one response for the key's `date`, by kind (every kind of the endpoint)."""
    return _PARSERS[endpoint](values.obj(body, endpoint.value), date)


def merge(into: Tables, more: Tables) -> Tables:
    """Add `more` (another endpoint, or the next page) to `into`."""
    for kind, found in more.items():
        into.setdefault(kind, []).extend(found)
    return into


# -- activities --------------------------------------------------------------------------------


def _activity_summary(body: Obj, date: dt.date) -> Tables:
    summary = values.obj(body.get("summary"), "activity summary")
    row = rows.ActivitySummary(
        date=date,
        steps=values.integer(summary, "steps"),
        calories_out=values.integer(summary, "caloriesOut"),
        activity_calories=values.integer(summary, "activityCalories"),
        calories_bmr=values.integer(summary, "caloriesBMR"),
        distance_km=_total_distance(summary.get("distances")),
        floors=values.integer(summary, "floors"),
        elevation_m=values.real(summary, "elevation"),
        sedentary_minutes=values.integer(summary, "sedentaryMinutes"),
        lightly_active_minutes=values.integer(summary, "lightlyActiveMinutes"),
        fairly_active_minutes=values.integer(summary, "fairlyActiveMinutes"),
        very_active_minutes=values.integer(summary, "veryActiveMinutes"),
        resting_heart_rate=values.integer(summary, "restingHeartRate"),
        heart_rate_zones=values.objects(summary.get("heartRateZones"), "heart rate zones") or None,
        # The logged activities in this body are stored, in full, from the activity log list.
        raw={key: value for key, value in body.items() if key != "activities"},
    )
    return {rows.ActivitySummary: [row]}


def _total_distance(distances: Any) -> float | None:
    for item in values.objects(distances, "distances"):
        if item.get("activity") == "total":
            return values.real(item, "distance")
    return None


def _activity_logs(body: Obj, date: dt.date) -> Tables:
    found = values.objects(body.get("activities"), "activities")
    logs = [_activity_log(item) for item in found]
    # The list runs past the end of the day; later days belong to their own keys.
    return {rows.ActivityLog: [log for log in logs if log.date == date]}


def _activity_log(item: Obj) -> rows.ActivityLog:
    start = values.local_datetime(item.get("startTime"))
    return rows.ActivityLog(
        log_id=values.log_id(item),
        date=start.date(),
        start_time=start,
        duration_ms=values.integer(item, "duration"),
        active_duration_ms=values.integer(item, "activeDuration"),
        name=values.text(item, "activityName"),
        activity_type_id=values.integer(item, "activityTypeId"),
        log_type=values.text(item, "logType"),
        calories=values.integer(item, "calories"),
        steps=values.integer(item, "steps"),
        distance_km=values.real(item, "distance"),
        average_heart_rate=values.integer(item, "averageHeartRate"),
        elevation_gain_m=values.real(item, "elevationGain"),
        heart_rate_zones=values.objects(item.get("heartRateZones"), "heart rate zones") or None,
        raw=item,
    )


# -- sleep ---------------------------------------------------------------------------------------


def _sleep(body: Obj, date: dt.date) -> Tables:
    found = values.objects(body.get("sleep"), "sleep")
    return {rows.SleepLog: [_sleep_log(item, date) for item in found]}


def _sleep_log(item: Obj, date: dt.date) -> rows.SleepLog:
    levels = values.inner(item, "levels")
    end = item.get("endTime")
    return rows.SleepLog(
        log_id=values.log_id(item),
        date=values.date_or(item, "dateOfSleep", date),
        start_time=values.local_datetime(item.get("startTime")),
        end_time=values.local_datetime(end) if end is not None else None,
        duration_ms=values.integer(item, "duration"),
        efficiency=values.integer(item, "efficiency"),
        minutes_asleep=values.integer(item, "minutesAsleep"),
        minutes_awake=values.integer(item, "minutesAwake"),
        minutes_to_fall_asleep=values.integer(item, "minutesToFallAsleep"),
        time_in_bed=values.integer(item, "timeInBed"),
        is_main_sleep=values.flag(item, "isMainSleep"),
        sleep_type=values.text(item, "type"),
        stage_summary=values.inner(levels, "summary") or None,
        stages=_stages(levels.get("data")),
        short_wakes=_stages(levels.get("shortData")),
        raw=item,
    )


def _stages(items: Any) -> list[rows.Raw] | None:
    if items is None:
        return None
    return [_stage(item) for item in values.objects(items, "sleep levels")]


def _stage(item: Obj) -> rows.Raw:
    # The live API says `dateTime`; Fitbit's own samples (and older answers) say `datetime`.
    start = item.get("dateTime", item.get("datetime"))
    return {
        "start": values.local_datetime(start).isoformat(),
        "level": values.text(item, "level"),
        "seconds": values.integer(item, "seconds"),
    }


# -- body ----------------------------------------------------------------------------------------


def _weight(body: Obj, date: dt.date) -> Tables:
    found = values.objects(body.get("weight"), "weight")
    return {rows.WeightLog: [_weight_log(item, date) for item in found]}


def _weight_log(item: Obj, date: dt.date) -> rows.WeightLog:
    return rows.WeightLog(
        log_id=values.log_id(item),
        source=values.text(item, "source") or "",
        date=values.date_or(item, "date", date),
        time=values.time(item.get("time")),
        weight_kg=values.real(item, "weight"),
        bmi=values.real(item, "bmi"),
        fat_percent=values.real(item, "fat"),
        raw=item,
    )


def _body_fat(body: Obj, date: dt.date) -> Tables:
    found = values.objects(body.get("fat"), "fat")
    return {rows.BodyFatLog: [_body_fat_log(item, date) for item in found]}


def _body_fat_log(item: Obj, date: dt.date) -> rows.BodyFatLog:
    return rows.BodyFatLog(
        log_id=values.log_id(item),
        source=values.text(item, "source") or "",
        date=values.date_or(item, "date", date),
        time=values.time(item.get("time")),
        fat_percent=values.real(item, "fat"),
        raw=item,
    )


# -- foods and water -----------------------------------------------------------------------------


def _food(body: Obj, date: dt.date) -> Tables:
    logs: list[rows.Row] = [
        _food_log(item, date) for item in values.objects(body.get("foods"), "foods")
    ]
    summary = body.get("summary")
    if summary is None:
        return {rows.FoodLog: logs, rows.NutritionSummary: []}
    daily = _nutrition(values.obj(summary, "food summary"), body, date)
    return {rows.FoodLog: logs, rows.NutritionSummary: [daily]}


def _food_log(item: Obj, date: dt.date) -> rows.FoodLog:
    food = values.inner(item, "loggedFood")
    nutrients = values.inner(item, "nutritionalValues")
    return rows.FoodLog(
        log_id=values.log_id(item),
        date=values.date_or(item, "logDate", date),
        food_id=values.integer(food, "foodId"),
        name=values.text(food, "name"),
        brand=values.text(food, "brand"),
        meal_type_id=values.integer(food, "mealTypeId"),
        amount=values.real(food, "amount"),
        unit=values.text(values.inner(food, "unit"), "name"),
        calories=values.real(nutrients, "calories"),
        carbs_g=values.real(nutrients, "carbs"),
        fat_g=values.real(nutrients, "fat"),
        fiber_g=values.real(nutrients, "fiber"),
        protein_g=values.real(nutrients, "protein"),
        sodium_mg=values.real(nutrients, "sodium"),
        raw=item,
    )


def _nutrition(summary: Obj, body: Obj, date: dt.date) -> rows.NutritionSummary:
    return rows.NutritionSummary(
        date=date,
        calories=values.real(summary, "calories"),
        carbs_g=values.real(summary, "carbs"),
        fat_g=values.real(summary, "fat"),
        fiber_g=values.real(summary, "fiber"),
        protein_g=values.real(summary, "protein"),
        sodium_mg=values.real(summary, "sodium"),
        raw={key: value for key, value in body.items() if key != "foods"},
    )


def _water(body: Obj, date: dt.date) -> Tables:
    # Water entries carry no date of their own: they are the requested day's.
    logs: list[rows.Row] = [
        rows.WaterLog(
            log_id=values.log_id(item), date=date, amount_ml=values.real(item, "amount"), raw=item
        )
        for item in values.objects(body.get("water"), "water")
    ]
    summary = body.get("summary")
    total = values.real(summary, "water") if isinstance(summary, dict) else None
    raw = {key: value for key, value in body.items() if key != "water"}
    return {
        rows.WaterLog: logs,
        rows.WaterSummary: [rows.WaterSummary(date=date, water_ml=total, raw=raw)],
    }


_PARSERS: dict[Endpoint, Callable[[Obj, dt.date], Tables]] = {
    Endpoint.ACTIVITY_SUMMARY: _activity_summary,
    Endpoint.ACTIVITY_LOGS: _activity_logs,
    Endpoint.SLEEP: _sleep,
    Endpoint.WEIGHT: _weight,
    Endpoint.BODY_FAT: _body_fat,
    Endpoint.FOOD_LOG: _food,
    Endpoint.WATER: _water,
}
