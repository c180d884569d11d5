"""`activity-summaries` (a person's day of activity) and `activity-logs` (each exercise)."""

from __future__ import annotations

from typing import Any

from service.api.resource import Attribute
from service.api.resources import health
from service.store.models import ActivityLog, ActivitySummary

_ZONES = "Heart rate zones: name, min and max (bpm), minutes, calories out (kcal)."

SUMMARIES = health.data_resource(
    ActivitySummary,
    "activity-summaries",
    "A person's activity of one local day: steps, energy, distance, active minutes.",
    {
        "steps": Attribute(ActivitySummary.steps),
        "calories_out": Attribute(ActivitySummary.calories_out, "Energy spent (kcal)."),
        "activity_calories": Attribute(
            ActivitySummary.activity_calories, "Energy spent in activity (kcal)."
        ),
        "calories_bmr": Attribute(ActivitySummary.calories_bmr, "Basal energy (kcal)."),
        "distance_km": Attribute(ActivitySummary.distance_km, "Total distance (km)."),
        "floors": Attribute(ActivitySummary.floors),
        "elevation_m": Attribute(ActivitySummary.elevation_m, "Elevation climbed (m)."),
        "sedentary_minutes": Attribute(ActivitySummary.sedentary_minutes),
        "lightly_active_minutes": Attribute(ActivitySummary.lightly_active_minutes),
        "fairly_active_minutes": Attribute(ActivitySummary.fairly_active_minutes),
        "very_active_minutes": Attribute(ActivitySummary.very_active_minutes),
        "resting_heart_rate": Attribute(ActivitySummary.resting_heart_rate, "bpm."),
        "heart_rate_zones": Attribute(
            ActivitySummary.heart_rate_zones, _ZONES, list[dict[str, Any]]
        ),
    },
)

LOGS = health.data_resource(
    ActivityLog,
    "activity-logs",
    "Each logged or auto-recognised exercise; `date` is the local day it started.",
    {
        "log_id": health.log_id(ActivityLog.log_id),
        "start_time": Attribute(ActivityLog.start_time, "Local start, without offset."),
        "start_at": Attribute(
            health.utc(ActivityLog.start_time, ActivityLog.utc_offset_ms), "The start in UTC."
        ),
        "duration_ms": Attribute(ActivityLog.duration_ms, "Milliseconds."),
        "active_duration_ms": Attribute(ActivityLog.active_duration_ms, "Milliseconds."),
        "name": Attribute(ActivityLog.name, "e.g. Walk, Run."),
        "activity_type_id": Attribute(ActivityLog.activity_type_id, "The provider's type id."),
        "log_type": Attribute(ActivityLog.log_type, "e.g. auto_detected, manual, tracker."),
        "calories": Attribute(ActivityLog.calories, "Energy spent (kcal)."),
        "steps": Attribute(ActivityLog.steps),
        "distance_km": Attribute(ActivityLog.distance_km, "km."),
        "average_heart_rate": Attribute(ActivityLog.average_heart_rate, "bpm."),
        "elevation_gain_m": Attribute(ActivityLog.elevation_gain_m, "m."),
        "heart_rate_zones": Attribute(ActivityLog.heart_rate_zones, _ZONES, list[dict[str, Any]]),
    },
    sortable=("start_time",),
    filters=(
        health.log_id_filter(ActivityLog.log_id),
        health.start_time_filter(ActivityLog.start_time),
    ),
)
