"""Fetch plans and the rows Google Health answers become, shaped as Discovery rev 20261002."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from service.providers import rows
from service.providers.errors import UnexpectedResponse
from service.providers.google_health import fetch
from service.providers.google_health.datatypes import SUMMARY_TYPES
from service.providers.google_health.records import DayBuilder

DAY = dt.date(2026, 3, 7)


def _window(member: str, value: dict[str, Any]) -> dict[str, Any]:
    return {
        "rollupDataPoints": [
            {
                "civilStartTime": {"date": {"year": 2026, "month": 3, "day": 7}},
                "civilEndTime": {"date": {"year": 2026, "month": 3, "day": 8}},
                member: value,
            }
        ]
    }


SUMMARY_ANSWERS: dict[str, Any] = {
    "steps": _window("steps", {"countSum": "10234"}),
    "distance": _window("distance", {"millimetersSum": "7512000"}),
    "floors": _window("floors", {"countSum": "12"}),
    "altitude": _window("altitude", {"gainMillimetersSum": "36500"}),
    "total-calories": _window("totalCalories", {"kcalSum": 2412.6}),
    "activity-level": _window(
        "activityLevel",
        {
            "activityLevelRollupsByActivityLevelType": [
                {"activityLevelType": "SEDENTARY", "totalDuration": "41400s"},
                {"activityLevelType": "LIGHTLY_ACTIVE", "totalDuration": "12600s"},
                {"activityLevelType": "MODERATELY_ACTIVE", "totalDuration": "1200s"},
                {"activityLevelType": "VERY_ACTIVE", "totalDuration": "1830s"},
            ]
        },
    ),
    "daily-resting-heart-rate": {
        "dataPoints": [
            {
                "dailyRestingHeartRate": {
                    "date": {"year": 2026, "month": 3, "day": 7},
                    "beatsPerMinute": "58",
                }
            }
        ]
    },
}


def _build(collection: str, answers: dict[str, list[Any]]) -> rows.DayData:
    day = DayBuilder(DAY)
    for call in fetch.plan(collection, DAY):
        for body in answers[f"{call.data_type} {call.kind.value}"]:
            day.add(call, body)
    return day.build()


def test_the_summary_and_a_key_of_any_member_read_the_whole_summary() -> None:
    # Keys named after a member were made before the members shared one collection.
    for collection in ("activity-summary", *SUMMARY_TYPES):
        calls = fetch.plan(collection, DAY)
        assert [c.data_type for c in calls] == list(SUMMARY_TYPES)
        assert fetch.cost(collection) == len(SUMMARY_TYPES)


def test_plans_filter_one_civil_day() -> None:
    (sleep,) = fetch.plan("sleep", DAY)
    assert sleep.path == "/v4/users/me/dataTypes/sleep/dataPoints:reconcile"
    assert sleep.params == {
        "filter": 'sleep.interval.civil_end_time >= "2026-03-07T00:00:00" AND '
        'sleep.interval.civil_end_time < "2026-03-08T00:00:00"',
        "pageSize": 25,
    }
    (fat,) = fetch.plan("body-fat", DAY)
    assert str(fat.params["filter"]).startswith('body_fat.sample_time.civil_time >= "2026-03-07')
    food, summary = fetch.plan("nutrition-log", DAY)
    assert str(food.params["filter"]).startswith("nutrition_log.interval.civil_start_time >=")
    assert summary.method == "POST"
    assert summary.path == "/v4/users/me/dataTypes/nutrition-log/dataPoints:dailyRollUp"
    assert summary.body == {
        "range": {
            "start": {"date": {"year": 2026, "month": 3, "day": 7}},
            "end": {"date": {"year": 2026, "month": 3, "day": 8}},
        },
        "windowSizeDays": 1,
    }


def test_unknown_data_types_have_no_plan() -> None:
    with pytest.raises(fetch.UnknownCollection):
        fetch.plan("heart-rate", DAY)


def test_pages_follow_the_token_to_a_bound() -> None:
    call, rollup = fetch.plan("hydration-log", DAY)
    second = fetch.next_page(call, {"nextPageToken": "p2"})
    assert second is not None
    assert (second.params["pageToken"], second.page) == ("p2", 2)
    assert fetch.next_page(call, {"nextPageToken": ""}) is None
    assert fetch.next_page(call, {}) is None
    next_rollup = fetch.next_page(rollup, {"nextPageToken": "r2"})
    assert next_rollup is not None
    assert next_rollup.body is not None
    assert next_rollup.body["pageToken"] == "r2"
    last = call
    while (following := fetch.next_page(last, {"nextPageToken": "again"})) is not None:
        last = following
    assert last.page == fetch.MAX_PAGES


def test_the_budget_rules_are_googles() -> None:
    assert (fetch.USER_BUDGET.limit, fetch.USER_BUDGET.window_seconds) == (300, 60.0)


def test_the_activity_summary_in_metric_units() -> None:
    answers = {
        f"{t} {'reconcile' if t == 'daily-resting-heart-rate' else 'daily_rollup'}": [body]
        for t, body in SUMMARY_ANSWERS.items()
    }
    (summary,) = _build("floors", answers).tables[rows.ActivitySummary]
    assert isinstance(summary, rows.ActivitySummary)
    assert (summary.steps, summary.floors, summary.calories_out) == (10234, 12, 2413)
    assert summary.distance_km == pytest.approx(7.512)
    assert summary.elevation_m == pytest.approx(36.5)
    assert (
        summary.sedentary_minutes,
        summary.lightly_active_minutes,
        summary.fairly_active_minutes,
        summary.very_active_minutes,
    ) == (690, 210, 20, 30)
    assert summary.resting_heart_rate == 58
    assert summary.raw["steps"] == {"countSum": "10234"}


def test_a_day_without_any_activity_has_no_summary_row() -> None:
    answers: dict[str, list[Any]] = {
        f"{t} {'reconcile' if t == 'daily-resting-heart-rate' else 'daily_rollup'}": [{}]
        for t in SUMMARY_TYPES
    }
    assert _build("steps", answers).tables == {rows.ActivitySummary: []}


def test_sleep_with_stages_in_the_points_own_offset() -> None:
    point = {
        "dataPointName": "users/abc/dataTypes/sleep/dataPoints/a1b2c3d4",
        "sleep": {
            "interval": {
                "startTime": "2026-03-07T06:30:00Z",
                "startUtcOffset": "-28800s",
                "endTime": "2026-03-07T14:45:00Z",
                "endUtcOffset": "-28800s",
            },
            "type": "STAGES",
            "metadata": {"mainSleep": True, "processed": True},
            "stages": [
                {
                    "startTime": "2026-03-07T06:30:00Z",
                    "startUtcOffset": "-28800s",
                    "endTime": "2026-03-07T06:45:00Z",
                    "endUtcOffset": "-28800s",
                    "type": "AWAKE",
                },
                {
                    "startTime": "2026-03-07T06:45:00Z",
                    "startUtcOffset": "-28800s",
                    "endTime": "2026-03-07T14:45:00Z",
                    "endUtcOffset": "-28800s",
                    "type": "DEEP",
                },
            ],
            "summary": {
                "minutesAsleep": "480",
                "minutesAwake": "15",
                "minutesInSleepPeriod": "495",
                "minutesToFallAsleep": "0",
                "stagesSummary": [{"type": "DEEP", "minutes": "480", "count": "1"}],
            },
        },
    }
    (sleep,) = _build("sleep", {"sleep reconcile": [{"dataPoints": [point]}]}).tables[rows.SleepLog]
    assert isinstance(sleep, rows.SleepLog)
    assert sleep.date == DAY  # the day it ended, local
    assert sleep.start_time == dt.datetime.fromisoformat("2026-03-06T22:30:00")
    assert sleep.end_time == dt.datetime.fromisoformat("2026-03-07T06:45:00")
    assert sleep.duration_ms == 495 * 60_000
    assert (sleep.minutes_asleep, sleep.time_in_bed, sleep.is_main_sleep) == (480, 495, True)
    assert sleep.sleep_type == "stages"
    assert sleep.stages == [
        {"start": "2026-03-06T22:30:00", "level": "wake", "seconds": 900},
        {"start": "2026-03-06T22:45:00", "level": "deep", "seconds": 28800},
    ]
    assert sleep.stage_summary == {"deep": {"count": 1, "minutes": 480}}
    assert 0 <= sleep.log_id < 2**64
    again = _build("sleep", {"sleep reconcile": [{"dataPoints": [point]}]})
    assert again.tables[rows.SleepLog][0].log_id == sleep.log_id  # type: ignore[union-attr]


def test_weight_and_body_fat() -> None:
    sample = {"physicalTime": "2026-03-07T07:10:00Z", "utcOffset": "3600s"}
    weight = {"weight": {"sampleTime": sample, "weightGrams": 72450.0}, "name": "u/w/1"}
    fat = {"bodyFat": {"sampleTime": sample, "percentage": 18.5}}
    (w,) = _build("weight", {"weight reconcile": [{"dataPoints": [weight]}]}).tables[rows.WeightLog]
    assert isinstance(w, rows.WeightLog)
    assert (w.date, w.time, w.weight_kg, w.bmi) == (DAY, dt.time(8, 10), 72.45, None)
    (f,) = _build("body-fat", {"body-fat reconcile": [{"dataPoints": [fat]}]}).tables[
        rows.BodyFatLog
    ]
    assert isinstance(f, rows.BodyFatLog)
    assert (f.fat_percent, f.source) == (18.5, "")


def test_exercise_becomes_an_activity_log() -> None:
    point = {
        "dataPointName": "users/abc/dataTypes/exercise/dataPoints/run-1",
        "exercise": {
            "interval": {
                "startTime": "2026-03-07T16:00:00Z",
                "startUtcOffset": "0s",
                "endTime": "2026-03-07T16:40:00Z",
                "endUtcOffset": "0s",
            },
            "displayName": "Running",
            "exerciseType": "RUNNING",
            "activeDuration": "2280s",
            "metricsSummary": {
                "caloriesKcal": 402.4,
                "distanceMillimeters": 6012000.0,
                "steps": "6100",
                "averageHeartRateBeatsPerMinute": "151",
                "elevationGainMillimeters": 21000.0,
            },
        },
    }
    (log,) = _build("exercise", {"exercise reconcile": [{"dataPoints": [point]}]}).tables[
        rows.ActivityLog
    ]
    assert isinstance(log, rows.ActivityLog)
    assert (log.name, log.calories, log.steps, log.average_heart_rate) == (
        "Running",
        402,
        6100,
        151,
    )
    assert (log.duration_ms, log.active_duration_ms) == (2_400_000, 2_280_000)
    assert log.distance_km == pytest.approx(6.012)
    assert log.elevation_gain_m == pytest.approx(21.0)


def test_food_and_water_with_their_daily_totals() -> None:
    interval = {
        "startTime": "2026-03-07T12:00:00Z",
        "startUtcOffset": "0s",
        "endTime": "2026-03-07T12:00:00Z",
        "endUtcOffset": "0s",
    }
    food = {
        "nutritionLog": {
            "interval": interval,
            "foodDisplayName": "Oatmeal",
            "mealType": "BREAKFAST",
            "energy": {"kcal": 150.0},
            "totalCarbohydrate": {"grams": 27.0},
            "totalFat": {"grams": 2.5},
            "nutrients": [
                {"nutrient": "PROTEIN", "quantity": {"grams": 5.0}},
                {"nutrient": "SODIUM", "quantity": {"grams": 0.115}},
            ],
            "serving": {"amount": 1.0, "foodMeasurementUnitDisplayName": "cup"},
        }
    }
    total = _window(
        "nutritionLog",
        {
            "energy": {"kcalSum": 1850.0},
            "nutrients": [{"nutrient": "DIETARY_FIBER", "quantity": {"gramsSum": 21.0}}],
        },
    )
    tables = _build(
        "nutrition-log",
        {
            "nutrition-log reconcile": [{"dataPoints": [food]}],
            "nutrition-log daily_rollup": [total],
        },
    ).tables
    (log,) = tables[rows.FoodLog]
    assert isinstance(log, rows.FoodLog)
    assert (log.name, log.meal_type_id, log.calories, log.protein_g) == ("Oatmeal", 1, 150.0, 5.0)
    assert log.sodium_mg == pytest.approx(115.0)
    (summary,) = tables[rows.NutritionSummary]
    assert isinstance(summary, rows.NutritionSummary)
    assert (summary.calories, summary.fiber_g) == (1850.0, 21.0)

    water = {"hydrationLog": {"interval": interval, "amountConsumed": {"milliliters": 250.0}}}
    water_total = _window("hydrationLog", {"amountConsumed": {"millilitersSum": 1750.0}})
    tables = _build(
        "hydration-log",
        {
            "hydration-log reconcile": [{"dataPoints": [water]}, {"dataPoints": []}],
            "hydration-log daily_rollup": [water_total],
        },
    ).tables
    assert [(r.amount_ml, r.date) for r in tables[rows.WaterLog]] == [(250.0, DAY)]  # type: ignore[union-attr]
    assert [r.water_ml for r in tables[rows.WaterSummary]] == [1750.0]  # type: ignore[union-attr]


def test_a_day_without_logs_replaces_them_with_none() -> None:
    tables = _build("weight", {"weight reconcile": [{}]}).tables
    assert tables == {rows.WeightLog: []}


@pytest.mark.parametrize(
    "body",
    [
        [],
        {"dataPoints": "x"},
        {"dataPoints": [{"weight": {"sampleTime": {"physicalTime": "later"}}}]},
        {"dataPoints": [{"weight": {"weightGrams": 1.0}}]},
        {
            "dataPoints": [
                {
                    "weight": {
                        "sampleTime": {
                            "physicalTime": "2026-03-07T07:10:00Z",
                            "utcOffset": "an hour",
                        }
                    }
                }
            ]
        },
    ],
)
def test_answers_of_an_unknown_shape_are_refused(body: Any) -> None:
    with pytest.raises(UnexpectedResponse):
        _build("weight", {"weight reconcile": [body]})
