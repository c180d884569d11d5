"""`weight-logs` and `body-fat-logs`: each measurement, from a scale or entered by hand."""

from __future__ import annotations

from service.api.resource import Attribute
from service.api.resources import health
from service.store.models import BodyFatLog, WeightLog

_SOURCE = "Where it came from, e.g. Aria, API; empty when the provider names none."

WEIGHT = health.data_resource(
    WeightLog,
    "weight-logs",
    "Each weight measurement. One provider log id may appear once per source.",
    {
        "log_id": health.log_id(WeightLog.log_id),
        "source": Attribute(WeightLog.source, _SOURCE),
        "time": Attribute(WeightLog.time, "Local time of day, without offset."),
        "measured_at": Attribute(
            health.utc(WeightLog.date + WeightLog.time, WeightLog.utc_offset_ms),
            "The date and time in UTC.",
        ),
        "weight_kg": Attribute(WeightLog.weight_kg, "kg."),
        "bmi": Attribute(WeightLog.bmi, "Body mass index (kg/m²)."),
        "fat_percent": Attribute(WeightLog.fat_percent, "Body fat, percent."),
    },
    sortable=("time",),
    filters=(health.log_id_filter(WeightLog.log_id),),
)

BODY_FAT = health.data_resource(
    BodyFatLog,
    "body-fat-logs",
    "Each body fat measurement. One provider log id may appear once per source.",
    {
        "log_id": health.log_id(BodyFatLog.log_id),
        "source": Attribute(BodyFatLog.source, _SOURCE),
        "time": Attribute(BodyFatLog.time, "Local time of day, without offset."),
        "measured_at": Attribute(
            health.utc(BodyFatLog.date + BodyFatLog.time, BodyFatLog.utc_offset_ms),
            "The date and time in UTC.",
        ),
        "fat_percent": Attribute(BodyFatLog.fat_percent, "Body fat, percent."),
    },
    sortable=("time",),
    filters=(health.log_id_filter(BodyFatLog.log_id),),
)
