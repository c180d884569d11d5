"""The Web API's answers, shaped like Fitbit's (see shared/fitbit/examples), from stored or
generated days."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from service.emulator import sleep
from service.emulator.generate import JSON, Day, Traits
from service.emulator.users import EmulatedUser


def daily_activity(day: Day) -> JSON:
    return {
        "activities": [_summary_entry(log) for log in day.logs],
        "goals": day.goals,
        "summary": day.summary,
    }


def _summary_entry(log: JSON) -> JSON:
    """A logged activity as the daily summary lists it (a shape older than the log list's)."""
    start = datetime.fromisoformat(log["startTime"])
    entry = {
        "activityId": log.get("activityTypeId"),
        "activityParentId": log.get("activityTypeId"),
        "activityParentName": log.get("activityName"),
        "calories": log.get("calories"),
        "description": "",
        "duration": log.get("duration"),
        "hasActiveZoneMinutes": log.get("hasActiveZoneMinutes", False),
        "hasStartTime": True,
        "isFavorite": False,
        "lastModified": log.get("lastModified"),
        "logId": log["logId"],
        "name": log.get("activityName"),
        "startDate": start.date().isoformat(),
        "startTime": start.strftime("%H:%M"),
        "steps": log.get("steps"),
    }
    if "distance" in log:
        entry["distance"] = log["distance"]
    return entry


def activity_list_entry(log: JSON, base_url: str) -> JSON:
    """A log in the activity log list, with the links Fitbit adds to each."""
    start = datetime.fromisoformat(log["startTime"])
    end = start.timestamp() + log.get("duration", 0) / 1000
    end_time = datetime.fromtimestamp(end, start.tzinfo)
    day = start.date().isoformat()
    span = f"{start:%H:%M:%S}/{end_time:%H:%M:%S}"
    user = f"{base_url}/1/user/-"
    links = {
        "caloriesLink": f"{user}/activities/calories/date/{day}/{day}/1min/time/{span}.json",
        "heartRateLink": f"{user}/activities/heart/date/{day}/{day}/1sec/time/{span}.json",
        "tcxLink": f"{user}/activities/{log['logId']}.tcx",
    }
    return log | links


def weight(day: Day) -> JSON:
    return {"weight": day.logs}


def fat(day: Day) -> JSON:
    return {"fat": day.logs}


def foods(food_day: Day, water_day: Day) -> JSON:
    names = ("calories", "carbs", "fat", "fiber", "protein", "sodium")
    totals = {name: _total(food_day.logs, name) for name in names}
    water_total = sum(log.get("amount", 0) for log in water_day.logs)
    return {
        "foods": food_day.logs,
        "goals": food_day.goals,
        "summary": totals | {"water": water_total},
    }


def _total(logs: list[JSON], name: str) -> float | int:
    total: float = sum(log.get("nutritionalValues", {}).get(name, 0) for log in logs)
    return round(total) if name == "calories" else round(total, 2)


def water(day: Day) -> JSON:
    return {"summary": {"water": sum(log.get("amount", 0) for log in day.logs)}, "water": day.logs}


def sleep_by_date(day: Day) -> JSON:
    return {"sleep": day.logs, "summary": sleep.summary(day.logs)}


def profile(user: EmulatedUser, person: Traits, now: datetime) -> JSON:
    age = _age(person.born, user.today(now))
    name = user.display_name or user.user_id
    avatar = "https://static0.fitbit.com/images/profile/defaultProfile"
    fields: dict[str, Any] = {
        "aboutMe": "",
        "age": age,
        "avatar": f"{avatar}_100.png",
        "avatar150": f"{avatar}_150.png",
        "avatar640": f"{avatar}_640.png",
        "averageDailySteps": 8000,
        "city": "",
        "country": "GB",
        "dateOfBirth": person.born.isoformat(),
        "displayName": name,
        "distanceUnit": "METRIC",
        "encodedId": user.user_id,
        "firstName": name,
        "foodsLocale": "en_GB",
        "fullName": name,
        "gender": person.gender,
        "glucoseUnit": "METRIC",
        "height": person.height_cm,
        "heightUnit": "METRIC",
        "lastName": "",
        "locale": "en_GB",
        "memberSince": user.member_since.isoformat(),
        "offsetFromUTCMillis": user.offset_millis(now),
        "startDayOfWeek": "MONDAY",
        "strideLengthRunning": round(person.stride_walking_cm * 1.3, 1),
        "strideLengthWalking": person.stride_walking_cm,
        "timezone": user.timezone,
        "waterUnit": "METRIC",
        "weight": person.weight_kg,
        "weightUnit": "METRIC",
    }
    return {"user": fields}


def _age(born: date, today: date) -> int:
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))
