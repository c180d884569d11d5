"""`water-logs` (each drink logged) and `water-summaries` (a day's total)."""

from __future__ import annotations

from service.api.resource import Attribute
from service.api.resources import health
from service.store.models import WaterLog, WaterSummary

LOGS = health.data_resource(
    WaterLog,
    "water-logs",
    "Each drink of water logged.",
    {
        "log_id": health.log_id(WaterLog.log_id),
        "amount_ml": Attribute(WaterLog.amount_ml, "ml."),
    },
    filters=(health.log_id_filter(WaterLog.log_id),),
)

SUMMARIES = health.data_resource(
    WaterSummary,
    "water-summaries",
    "The water a person logged drinking on one local day, in total.",
    {"water_ml": Attribute(WaterSummary.water_ml, "ml.")},
)
