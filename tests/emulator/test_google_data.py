"""The Google Health data reads: dataPoints paging to the end in descending start time, the
filters, roll-ups that agree with the points, the legacy Fitbit user's same day, and the
per-user, per-minute rate limit."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from service.emulator.testing import EmulatorControl

USER = "g-data-user"
DAY = "2024-03-09"
DAY_FILTER = (
    'steps.interval.civil_start_time >= "2024-03-09" AND '
    'steps.interval.civil_start_time < "2024-03-10"'
)


@pytest.fixture
async def http(emulator_url: str, control: EmulatorControl) -> AsyncIterator[httpx.AsyncClient]:
    await control.google.put_user(USER, timezone="America/New_York")
    tokens = await control.google.issue_tokens(USER)
    headers = {"Authorization": f"Bearer {tokens.access_token}"}
    async with httpx.AsyncClient(base_url=emulator_url, headers=headers) as client:
        yield client


async def every_page(http: httpx.AsyncClient, path: str, **params: Any) -> list[dict[str, Any]]:
    points: list[dict[str, Any]] = []
    token = None
    while True:
        answer = await http.get(path, params=params | ({"pageToken": token} if token else {}))
        assert answer.status_code == 200, answer.text
        points.extend(answer.json()["dataPoints"])
        token = answer.json().get("nextPageToken")
        if not token:
            return points


async def test_list_pages_to_the_end_newest_first_and_sums_to_the_daily_roll_up(
    http: httpx.AsyncClient, control: EmulatorControl
) -> None:
    path = "/v4/users/me/dataTypes/steps/dataPoints"
    points = await every_page(http, path, filter=DAY_FILTER, pageSize=7)
    day = await control.google.day(USER, "steps", DAY)
    assert len(points) == len(day) > 7
    starts = [p["steps"]["interval"]["startTime"] for p in points]
    assert starts == sorted(starts, reverse=True)
    assert all(p["steps"]["interval"]["startUtcOffset"] == "-18000s" for p in points)
    total = sum(int(p["steps"]["count"]) for p in points)
    body = {
        "range": {
            "start": {"date": {"year": 2024, "month": 3, "day": 9}},
            "end": {"date": {"year": 2024, "month": 3, "day": 10}},
        }
    }
    rolled = (await http.post(f"{path}:dailyRollUp", json=body)).json()
    assert rolled["rollupDataPoints"][0]["steps"] == {"countSum": str(total)}
    reconciled = await every_page(http, f"{path}:reconcile", filter=DAY_FILTER)
    assert len(reconciled) == len(points)
    assert "dataSource" not in reconciled[0]


async def test_a_page_token_belongs_to_its_query(http: httpx.AsyncClient) -> None:
    path = "/v4/users/me/dataTypes/steps/dataPoints"
    first = (await http.get(path, params={"filter": DAY_FILTER, "pageSize": 5})).json()
    other = await http.get(path, params={"pageToken": first["nextPageToken"], "pageSize": 5})
    assert other.status_code == 400
    assert other.json()["error"]["details"][0]["reason"] == "INVALID_PAGE_TOKEN"


async def test_session_types_take_only_civil_filters_and_sleep_has_stages(
    http: httpx.AsyncClient,
) -> None:
    physical = 'exercise.interval.start_time >= "2024-03-01T00:00:00Z"'
    refused = await http.get(
        "/v4/users/me/dataTypes/exercise/dataPoints", params={"filter": physical}
    )
    assert refused.status_code == 400
    sleep = await every_page(
        http,
        "/v4/users/me/dataTypes/sleep/dataPoints",
        filter=(
            'sleep.interval.civil_end_time >= "2024-03-01" AND '
            'sleep.interval.civil_end_time < "2024-03-10"'
        ),
    )
    assert sleep
    first = sleep[0]["sleep"]
    assert first["stages"]
    assert first["summary"]["minutesAsleep"].isdigit()
    assert sleep[0]["name"].startswith(f"users/{USER}/dataTypes/sleep/dataPoints/")


async def test_a_legacy_user_has_the_same_day_as_on_fitbit(
    http: httpx.AsyncClient, control: EmulatorControl
) -> None:
    await control.put_user("LEGACY1", timezone="America/New_York")
    await control.google.put_user(USER, legacy_user_id="LEGACY1")
    fitbit = await control.day("LEGACY1", "activities", DAY)
    body = {
        "range": {
            "start": {"date": {"year": 2024, "month": 3, "day": 9}},
            "end": {"date": {"year": 2024, "month": 3, "day": 10}},
        }
    }
    steps = (
        await http.post("/v4/users/me/dataTypes/steps/dataPoints:dailyRollUp", json=body)
    ).json()
    floors = (
        await http.post("/v4/users/me/dataTypes/floors/dataPoints:dailyRollUp", json=body)
    ).json()
    assert steps["rollupDataPoints"][0]["steps"]["countSum"] == str(fitbit.summary["steps"])
    assert floors["rollupDataPoints"][0]["floors"]["countSum"] == str(fitbit.summary["floors"])


async def test_the_per_minute_limit_answers_429_until_the_next_minute(
    http: httpx.AsyncClient, control: EmulatorControl
) -> None:
    await control.google.configure(rate_limit_per_minute=3)
    for _ in range(3):
        assert (await http.get("/v4/users/me/identity")).status_code == 200
    limited = await http.get("/v4/users/me/identity")
    assert limited.status_code == 429
    assert limited.json()["error"]["status"] == "RESOURCE_EXHAUSTED"
    await control.advance_clock(60)
    assert (await http.get("/v4/users/me/identity")).status_code == 200
    counters = await control.google.counters()
    assert counters.rate_limited_by_user == {USER: 1}
    assert counters.calls_by_user == {USER: 5}


async def test_faults_answer_in_googles_shape(
    http: httpx.AsyncClient, control: EmulatorControl
) -> None:
    await control.set_faults(fail_next=1, error_status=503, path_prefix="/v4/")
    failed = await http.get("/v4/users/me/identity")
    assert failed.status_code == 503
    assert failed.json()["error"]["status"] == "UNAVAILABLE"
    assert (await http.get("/v4/users/me/identity")).status_code == 200
    assert (await control.google.counters()).faults == {"error": 1}


async def test_roll_up_over_physical_windows(http: httpx.AsyncClient) -> None:
    start = dt.datetime(2024, 3, 9, 5, tzinfo=dt.UTC)
    body = {
        "range": {
            "startTime": start.isoformat(),
            "endTime": (start + dt.timedelta(days=1)).isoformat(),
        },
        "windowSize": "3600s",
    }
    rolled = (
        await http.post("/v4/users/me/dataTypes/distance/dataPoints:rollUp", json=body)
    ).json()
    assert len(rolled["rollupDataPoints"]) == 24
    assert rolled["rollupDataPoints"][0]["startTime"] == "2024-03-09T05:00:00Z"
    assert all("millimetersSum" in row["distance"] for row in rolled["rollupDataPoints"])


async def test_the_seed_set_through_the_control_api_reaches_google_days(
    http: httpx.AsyncClient, control: EmulatorControl
) -> None:
    before = await control.google.day(USER, "weight", DAY)
    seed = (await control.app()).config.seed
    await control.configure(seed=seed + 1)
    try:
        after = await control.google.day(USER, "weight", DAY)
    finally:
        await control.configure(seed=seed)
    assert after != before
    assert await control.google.day(USER, "weight", DAY) == before


async def test_activity_levels_cover_the_waking_day_and_roll_up_per_level(
    http: httpx.AsyncClient, control: EmulatorControl
) -> None:
    path = "/v4/users/me/dataTypes/activity-level/dataPoints"
    level_filter = DAY_FILTER.replace("steps.", "activity_level.")
    points = await every_page(http, f"{path}:reconcile", filter=level_filter)
    # 07:00 to 23:00 local in 15-minute buckets, each with one level.
    assert len(points) == 16 * 4
    seconds: dict[str, int] = {}
    for point in points:
        level = point["activityLevel"]["activityLevelType"]
        assert level in {"SEDENTARY", "LIGHTLY_ACTIVE", "MODERATELY_ACTIVE", "VERY_ACTIVE"}
        seconds[level] = seconds.get(level, 0) + 900
    body = {
        "range": {
            "start": {"date": {"year": 2024, "month": 3, "day": 9}},
            "end": {"date": {"year": 2024, "month": 3, "day": 10}},
        }
    }
    answer = await http.post(f"{path}:dailyRollUp", json=body)
    assert answer.status_code == 200, answer.text
    [window] = answer.json()["rollupDataPoints"]
    rolled = window["activityLevel"]["activityLevelRollupsByActivityLevelType"]
    assert {r["activityLevelType"]: r["totalDuration"] for r in rolled} == {
        level: f"{total}s" for level, total in seconds.items()
    }


async def test_the_daily_resting_heart_rate_is_one_point_filtered_by_date(
    http: httpx.AsyncClient, control: EmulatorControl
) -> None:
    path = "/v4/users/me/dataTypes/daily-resting-heart-rate/dataPoints"
    days = [dt.date(2024, 3, 1) + dt.timedelta(days=n) for n in range(10)]
    found = []
    for day in days:
        date_filter = (
            f'daily_resting_heart_rate.date >= "{day}" AND '
            f'daily_resting_heart_rate.date < "{day + dt.timedelta(days=1)}"'
        )
        points = await every_page(http, f"{path}:reconcile", filter=date_filter)
        assert len(points) == len(await control.google.day(USER, "daily-resting-heart-rate", day))
        for point in points:
            value = point["dailyRestingHeartRate"]
            assert value["date"] == {"year": day.year, "month": day.month, "day": day.day}
            assert 40 <= int(value["beatsPerMinute"]) <= 90
            found.append(value)
    assert len(found) >= 5
    refused = await http.post(f"{path}:dailyRollUp", json={})
    assert refused.status_code == 400
    wrong = 'daily_resting_heart_rate.interval.start_time >= "2024-03-09T00:00:00Z"'
    assert (await http.get(f"{path}:reconcile", params={"filter": wrong})).status_code == 400
