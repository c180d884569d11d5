"""The recorded Fitbit responses in `shared/fitbit/examples`, and which endpoint answers each.

Most fitbit-dotnet files start with a UTF-8 BOM and a few are not strict JSON; `strict/` holds
fixed copies of those, which are preferred when they exist.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

from service.providers.fitbit.fetch import Endpoint
from tests.conftest import SHARED

EXAMPLES = SHARED / "fitbit/examples"

# Example file -> the endpoint whose answer it is, and the date it was asked for.
DATA = {
    "fitbit-dotnet/GetActivities.json": (Endpoint.ACTIVITY_SUMMARY, dt.date(2014, 9, 25)),
    "fitbit-dotnet/GetActivityLogsList.json": (Endpoint.ACTIVITY_LOGS, dt.date(2017, 1, 5)),
    "fitbit-dotnet/GetSleep.json": (Endpoint.SLEEP, dt.date(2017, 4, 2)),
    "fitbit-dotnet/GetSleepRange.json": (Endpoint.SLEEP, dt.date(2017, 4, 2)),
    "fitbit-dotnet/GetSleepOld.json": (Endpoint.SLEEP, dt.date(2011, 6, 16)),
    "fitbit-dotnet/SleepLogList.json": (Endpoint.SLEEP, dt.date(2017, 3, 26)),
    "allenporter/sleep_log_list.json": (Endpoint.SLEEP, dt.date(2023, 1, 1)),
    "fitbit-dotnet/GetWeight.json": (Endpoint.WEIGHT, dt.date(2012, 3, 5)),
    "fitbit-dotnet/GetFat.json": (Endpoint.BODY_FAT, dt.date(2012, 3, 5)),
    "fitbit-dotnet/GetFoodLogs.json": (Endpoint.FOOD_LOG, dt.date(2011, 6, 29)),
    "allenporter/food_log_list.json": (Endpoint.FOOD_LOG, dt.date(2023, 1, 1)),
    "fitbit-dotnet/GetWater-WaterData.json": (Endpoint.WATER, dt.date(2013, 1, 1)),
}

# Responses of endpoints a sync never calls, and why.
NOT_FETCHED = {
    "fitbit-dotnet/AccessToken.json": "token endpoint (connect)",
    "fitbit-dotnet/AddSubscriptionResponse.json": "subscriptions (connect)",
    "fitbit-dotnet/ListApiSubscriptionsResponseMultiple.json": "subscriptions (connect)",
    "fitbit-dotnet/ListApiSubscriptionsResponseSingle.json": "subscriptions (connect)",
    "fitbit-dotnet/ApiSubscriptionNotification.json": "a notification, not a response",
    "fitbit-dotnet/UserProfile.json": "profile (connect)",
    "allenporter/user_profile.json": "profile (connect)",
    "fitbit-dotnet/GetBodyMeasurements.json": "/body/date: weight and fat logs cover body",
    "fitbit-dotnet/LogWater-WaterLog.json": "the answer to logging water, a write",
    "fitbit-dotnet/ApiError.json": "error body (client tests)",
    "fitbit-dotnet/ApiError-Request-BadRequest.json": "error body (client tests)",
    "fitbit-dotnet/ApiError-Request-Forbidden.json": "error body (client tests)",
    "fitbit-dotnet/ApiError-Request-StaleToken.json": "error body (client tests)",
    "fitbit-dotnet/ApiError-Request-Unauthorized.json": "error body (client tests)",
}


def load(name: str) -> Any:
    """An example by its path under examples/, from its strict copy when there is one."""
    strict = EXAMPLES / "strict" / Path(name).name
    path = strict if strict.exists() else EXAMPLES / name
    return json.loads(path.read_text(encoding="utf-8-sig"))


def recorded() -> list[str]:
    """Every recorded response (the strict copies stand in for their originals)."""
    return sorted(
        str(path.relative_to(EXAMPLES))
        for path in EXAMPLES.glob("*/*.json")
        if path.parent.name != "strict"
    )
