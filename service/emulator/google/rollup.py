"""Roll-ups (`:rollUp` over physical windows, `:dailyRollUp` over civil days) as pure
aggregation of a type's points into the value Google names for it: sums for counts and
amounts, averages for weight and body fat, time per level for activity levels. A point falls
in the window its start falls in."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable

from service.emulator.google.datatypes import JSON, Point


def _sum_int(field: str, out: str) -> Callable[[list[Point]], JSON]:
    def roll(points: list[Point]) -> JSON:
        return {out: str(sum(int(p.values[field]) for p in points))}

    return roll


def _average(field: str, out: str) -> Callable[[list[Point]], JSON | None]:
    def roll(points: list[Point]) -> JSON | None:
        if not points:
            return None
        return {out: round(sum(float(p.values[field]) for p in points) / len(points), 3)}

    return roll


def _calories(points: list[Point]) -> JSON:
    return {"kcalSum": round(sum(float(p.values["kcal"]) for p in points), 2)}


def _activity_levels(points: list[Point]) -> JSON | None:
    if not points:
        return None
    seconds: dict[str, float] = defaultdict(float)
    for point in points:
        seconds[point.values["activityLevelType"]] += (point.end - point.start).total_seconds()
    return {
        "activityLevelRollupsByActivityLevelType": [
            {"activityLevelType": level, "totalDuration": f"{int(total)}s"}
            for level, total in sorted(seconds.items())
        ]
    }


def _hydration(points: list[Point]) -> JSON:
    total = sum(float(p.values["amountConsumed"]["milliliters"]) for p in points)
    value: JSON = {"millilitersSum": total}
    if points:
        value["userProvidedUnitLast"] = (
            points[-1].values["amountConsumed"].get("userProvidedUnit", "MILLILITER")
        )
    return {"amountConsumed": value}


def _nutrition(points: list[Point]) -> JSON:
    def grams(name: str) -> float:
        return round(sum(float(p.values.get(name, {}).get("grams", 0)) for p in points), 2)

    nutrients: dict[str, float] = defaultdict(float)
    for point in points:
        for item in point.values.get("nutrients", []):
            nutrients[item["nutrient"]] += float(item["quantity"]["grams"])
    kcal = round(sum(float(p.values.get("energy", {}).get("kcal", 0)) for p in points), 2)
    return {
        "energy": {"kcalSum": kcal},
        "totalCarbohydrate": {"gramsSum": grams("totalCarbohydrate")},
        "totalFat": {"gramsSum": grams("totalFat")},
        "nutrients": [
            {"nutrient": name, "quantity": {"gramsSum": round(value, 2)}}
            for name, value in sorted(nutrients.items())
        ],
    }


ROLLUPS: dict[str, Callable[[list[Point]], JSON | None]] = {
    "steps": _sum_int("count", "countSum"),
    "distance": _sum_int("millimeters", "millimetersSum"),
    "floors": _sum_int("count", "countSum"),
    "altitude": _sum_int("gainMillimeters", "gainMillimetersSum"),
    "total-calories": _calories,
    "activity-level": _activity_levels,
    "weight": _average("weightGrams", "weightGramsAvg"),
    "body-fat": _average("percentage", "bodyFatPercentageAvg"),
    "hydration-log": _hydration,
    "nutrition-log": _nutrition,
}


def value(kind: str, points: list[Point]) -> JSON | None:
    return ROLLUPS[kind](sorted(points, key=lambda p: p.start))
