"""`sleep-logs`: each sleep or nap, with its stages."""

from __future__ import annotations

from typing import Any

from service.api.resource import Attribute
from service.api.resources import health
from service.store.models import SleepLog

LOGS = health.data_resource(
    SleepLog,
    "sleep-logs",
    "Each sleep or nap; `date` is the local day it ended.",
    {
        "log_id": health.log_id(SleepLog.log_id),
        "start_time": Attribute(SleepLog.start_time, "Local start, without offset."),
        "end_time": Attribute(SleepLog.end_time, "Local end, without offset."),
        "start_at": Attribute(
            health.utc(SleepLog.start_time, SleepLog.utc_offset_ms), "The start in UTC."
        ),
        "end_at": Attribute(
            health.utc(SleepLog.end_time, SleepLog.utc_offset_ms), "The end in UTC."
        ),
        "duration_ms": Attribute(SleepLog.duration_ms, "Milliseconds."),
        "efficiency": Attribute(SleepLog.efficiency, "Percent."),
        "minutes_asleep": Attribute(SleepLog.minutes_asleep),
        "minutes_awake": Attribute(SleepLog.minutes_awake),
        "minutes_to_fall_asleep": Attribute(SleepLog.minutes_to_fall_asleep),
        "time_in_bed": Attribute(SleepLog.time_in_bed, "Minutes."),
        "is_main_sleep": Attribute(SleepLog.is_main_sleep),
        "sleep_type": Attribute(SleepLog.sleep_type, "stages or classic."),
        "stage_summary": Attribute(
            SleepLog.stage_summary,
            "Per level (deep, light, rem, wake; or asleep, restless, awake): count, minutes.",
            dict[str, Any],
        ),
        "stages": Attribute(
            SleepLog.stages,
            "Each period: start (local ISO 8601), level, seconds.",
            list[dict[str, Any]],
        ),
        "short_wakes": Attribute(
            SleepLog.short_wakes, "Wakes of 3 minutes or less, as stages.", list[dict[str, Any]]
        ),
    },
    sortable=("start_time",),
    filters=(health.log_id_filter(SleepLog.log_id), health.start_time_filter(SleepLog.start_time)),
)
