"""Generated sleep logs shaped like `GET /1.2/user/-/sleep/date/{date}.json`.

`dateOfSleep` is the date the sleep ended, so the main sleep of date D starts on the evening
of D-1. Times are local and carry no offset, as Fitbit's do. A stages log's `levels.data` is
a run of consecutive periods (`dateTime`, `level`, `seconds`) covering the whole sleep;
`shortData` holds the short wakes (3 minutes or less) Fitbit reports beside them.
"""

from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta
from typing import Any

JSON = dict[str, Any]

# Seconds each period may last, by level; cycles run light → deep → light → rem → wake.
_STAGES = (("light", 300, 1800), ("deep", 600, 2400), ("light", 300, 1200), ("rem", 300, 1800))
_STAGE_WAKE = ("wake", 60, 420)
_CLASSIC = (("asleep", 600, 2400), ("restless", 60, 300), ("awake", 60, 180))


def local_naive(at: datetime) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%S.000")


def main_sleep(rng: random.Random, day: date, log_id: int) -> JSON:
    evening = datetime.combine(day - timedelta(days=1), time(22, 0))
    start = evening + timedelta(minutes=rng.randint(0, 150), seconds=30 * rng.randint(0, 1))
    periods = _periods(rng, start, rng.randint(330, 540) * 60, [_STAGE_WAKE, *_STAGES])
    return _log(rng, day, log_id, start, periods, "stages", main=True)


def nap(rng: random.Random, day: date, log_id: int) -> JSON:
    start = datetime.combine(day, time(rng.randint(13, 15), rng.randrange(60)))
    periods = _periods(rng, start, rng.randint(20, 90) * 60, list(_CLASSIC))
    return _log(rng, day, log_id, start, periods, "classic", main=False)


def _periods(
    rng: random.Random, start: datetime, seconds: int, cycle: list[tuple[str, int, int]]
) -> list[JSON]:
    periods: list[JSON] = []
    at, left = start, seconds
    while left > 0:
        level, shortest, longest = cycle[len(periods) % len(cycle)]
        length = min(left, 30 * rng.randint(shortest // 30, longest // 30))
        periods.append({"dateTime": local_naive(at), "level": level, "seconds": length})
        at, left = at + timedelta(seconds=length), left - length
    return periods


def _log(
    rng: random.Random,
    day: date,
    log_id: int,
    start: datetime,
    periods: list[JSON],
    kind: str,
    *,
    main: bool,
) -> JSON:
    seconds = sum(period["seconds"] for period in periods)
    in_bed = seconds // 60
    awake = sum(p["seconds"] for p in periods if p["level"] in ("wake", "awake")) // 60
    asleep = in_bed - awake
    return {
        "dateOfSleep": day.isoformat(),
        "duration": seconds * 1000,
        "efficiency": round(100 * asleep / in_bed) if in_bed else 0,
        "endTime": local_naive(start + timedelta(seconds=seconds)),
        "infoCode": 0,
        "isMainSleep": main,
        "levels": _levels(rng, periods, kind),
        "logId": log_id,
        "logType": "auto_detected",
        "minutesAfterWakeup": 0,
        "minutesAsleep": asleep,
        "minutesAwake": awake,
        "minutesToFallAsleep": 0,
        "startTime": local_naive(start),
        "timeInBed": in_bed,
        "type": kind,
    }


def _levels(rng: random.Random, periods: list[JSON], kind: str) -> JSON:
    names = (
        ("deep", "light", "rem", "wake") if kind == "stages" else ("asleep", "restless", "awake")
    )
    summary = {name: _level_summary(rng, periods, name, kind) for name in names}
    short = _short_wakes(rng, periods) if kind == "stages" else []
    return {"data": periods, "shortData": short, "summary": summary}


def _level_summary(rng: random.Random, periods: list[JSON], level: str, kind: str) -> JSON:
    mine = [p for p in periods if p["level"] == level]
    minutes = sum(p["seconds"] for p in mine) // 60
    summary = {"count": len(mine), "minutes": minutes}
    if kind == "stages":
        summary["thirtyDayAvgMinutes"] = max(0, minutes + rng.randint(-20, 20))
    return summary


def _short_wakes(rng: random.Random, periods: list[JSON]) -> list[JSON]:
    light = [p for p in periods if p["level"] == "light" and p["seconds"] >= 600]
    chosen = rng.sample(light, k=min(len(light), rng.randint(0, 4)))
    wakes = []
    for period in sorted(chosen, key=lambda p: p["dateTime"]):
        at = datetime.fromisoformat(period["dateTime"]) + timedelta(seconds=30 * rng.randint(2, 10))
        wakes.append(
            {"dateTime": local_naive(at), "level": "wake", "seconds": 30 * rng.randint(1, 5)}
        )
    return wakes


def summary(logs: list[JSON]) -> JSON:
    """The `summary` of a sleep-by-date answer: totals, and stage minutes of stages logs."""
    stages = dict.fromkeys(("deep", "light", "rem", "wake"), 0)
    for log in logs:
        if log.get("type") == "stages":
            for name in stages:
                stages[name] += log["levels"]["summary"].get(name, {}).get("minutes", 0)
    return {
        "stages": stages,
        "totalMinutesAsleep": sum(log.get("minutesAsleep", 0) for log in logs),
        "totalSleepRecords": len(logs),
        "totalTimeInBed": sum(log.get("timeInBed", 0) for log in logs),
    }
