"""Fixed tables the generated data draws from: activity types, foods, goals."""

from __future__ import annotations

from typing import NamedTuple


class ActivityType(NamedTuple):
    type_id: int
    name: str
    km_per_hour: float  # 0: not distance-based, so the log carries no distance
    steps_per_minute: int
    kcal_per_minute: float


ACTIVITY_TYPES = (
    ActivityType(90013, "Walk", 5.0, 105, 4.5),
    ActivityType(90009, "Run", 10.0, 160, 11.0),
    ActivityType(90001, "Bike", 18.0, 0, 8.0),
    ActivityType(55001, "Spinning", 0.0, 0, 9.0),
    ActivityType(90024, "Swim", 2.0, 0, 8.5),
    ActivityType(52001, "Yoga", 0.0, 0, 3.0),
    ActivityType(3000, "Workout", 0.0, 20, 6.5),
)

LOG_TYPES = ("auto_detected", "tracker", "manual")
TRACKER = {
    "id": "82473273",
    "name": "Charge 6",
    "type": "tracker",
    "url": "https://www.fitbit.com/",
}
ACTIVITY_LEVELS = ("sedentary", "lightly", "fairly", "very")
HEART_ZONES = ("Out of Range", "Fat Burn", "Cardio", "Peak")


class Food(NamedTuple):
    food_id: int
    name: str
    brand: str
    # Per 100 g; sodium in mg.
    calories: float
    carbs: float
    fat: float
    fiber: float
    protein: float
    sodium: float
    grams: tuple[int, int]


FOODS = (
    Food(18828, "Chocolate, Milk", "", 535, 59.4, 29.7, 3.4, 7.7, 79, (25, 60)),
    Food(81001, "Porridge Oats", "", 375, 60.0, 8.0, 9.0, 11.0, 6, (40, 80)),
    Food(50002, "Banana", "", 89, 22.8, 0.3, 2.6, 1.1, 1, (100, 140)),
    Food(50010, "Apple", "", 52, 13.8, 0.2, 2.4, 0.3, 1, (120, 200)),
    Food(61020, "Chicken Breast, Grilled", "", 165, 0.0, 3.6, 0.0, 31.0, 74, (120, 220)),
    Food(61033, "Brown Rice, Cooked", "", 112, 23.5, 0.8, 1.8, 2.3, 5, (150, 250)),
    Food(70011, "Greek Yogurt", "Fage", 97, 3.6, 5.0, 0.0, 9.0, 36, (150, 200)),
    Food(70042, "Wholemeal Bread", "Hovis", 247, 41.0, 3.4, 6.8, 13.0, 400, (40, 80)),
    Food(70090, "Salmon Fillet", "", 208, 0.0, 13.0, 0.0, 20.0, 59, (120, 180)),
    Food(70101, "Mixed Salad", "", 20, 3.0, 0.2, 1.5, 1.4, 30, (80, 150)),
    Food(70133, "Pasta, Cooked", "", 131, 25.0, 1.1, 1.8, 5.0, 1, (180, 280)),
    Food(70177, "Almonds", "", 579, 21.6, 49.9, 12.5, 21.2, 1, (20, 40)),
)
GRAM = {"id": 147, "name": "gram", "plural": "grams"}
FOOD_UNITS = [147, 226, 180, 389]
# Fitbit's meal types: 1 breakfast, 2 morning snack, 3 lunch, 4 afternoon snack, 5 dinner.
MEALS = ((1, 1, 2), (2, 0, 1), (3, 1, 2), (4, 0, 1), (5, 1, 2))
WATER_AMOUNTS = (150, 200, 250, 300, 330, 500)

DISTANCES = (
    "total",
    "tracker",
    "loggedActivities",
    "veryActive",
    "moderatelyActive",
    "lightlyActive",
    "sedentaryActive",
)
ACTIVITY_GOALS = {"activeMinutes": 30, "caloriesOut": 2500, "distance": 8.05, "floors": 10}
STEP_GOAL = 10000
