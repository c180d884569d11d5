"""Every recorded Fitbit response parsed into provider-neutral rows."""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any

import pytest

from service.providers import rows
from service.providers.errors import UnexpectedResponse
from service.providers.fitbit import records
from service.providers.fitbit.fetch import Endpoint
from tests import examples


def _parse(name: str) -> records.Tables:
    endpoint, date = examples.DATA[name]
    return records.parse(endpoint, date, examples.load(name))


def test_every_example_is_accounted_for() -> None:
    assert set(examples.recorded()) == set(examples.DATA) | set(examples.NOT_FETCHED)


@pytest.mark.parametrize("name", sorted(examples.DATA))
def test_every_data_example_parses(name: str) -> None:
    tables = _parse(name)
    assert tables
    for kind, found in tables.items():
        assert all(isinstance(row, kind) for row in found)
        assert all(0 <= getattr(row, "log_id", 0) < 2**64 for row in found)


def test_activity_summary() -> None:
    (summary,) = _parse("fitbit-dotnet/GetActivities.json")[rows.ActivitySummary]
    assert isinstance(summary, rows.ActivitySummary)
    assert summary.date == dt.date(2014, 9, 25)
    assert (summary.steps, summary.calories_out, summary.activity_calories) == (15720, 2828, 1457)
    assert (summary.distance_km, summary.floors, summary.elevation_m) == (12.32, 26, 79.25)
    minutes = (
        summary.sedentary_minutes,
        summary.lightly_active_minutes,
        summary.fairly_active_minutes,
        summary.very_active_minutes,
    )
    assert minutes == (1155, 59, 63, 91)
    assert summary.resting_heart_rate == 73
    assert summary.heart_rate_zones is not None
    assert [zone["name"] for zone in summary.heart_rate_zones][-1] == "Peak"
    assert "activities" not in summary.raw  # stored from the activity log list instead
    assert summary.raw["summary"]["steps"] == 15720


def test_activity_summary_without_heart_rate_scope() -> None:
    body = examples.load("fitbit-dotnet/GetActivities.json")
    del body["summary"]["heartRateZones"], body["summary"]["restingHeartRate"]
    (summary,) = records.parse(Endpoint.ACTIVITY_SUMMARY, dt.date(2014, 9, 25), body)[
        rows.ActivitySummary
    ]
    assert isinstance(summary, rows.ActivitySummary)
    assert (summary.resting_heart_rate, summary.heart_rate_zones) == (None, None)


def test_activity_log_list_keeps_only_the_day() -> None:
    found = _parse("fitbit-dotnet/GetActivityLogsList.json")[rows.ActivityLog]
    assert [row.log_id for row in found if isinstance(row, rows.ActivityLog)] == [
        5442151842,
        5449195844,
        5450925199,
    ]
    walk = found[0]
    assert isinstance(walk, rows.ActivityLog)
    assert walk.start_time == dt.datetime(2017, 1, 5, 8, 16, 52)  # noqa: DTZ001 - local time
    assert (walk.name, walk.log_type, walk.activity_type_id) == ("Walk", "mobile_run", 90013)
    assert (walk.duration_ms, walk.active_duration_ms) == (2541000, 2541000)
    assert (walk.calories, walk.steps, walk.average_heart_rate) == (349, 4798, 87)
    assert (walk.distance_km, walk.elevation_gain_m) == (3.386578, 3.048)
    assert walk.raw["logId"] == 5442151842


def test_activity_start_time_keeps_the_local_wall_clock() -> None:
    body = {"activities": [{"logId": 1, "startTime": "2019-01-03T23:08:00.000-08:00"}]}
    (log,) = records.parse(Endpoint.ACTIVITY_LOGS, dt.date(2019, 1, 3), body)[rows.ActivityLog]
    assert isinstance(log, rows.ActivityLog)
    assert log.start_time == dt.datetime(2019, 1, 3, 23, 8)  # noqa: DTZ001 - local time
    assert log.date == dt.date(2019, 1, 3)


def test_sleep_stages() -> None:
    (sleep,) = _parse("fitbit-dotnet/GetSleep.json")[rows.SleepLog]
    assert isinstance(sleep, rows.SleepLog)
    assert (sleep.log_id, sleep.date) == (15040942043, dt.date(2017, 4, 2))
    assert sleep.start_time == dt.datetime(2017, 4, 1)  # noqa: DTZ001 - local time
    assert sleep.end_time == dt.datetime(2017, 4, 1, 8)  # noqa: DTZ001 - local time
    assert (sleep.duration_ms, sleep.efficiency, sleep.time_in_bed) == (28800000, 85, 586)
    assert (sleep.minutes_asleep, sleep.minutes_awake, sleep.minutes_to_fall_asleep) == (500, 86, 0)
    assert (sleep.is_main_sleep, sleep.sleep_type) == (True, "stages")
    assert sleep.stage_summary is not None
    assert sleep.stage_summary["deep"]["minutes"] == 99
    assert sleep.stages is not None
    assert sleep.stages[0] == {"start": "2017-04-01T00:00:00", "level": "wake", "seconds": 360}
    assert sleep.short_wakes == [{"start": "2017-04-02T00:00:00", "level": "wake", "seconds": 560}]


def _live(body: Any) -> Any:
    """The same answer as the live API spells it: stage items use `dateTime`."""
    body = copy.deepcopy(body)
    for sleep in body["sleep"]:
        for items in (sleep["levels"]["data"], sleep["levels"]["shortData"]):
            for item in items:
                item["dateTime"] = item.pop("datetime")
    return body


def test_sleep_stage_items_parse_the_same_in_both_spellings() -> None:
    body = examples.load("fitbit-dotnet/GetSleep.json")
    date = dt.date(2017, 4, 2)
    (sample,) = records.parse(Endpoint.SLEEP, date, body)[rows.SleepLog]
    (live,) = records.parse(Endpoint.SLEEP, date, _live(body))[rows.SleepLog]
    assert isinstance(sample, rows.SleepLog)
    assert isinstance(live, rows.SleepLog)
    assert sample.stages == live.stages
    assert sample.short_wakes == live.short_wakes


def test_classic_sleep_without_levels_or_date() -> None:
    found = _parse("fitbit-dotnet/GetSleepOld.json")[rows.SleepLog]
    assert [(getattr(row, "log_id", None), row.date) for row in found] == [
        (29744, dt.date(2011, 6, 16)),
        (29745, dt.date(2011, 6, 16)),
    ]
    nap = found[1]
    assert isinstance(nap, rows.SleepLog)
    assert (nap.is_main_sleep, nap.end_time, nap.stages, nap.stage_summary) == (
        False,
        None,
        None,
        None,
    )


def test_weight_entries_sharing_a_log_id_are_both_kept() -> None:
    found = _parse("fitbit-dotnet/GetWeight.json")[rows.WeightLog]
    keys = [(row.log_id, row.source) for row in found if isinstance(row, rows.WeightLog)]
    assert keys == [(1330991999000, "API"), (1330991999000, "Aria")]
    aria = found[1]
    assert isinstance(aria, rows.WeightLog)
    assert (aria.weight_kg, aria.bmi, aria.time) == (72.5, 22.57, dt.time(21, 10, 59))


def test_body_fat() -> None:
    found = _parse("fitbit-dotnet/GetFat.json")[rows.BodyFatLog]
    values = [(r.source, r.fat_percent) for r in found if isinstance(r, rows.BodyFatLog)]
    assert values == [("API", 14.0), ("Aria", 13.5)]


def test_food_log_and_nutrition_summary() -> None:
    tables = _parse("fitbit-dotnet/GetFoodLogs.json")
    (food,) = tables[rows.FoodLog]
    assert isinstance(food, rows.FoodLog)
    assert (food.log_id, food.date, food.name, food.meal_type_id) == (
        1820,
        dt.date(2011, 6, 29),
        "Chocolate, Milk",
        4,
    )
    assert (food.amount, food.unit, food.calories, food.carbs_g) == (132.57, "gram", 752, 66.5)
    assert (food.fat_g, food.fiber_g, food.protein_g, food.sodium_mg) == (49, 0.5, 12.5, 186)
    (summary,) = tables[rows.NutritionSummary]
    assert isinstance(summary, rows.NutritionSummary)
    assert (summary.calories, summary.protein_g, summary.date) == (752, 12.5, dt.date(2011, 6, 29))
    assert "foods" not in summary.raw


def test_water() -> None:
    tables = _parse("fitbit-dotnet/GetWater-WaterData.json")
    logs = [(r.log_id, r.amount_ml) for r in tables[rows.WaterLog] if isinstance(r, rows.WaterLog)]
    assert logs[0] == (508693835, 200)
    assert len(logs) == 5
    (total,) = tables[rows.WaterSummary]
    assert isinstance(total, rows.WaterSummary)
    assert total.water_ml == 1300


def test_an_empty_day_replaces_with_nothing() -> None:
    date = dt.date(2026, 1, 1)
    assert records.parse(Endpoint.WEIGHT, date, {"weight": []}) == {rows.WeightLog: []}
    assert records.parse(Endpoint.SLEEP, date, {"sleep": [], "summary": {}}) == {rows.SleepLog: []}


def test_largest_unsigned_log_id() -> None:
    body = {"water": [{"logId": 2**64 - 1, "amount": 1}], "summary": {"water": 1}}
    (log,) = records.parse(Endpoint.WATER, dt.date(2026, 1, 1), body)[rows.WaterLog]
    assert isinstance(log, rows.WaterLog)
    assert log.log_id == 2**64 - 1


@pytest.mark.parametrize(
    ("endpoint", "body"),
    [
        (Endpoint.WATER, [1, 2]),
        (Endpoint.ACTIVITY_SUMMARY, {"goals": {}}),
        (Endpoint.WEIGHT, {"weight": {"logId": 1}}),
        (Endpoint.WEIGHT, {"weight": [{"logId": -1, "date": "2026-01-01"}]}),
        (Endpoint.WATER, {"water": [{"logId": 2**64}]}),
        (Endpoint.FOOD_LOG, {"foods": [{"logId": 1, "logDate": "yesterday"}]}),
        (Endpoint.ACTIVITY_LOGS, {"activities": [{"logId": 1, "startTime": "soon"}]}),
    ],
)
def test_unexpected_shapes_are_refused(endpoint: Endpoint, body: Any) -> None:
    with pytest.raises(UnexpectedResponse):
        records.parse(endpoint, dt.date(2026, 1, 1), body)


def test_merge_concatenates_pages() -> None:
    page = {"activities": [{"logId": 1, "startTime": "2026-01-01T08:00:00"}]}
    more = {"activities": [{"logId": 2, "startTime": "2026-01-01T09:00:00"}]}
    date = dt.date(2026, 1, 1)
    merged = records.merge(
        records.parse(Endpoint.ACTIVITY_LOGS, date, page),
        records.parse(Endpoint.ACTIVITY_LOGS, date, more),
    )
    assert [getattr(row, "log_id", None) for row in merged[rows.ActivityLog]] == [1, 2]
