"""The collection endpoints a subscriber fetches, and the profile: shaped like Fitbit's
recorded responses, valid against the OpenAPI 3 spec, deterministic, in the user's local
time, metric, and changed through the control API."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from service.emulator.generate import generate
from service.emulator.testing import ControlError, EmulatorControl
from tests.emulator.emulator_support import (
    NOW,
    USER,
    YESTERDAY,
    BearerFactory,
    SchemaCheck,
    assert_shaped_like,
    example,
)

# resource: (path, spec schema, recorded example)
ENDPOINTS = {
    "activities": (
        "/1/user/-/activities/date/{}.json",
        "GetDailyActivitySummaryResponse",
        "fitbit-dotnet/GetActivities.json",
    ),
    "weight": (
        "/1/user/-/body/log/weight/date/{}.json",
        "GetWeightLogResponse",
        "fitbit-dotnet/GetWeight.json",
    ),
    "fat": (
        "/1/user/-/body/log/fat/date/{}.json",
        "GetBodyFatLogResponse",
        "fitbit-dotnet/GetFat.json",
    ),
    "foods": (
        "/1/user/-/foods/log/date/{}.json",
        "GetFoodLogResponse",
        "fitbit-dotnet/GetFoodLogs.json",
    ),
    "water": (
        "/1/user/-/foods/log/water/date/{}.json",
        "GetWaterLogResponse",
        "fitbit-dotnet/GetWater-WaterData.json",
    ),
    "sleep": (
        "/1.2/user/-/sleep/date/{}.json",
        "GetSleepLogByDateResponse",
        "fitbit-dotnet/GetSleep.json",
    ),
}


def live_spelling(recorded: Any) -> Any:
    """The recorded sleep example says `datetime`; the live API (and so we) says `dateTime`."""
    return json.loads(json.dumps(recorded).replace('"datetime"', '"dateTime"'))


async def get_json(fitbit: httpx.AsyncClient, url: str, headers: dict[str, str]) -> Any:
    response = await fitbit.get(url, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


@pytest.mark.parametrize("resource", ENDPOINTS)
async def test_each_endpoint_is_shaped_like_fitbits_and_valid_against_the_spec(
    fitbit: httpx.AsyncClient,
    control: EmulatorControl,
    bearer: BearerFactory,
    schema: SchemaCheck,
    resource: str,
) -> None:
    url, schema_name, recorded = ENDPOINTS[resource]
    await control.add_log(USER, resource, YESTERDAY)  # at least one log, whatever the seed says
    body = await get_json(fitbit, url.format(YESTERDAY), await bearer())
    schema(body, schema_name)
    assert_shaped_like(body, live_spelling(example(recorded)))
    logs = next(value for key, value in body.items() if isinstance(value, list))
    assert logs
    assert all(isinstance(log["logId"], int) and log["logId"] >= 2**32 for log in logs)


async def test_the_activity_log_list_is_shaped_like_fitbits(
    fitbit: httpx.AsyncClient, bearer: BearerFactory, schema: SchemaCheck
) -> None:
    url = "/1/user/-/activities/list.json?afterDate=2024-02-01&sort=asc&limit=3&offset=0"
    body = await get_json(fitbit, url, await bearer())
    schema(body, "GetActivityLogListResponse")
    recorded = example("fitbit-dotnet/GetActivityLogsList.json")
    recorded["pagination"]["afterDate"] = "2024-02-01"  # echoed as given; the example had a time
    assert_shaped_like(body, recorded)
    assert len(body["activities"]) == 3


async def test_the_profile_gives_timezone_offset_and_metric_units(
    fitbit: httpx.AsyncClient, control: EmulatorControl, bearer: BearerFactory, schema: SchemaCheck
) -> None:
    await control.put_user(USER, timezone="Asia/Kolkata", display_name="Asha")
    body = await get_json(fitbit, "/1/user/-/profile.json", await bearer())
    schema(body, "GetProfileResponse")
    assert_shaped_like(body, example("fitbit-dotnet/UserProfile.json"))
    user = body["user"]
    assert (user["timezone"], user["offsetFromUTCMillis"]) == ("Asia/Kolkata", 19_800_000)
    assert (user["encodedId"], user["displayName"]) == (USER, "Asha")
    assert {user[unit] for unit in ("weightUnit", "heightUnit", "waterUnit", "distanceUnit")} == {
        "METRIC"
    }
    assert 140 < user["height"] < 210
    assert 35 < user["weight"] < 150


async def test_a_fixed_offset_overrides_the_zones_own(
    fitbit: httpx.AsyncClient, control: EmulatorControl, bearer: BearerFactory
) -> None:
    await control.put_user(USER, timezone="Europe/Paris", offset_from_utc_millis=-3_600_000)
    user = (await get_json(fitbit, "/1/user/-/profile.json", await bearer()))["user"]
    assert (user["timezone"], user["offsetFromUTCMillis"]) == ("Europe/Paris", -3_600_000)


async def test_the_profile_needs_the_profile_scope(
    fitbit: httpx.AsyncClient, bearer: BearerFactory
) -> None:
    response = await fitbit.get("/1/user/-/profile.json", headers=await bearer(scopes=["sleep"]))
    assert response.status_code == 403


async def test_a_day_reads_the_same_every_time_and_differs_between_users(
    fitbit: httpx.AsyncClient, bearer: BearerFactory
) -> None:
    mine = await bearer()
    url = f"/1/user/-/foods/log/date/{YESTERDAY}.json"
    first, second = await get_json(fitbit, url, mine), await get_json(fitbit, url, mine)
    assert first == second
    assert await get_json(fitbit, url, await bearer("OTHER1")) != first


def test_generation_is_the_same_in_another_process() -> None:
    """No dependence on Python's per-process hash seed or on anything but the inputs."""
    args = (7, "ABC123", ZoneInfo("Europe/Paris"), "foods", dt.date(2024, 3, 9))
    code = (
        "import json, datetime, zoneinfo\n"
        "from service.emulator.generate import generate\n"
        "day = generate(7, 'ABC123', zoneinfo.ZoneInfo('Europe/Paris'), 'foods', "
        "datetime.date(2024, 3, 9))\n"
        "print(json.dumps(day.logs))"
    )
    root = Path(__file__).resolve().parents[2]
    other = "2" if os.environ.get("PYTHONHASHSEED") == "1" else "1"  # not this process's seed
    run = subprocess.run(  # noqa: S603 - our own interpreter and code
        [sys.executable, "-c", code],
        capture_output=True,
        check=True,
        text=True,
        cwd=root,
        env={**os.environ, "PYTHONHASHSEED": other},
    )
    assert json.loads(run.stdout) == generate(*args).logs != []


async def test_sleep_is_dated_by_the_day_it_ended_and_its_stages_cover_it(
    fitbit: httpx.AsyncClient, control: EmulatorControl, bearer: BearerFactory
) -> None:
    headers = await bearer()
    for day in ("2024-03-01", "2024-03-02", "2024-03-03"):
        await control.add_log(USER, "sleep", day, notify=False)
        body = await get_json(fitbit, f"/1.2/user/-/sleep/date/{day}.json", headers)
        for log in body["sleep"]:
            assert log["dateOfSleep"] == day
            assert log["endTime"].startswith(day)
            assert log["startTime"] < log["endTime"]
            periods = log["levels"]["data"]
            assert all(set(period) == {"dateTime", "level", "seconds"} for period in periods)
            assert sum(period["seconds"] for period in periods) * 1000 == log["duration"]
            assert periods[0]["dateTime"] == log["startTime"]
            assert log["minutesAsleep"] + log["minutesAwake"] == log["timeInBed"]
        assert body["summary"]["totalSleepRecords"] == len(body["sleep"])


async def test_the_foods_summary_carries_the_days_water_and_its_calories(
    fitbit: httpx.AsyncClient, bearer: BearerFactory
) -> None:
    headers = await bearer()
    foods = await get_json(fitbit, f"/1/user/-/foods/log/date/{YESTERDAY}.json", headers)
    water = await get_json(fitbit, f"/1/user/-/foods/log/water/date/{YESTERDAY}.json", headers)
    assert (
        foods["summary"]["water"]
        == water["summary"]["water"]
        == sum(w["amount"] for w in water["water"])
    )
    assert foods["summary"]["calories"] == sum(
        f["nutritionalValues"]["calories"] for f in foods["foods"]
    )


async def test_days_after_the_users_local_today_have_no_data(
    fitbit: httpx.AsyncClient, control: EmulatorControl, bearer: BearerFactory, schema: SchemaCheck
) -> None:
    # At NOW (10:15 UTC) it is already the next day on Kiritimati (UTC+14).
    tomorrow = (NOW + dt.timedelta(days=1)).date().isoformat()
    await control.put_user("KIRI01", timezone="Pacific/Kiritimati")
    url = f"/1/user/-/activities/date/{tomorrow}.json"
    blank = await get_json(fitbit, url, await bearer())
    assert (blank["activities"], blank["summary"]["steps"]) == ([], 0)
    assert blank["goals"]["steps"] == 10000
    schema(blank, "GetDailyActivitySummaryResponse")
    assert (await get_json(fitbit, url, await bearer("KIRI01")))["summary"]["steps"] > 0


async def test_today_in_the_path_is_the_users_local_date(
    fitbit: httpx.AsyncClient, bearer: BearerFactory
) -> None:
    headers = await bearer()
    today = await get_json(fitbit, "/1/user/-/activities/date/today.json", headers)
    assert today == await get_json(fitbit, f"/1/user/-/activities/date/{NOW.date()}.json", headers)


@pytest.mark.parametrize("day", ["2024-3-9", "yesterday", "2024-02-30"])
async def test_malformed_dates_are_a_validation_error(
    fitbit: httpx.AsyncClient, bearer: BearerFactory, day: str
) -> None:
    response = await fitbit.get(
        f"/1/user/-/body/log/weight/date/{day}.json", headers=await bearer()
    )
    assert response.status_code == 400
    assert response.json()["errors"][0] == {
        "errorType": "validation",
        "fieldName": "date",
        "message": f"Invalid date:{day}",
    }


async def test_logs_added_changed_and_deleted_through_the_control_api(
    fitbit: httpx.AsyncClient, control: EmulatorControl, bearer: BearerFactory
) -> None:
    headers, url = await bearer(), f"/1/user/-/body/log/weight/date/{YESTERDAY}.json"
    biggest = 2**64 - 1
    added = await control.add_log(USER, "weight", YESTERDAY, {"logId": biggest, "weight": 81.25})
    assert added["logId"] == biggest
    assert {"logId": biggest, "weight": 81.25}.items() <= (await get_json(fitbit, url, headers))[
        "weight"
    ][-1].items()
    await control.change_log(USER, "weight", YESTERDAY, biggest, {"weight": 80.5})
    assert (await get_json(fitbit, url, headers))["weight"][-1]["weight"] == 80.5
    await control.delete_log(USER, "weight", YESTERDAY, biggest)
    assert biggest not in [log["logId"] for log in (await get_json(fitbit, url, headers))["weight"]]


async def test_the_daily_summary_changes_through_the_control_api(
    fitbit: httpx.AsyncClient, control: EmulatorControl, bearer: BearerFactory
) -> None:
    await control.change_summary(USER, YESTERDAY, {"steps": 12345, "floors": 3})
    body = await get_json(fitbit, f"/1/user/-/activities/date/{YESTERDAY}.json", await bearer())
    assert (body["summary"]["steps"], body["summary"]["floors"]) == (12345, 3)
    assert "caloriesOut" in body["summary"]


async def test_a_recorded_raw_response_is_served_verbatim_until_cleared(
    fitbit: httpx.AsyncClient, control: EmulatorControl, bearer: BearerFactory
) -> None:
    headers, url = await bearer(), "/1.2/user/-/sleep/date/2017-04-02.json"
    recorded = example("fitbit-dotnet/GetSleep.json")
    await control.load_raw(USER, "sleep", "2017-04-02", recorded)
    assert await get_json(fitbit, url, headers) == recorded
    await control.load_raw(USER, "sleep", "2017-04-02", {"errors": []}, status=500)
    assert (await fitbit.get(url, headers=headers)).status_code == 500
    await control.clear_raw(USER, "sleep", "2017-04-02")
    assert (await get_json(fitbit, url, headers))["sleep"] == []  # before member_since


async def test_control_changes_refuse_bad_log_ids_and_unknown_logs(
    control: EmulatorControl,
) -> None:
    with pytest.raises(ControlError) as too_big:
        await control.add_log(USER, "water", YESTERDAY, {"logId": 2**64})
    assert too_big.value.status == 400
    with pytest.raises(ControlError) as unknown:
        await control.delete_log(USER, "water", YESTERDAY, 12345)
    assert unknown.value.status == 404
    with pytest.raises(ControlError) as bad_time:
        await control.add_log(USER, "activities", YESTERDAY, {"startTime": "half past nine"})
    assert bad_time.value.status == 400
