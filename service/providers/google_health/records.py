"""Google Health answers parsed into the provider-neutral rows of `service.providers.rows`.

The one place that knows Google's data point shapes (Discovery rev 20261002). Pure: answers in,
rows out. Units are Google's fixed ones converted to the rows' metric units (millimetres to
kilometres or metres, grams to kilograms, sodium grams to milligrams); a user's unit settings
never matter (FACTS §5.6). Local times are each point's instant plus the UTC offset the point
carries (`values.local`), so a log recorded while travelling keeps the wall clock it happened
at; the offset itself stays in `raw`.

Mappings where the meaning is the same as Fitbit's:
- daily roll-ups of steps, distance, floors, altitude, total calories and activity level, and
  the daily resting heart rate → one `ActivitySummary` (activity level SEDENTARY / LIGHTLY /
  MODERATELY / VERY_ACTIVE → sedentary / lightly / fairly / very active minutes); Google has
  no activity-calories or BMR figure in these types: None; a member whose scope the person
  did not grant leaves its fields None and is named in `raw["notGranted"]`;
- exercise → `ActivityLog`; sleep (stages, short awakenings, summary) → `SleepLog`, stage names
  in Fitbit's words (`wake`, `light`, `deep`, `rem`; classic `awake`, `restless`, `asleep`);
- weight → `WeightLog` (Google has no BMI: None), body fat → `BodyFatLog`;
- nutrition log → `FoodLog`, its daily roll-up → `NutritionSummary`;
- hydration log → `WaterLog`, its daily roll-up → `WaterSummary`.
Log ids are derived from Google's point names (`values.point_id`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from service.providers import rows
from service.providers.errors import UnexpectedResponse
from service.providers.google_health import values
from service.providers.google_health.datatypes import SUMMARY_TYPES, field_name
from service.providers.google_health.fetch import Call, Kind
from service.providers.google_health.values import Obj

Tables = dict[type[rows.Row], list[rows.Row]]
# The summary's raw member listing the data types whose scope the person did not grant.
NOT_GRANTED = "notGranted"

_ACTIVITY_LEVELS = {
    "SEDENTARY": "sedentary_minutes",
    "LIGHTLY_ACTIVE": "lightly_active_minutes",
    "MODERATELY_ACTIVE": "fairly_active_minutes",
    "VERY_ACTIVE": "very_active_minutes",
}
_STAGES = {"AWAKE": "wake", "LIGHT": "light", "DEEP": "deep", "REM": "rem"}
_CLASSIC = {"AWAKE": "awake", "RESTLESS": "restless", "ASLEEP": "asleep"}
# Fitbit's meal type ids, for the meals both providers name alike.
_MEALS = {"BREAKFAST": 1, "BEFORE_LUNCH": 2, "LUNCH": 3, "BEFORE_DINNER": 4, "DINNER": 5}


class DayBuilder:
    """Collects the answers of one key's calls (every page) into the day's rows."""

    def __init__(self, date: dt.date) -> None:
        self.date = date
        self.tables: Tables = {}
        self._summary: dict[str, Any] | None = None
        self._summary_raw: dict[str, Any] = {}

    def add(self, call: Call, body: Any) -> None:
        answer = values.obj(body, f"{call.data_type} {call.kind.value}")
        if call.data_type in SUMMARY_TYPES:
            self._add_summary(call, answer)
        elif call.kind is Kind.DAILY_ROLLUP:
            self._put(_DAILY_PARSERS[call.data_type](self._window(call, answer), self.date))
        else:
            points = values.objects(answer.get("dataPoints"), f"{call.data_type} points")
            parse = _POINT_PARSERS[call.data_type]
            found = [parse(point, self._value(call, point)) for point in points]
            kind = _POINT_KINDS[call.data_type]
            self.tables.setdefault(kind, []).extend(r for r in found if r.date == self.date)

    def refuse(self, call: Call) -> None:
        """A summary member the person did not let us read: its fields stay None, and the
        row's raw names it under `notGranted`."""
        if self._summary is None:
            self._summary = {}
        self._summary_raw.setdefault(NOT_GRANTED, []).append(call.data_type)

    def build(self) -> rows.DayData:
        if self._summary is not None:
            summary = _activity_summary(self.date, self._summary, self._summary_raw)
            self.tables[rows.ActivitySummary] = [summary] if summary is not None else []
        return rows.DayData(self.date, self.tables)

    def _put(self, tables: Tables) -> None:
        for kind, found in tables.items():
            self.tables.setdefault(kind, []).extend(found)

    def _value(self, call: Call, point: Obj) -> Obj:
        return values.inner(point, field_name(call.data_type))

    def _window(self, call: Call, answer: Obj) -> Obj | None:
        """The roll-up value of the key's day (None when Google has no data that day)."""
        for window in values.objects(answer.get("rollupDataPoints"), "roll-up windows"):
            start = window.get("civilStartTime")
            if start is None or values.civil(start, "window start").date() == self.date:
                value = window.get(field_name(call.data_type))
                return values.obj(value, call.data_type) if value is not None else None
        return None

    def _add_summary(self, call: Call, answer: Obj) -> None:
        fields = self._summary if self._summary is not None else {}
        self._summary = fields
        if call.kind is Kind.DAILY_ROLLUP:
            value = self._window(call, answer)
            self._summary_raw[call.data_type] = value
            if value is not None:
                fields.update(_SUMMARY_FIELDS[call.data_type](value))
            return
        for point in values.objects(answer.get("dataPoints"), "resting heart rate"):
            value = self._value(call, point)
            if values.date_of(value.get("date"), "resting heart rate date") == self.date:
                self._summary_raw[call.data_type] = value
                fields["resting_heart_rate"] = values.integer(value, "beatsPerMinute")


# -- activity summary ------------------------------------------------------------------------------


def _activity_summary(
    date: dt.date, fields: dict[str, Any], raw: dict[str, Any]
) -> rows.ActivitySummary | None:
    if all(value is None for value in fields.values()):
        return None  # no data of any kind that day
    return rows.ActivitySummary(
        date=date,
        steps=fields.get("steps"),
        calories_out=fields.get("calories_out"),
        activity_calories=None,
        calories_bmr=None,
        distance_km=fields.get("distance_km"),
        floors=fields.get("floors"),
        elevation_m=fields.get("elevation_m"),
        sedentary_minutes=fields.get("sedentary_minutes"),
        lightly_active_minutes=fields.get("lightly_active_minutes"),
        fairly_active_minutes=fields.get("fairly_active_minutes"),
        very_active_minutes=fields.get("very_active_minutes"),
        resting_heart_rate=fields.get("resting_heart_rate"),
        heart_rate_zones=None,
        raw=raw,
    )


def _scaled(value: float | None, divisor: float) -> float | None:
    return value / divisor if value is not None else None


def _activity_levels(value: Obj) -> dict[str, Any]:
    fields: dict[str, Any] = dict.fromkeys(_ACTIVITY_LEVELS.values(), 0)
    for level in values.objects(value.get("activityLevelRollupsByActivityLevelType"), "levels"):
        name = _ACTIVITY_LEVELS.get(str(level.get("activityLevelType")))
        seconds = values.duration_seconds(level.get("totalDuration"))
        if name is not None and seconds is not None:
            fields[name] += round(seconds / 60)
    return fields


_SUMMARY_FIELDS: dict[str, Callable[[Obj], dict[str, Any]]] = {
    "steps": lambda v: {"steps": values.integer(v, "countSum")},
    "distance": lambda v: {"distance_km": _scaled(values.number(v, "millimetersSum"), 1e6)},
    "floors": lambda v: {"floors": values.integer(v, "countSum")},
    "altitude": lambda v: {"elevation_m": _scaled(values.number(v, "gainMillimetersSum"), 1e3)},
    "total-calories": lambda v: {"calories_out": values.integer(v, "kcalSum")},
    "activity-level": _activity_levels,
}


# -- logs ------------------------------------------------------------------------------------------


def _interval(value: Obj, what: str) -> tuple[Obj, dt.datetime, dt.datetime | None]:
    interval = values.inner(value, "interval")
    start = values.local(interval, "startTime", "startUtcOffset")
    if start is None:
        raise UnexpectedResponse(f"{what} without a start time")
    return interval, start, values.local(interval, "endTime", "endUtcOffset")


def _duration_ms(interval: Obj) -> int | None:
    if interval.get("startTime") is None or interval.get("endTime") is None:
        return None
    span = values.instant(interval["endTime"]) - values.instant(interval["startTime"])
    return round(span.total_seconds() * 1000)


def _id(point: Obj, data_type: str, fallback: Any) -> int:
    name = point.get("dataPointName", point.get("name"))
    return values.point_id(name if isinstance(name, str) else None, data_type, str(fallback))


def _exercise(point: Obj, value: Obj) -> rows.Row:
    interval, start, _ = _interval(value, "exercise")
    metrics = values.inner(value, "metricsSummary")
    active = values.duration_seconds(value.get("activeDuration"))
    zones = values.inner(metrics, "heartRateZoneDurations")
    return rows.ActivityLog(
        log_id=_id(point, "exercise", interval.get("startTime")),
        date=start.date(),
        start_time=start,
        duration_ms=_duration_ms(interval),
        active_duration_ms=round(active * 1000) if active is not None else None,
        name=values.text(value, "displayName"),
        activity_type_id=None,  # Google names the type (`exerciseType`, in raw), no Fitbit id
        log_type=None,
        calories=values.integer(metrics, "caloriesKcal"),
        steps=values.integer(metrics, "steps"),
        distance_km=_scaled(values.number(metrics, "distanceMillimeters"), 1e6),
        average_heart_rate=values.integer(metrics, "averageHeartRateBeatsPerMinute"),
        elevation_gain_m=_scaled(values.number(metrics, "elevationGainMillimeters"), 1e3),
        heart_rate_zones=[
            {"name": key.removesuffix("Time"), "seconds": values.duration_seconds(seconds)}
            for key, seconds in zones.items()
        ]
        or None,
        raw=point,
    )


def _sleep(point: Obj, value: Obj) -> rows.Row:
    interval, start, end = _interval(value, "sleep")
    summary = values.inner(value, "summary")
    metadata = values.inner(value, "metadata")
    kind = values.text(value, "type")
    names = _CLASSIC if kind == "CLASSIC" else _STAGES
    return rows.SleepLog(
        log_id=_id(point, "sleep", interval.get("startTime")),
        date=(end or start).date(),
        start_time=start,
        end_time=end,
        duration_ms=_duration_ms(interval),
        efficiency=None,
        minutes_asleep=values.integer(summary, "minutesAsleep"),
        minutes_awake=values.integer(summary, "minutesAwake"),
        minutes_to_fall_asleep=values.integer(summary, "minutesToFallAsleep"),
        time_in_bed=values.integer(summary, "minutesInSleepPeriod"),
        is_main_sleep=values.flag(metadata, "mainSleep"),
        sleep_type=kind.lower() if kind in ("CLASSIC", "STAGES") else None,
        stage_summary={
            names.get(str(stage.get("type")), str(stage.get("type")).lower()): {
                "count": values.integer(stage, "count"),
                "minutes": values.integer(stage, "minutes"),
            }
            for stage in values.objects(summary.get("stagesSummary"), "stage summary")
        }
        or None,
        stages=_stages(value.get("stages"), names),
        short_wakes=_stages(value.get("shortAwakenings"), names),
        raw=point,
    )


def _stages(items: Any, names: dict[str, str]) -> list[rows.Raw] | None:
    if items is None:
        return None
    periods: list[rows.Raw] = []
    for stage in values.objects(items, "sleep stages"):
        start = values.local(stage, "startTime", "startUtcOffset")
        if start is None or stage.get("endTime") is None:
            raise UnexpectedResponse("a sleep stage without its times")
        span = values.instant(stage["endTime"]) - values.instant(stage["startTime"])
        level = str(stage.get("type"))
        periods.append(
            {
                "start": start.isoformat(),
                "level": names.get(level, level.lower()),
                "seconds": round(span.total_seconds()),
            }
        )
    return periods


def _sample(value: Obj, what: str) -> tuple[Obj, dt.datetime]:
    sample = values.inner(value, "sampleTime")
    at = values.local(sample, "physicalTime", "utcOffset")
    if at is None:
        raise UnexpectedResponse(f"{what} without a sample time")
    return sample, at


def _source(point: Obj) -> str:
    platform = values.text(values.inner(point, "dataSource"), "platform")
    return platform or ""


def _weight(point: Obj, value: Obj) -> rows.Row:
    sample, at = _sample(value, "weight")
    return rows.WeightLog(
        log_id=_id(point, "weight", sample.get("physicalTime")),
        source=_source(point),
        date=at.date(),
        time=at.time(),
        weight_kg=_scaled(values.number(value, "weightGrams"), 1e3),
        bmi=None,
        fat_percent=None,
        raw=point,
    )


def _body_fat(point: Obj, value: Obj) -> rows.Row:
    sample, at = _sample(value, "body fat")
    return rows.BodyFatLog(
        log_id=_id(point, "body-fat", sample.get("physicalTime")),
        source=_source(point),
        date=at.date(),
        time=at.time(),
        fat_percent=values.number(value, "percentage"),
        raw=point,
    )


def _nutrients(items: Any, quantity_key: str) -> dict[str, float | None]:
    grams: dict[str, float | None] = {}
    for item in values.objects(items, "nutrients"):
        amount = values.number(values.inner(item, "quantity"), quantity_key)
        grams[str(item.get("nutrient"))] = amount
    return grams


def _food(point: Obj, value: Obj) -> rows.Row:
    interval, start, _ = _interval(value, "nutrition log")
    nutrients = _nutrients(value.get("nutrients"), "grams")
    serving = values.inner(value, "serving")
    return rows.FoodLog(
        log_id=_id(point, "nutrition-log", interval.get("startTime")),
        date=start.date(),
        food_id=None,  # Google names the food (`food`, in raw), no Fitbit id
        name=values.text(value, "foodDisplayName"),
        brand=None,
        meal_type_id=_MEALS.get(str(value.get("mealType"))),
        amount=values.number(serving, "amount"),
        unit=values.text(serving, "foodMeasurementUnitDisplayName"),
        calories=values.number(values.inner(value, "energy"), "kcal"),
        carbs_g=values.number(values.inner(value, "totalCarbohydrate"), "grams"),
        fat_g=values.number(values.inner(value, "totalFat"), "grams"),
        fiber_g=nutrients.get("DIETARY_FIBER"),
        protein_g=nutrients.get("PROTEIN"),
        sodium_mg=_scaled(nutrients.get("SODIUM"), 1e-3),
        raw=point,
    )


def _water(point: Obj, value: Obj) -> rows.Row:
    interval, start, _ = _interval(value, "hydration log")
    return rows.WaterLog(
        log_id=_id(point, "hydration-log", interval.get("startTime")),
        date=start.date(),
        amount_ml=values.number(values.inner(value, "amountConsumed"), "milliliters"),
        raw=point,
    )


def _nutrition_summary(value: Obj | None, date: dt.date) -> Tables:
    if value is None:
        return {rows.NutritionSummary: []}
    nutrients = _nutrients(value.get("nutrients"), "gramsSum")
    summary = rows.NutritionSummary(
        date=date,
        calories=values.number(values.inner(value, "energy"), "kcalSum"),
        carbs_g=values.number(values.inner(value, "totalCarbohydrate"), "gramsSum"),
        fat_g=values.number(values.inner(value, "totalFat"), "gramsSum"),
        fiber_g=nutrients.get("DIETARY_FIBER"),
        protein_g=nutrients.get("PROTEIN"),
        sodium_mg=_scaled(nutrients.get("SODIUM"), 1e-3),
        raw=value,
    )
    return {rows.NutritionSummary: [summary]}


def _water_summary(value: Obj | None, date: dt.date) -> Tables:
    if value is None:
        return {rows.WaterSummary: []}
    total = values.number(values.inner(value, "amountConsumed"), "millilitersSum")
    return {rows.WaterSummary: [rows.WaterSummary(date=date, water_ml=total, raw=value)]}


_POINT_PARSERS = {
    "exercise": _exercise,
    "sleep": _sleep,
    "weight": _weight,
    "body-fat": _body_fat,
    "nutrition-log": _food,
    "hydration-log": _water,
}
_POINT_KINDS: dict[str, type[rows.Row]] = {
    "exercise": rows.ActivityLog,
    "sleep": rows.SleepLog,
    "weight": rows.WeightLog,
    "body-fat": rows.BodyFatLog,
    "nutrition-log": rows.FoodLog,
    "hydration-log": rows.WaterLog,
}
_DAILY_PARSERS = {"nutrition-log": _nutrition_summary, "hydration-log": _water_summary}
