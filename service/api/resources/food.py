"""`food-logs` (each food eaten) and `nutrition-summaries` (a day's totals)."""

from __future__ import annotations

from service.api.resource import Attribute
from service.api.resources import health
from service.store.models import FoodLog, NutritionSummary

LOGS = health.data_resource(
    FoodLog,
    "food-logs",
    "Each food logged, with its nutritional values as logged.",
    {
        "log_id": health.log_id(FoodLog.log_id),
        "food_id": Attribute(FoodLog.food_id, "The provider's id of the food."),
        "name": Attribute(FoodLog.name),
        "brand": Attribute(FoodLog.brand),
        "meal_type_id": Attribute(
            FoodLog.meal_type_id,
            "The provider's meal. Fitbit: 1 breakfast, 3 lunch, 5 dinner, 7 anytime; "
            "2, 4 and 6 are snacks.",
        ),
        "amount": Attribute(FoodLog.amount, "In `unit`."),
        "unit": Attribute(FoodLog.unit, "The unit of `amount`, as the provider names it."),
        "calories": Attribute(FoodLog.calories, "kcal."),
        "carbs_g": Attribute(FoodLog.carbs_g, "Carbohydrate (g)."),
        "fat_g": Attribute(FoodLog.fat_g, "g."),
        "fiber_g": Attribute(FoodLog.fiber_g, "g."),
        "protein_g": Attribute(FoodLog.protein_g, "g."),
        "sodium_mg": Attribute(FoodLog.sodium_mg, "mg."),
    },
    filters=(health.log_id_filter(FoodLog.log_id),),
)

SUMMARIES = health.data_resource(
    NutritionSummary,
    "nutrition-summaries",
    "What a person logged eating on one local day, in total.",
    {
        "calories": Attribute(NutritionSummary.calories, "kcal."),
        "carbs_g": Attribute(NutritionSummary.carbs_g, "Carbohydrate (g)."),
        "fat_g": Attribute(NutritionSummary.fat_g, "g."),
        "fiber_g": Attribute(NutritionSummary.fiber_g, "g."),
        "protein_g": Attribute(NutritionSummary.protein_g, "g."),
        "sodium_mg": Attribute(NutritionSummary.sodium_mg, "mg."),
    },
)
