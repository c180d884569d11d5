"""The Google Health data types this service syncs, and what each one needs.

Google notifies, subscribes and grants scopes per data type (kebab-case, e.g. `steps`), and a
sync key's collection is the data type id for the ones read into logs. Data types whose values
we do not store (heart rate, HRV, SpO2, ...) are recorded for the audit log only.

The data types of the daily activity summary (`SUMMARY_TYPES`) feed one row, which the store
replaces whole, so each key re-reads all of them (`fetch.plan`). Their changes therefore share
ONE collection, `activity-summary` (as Fitbit's `activities` covers its summary): a device sync
that touches steps, distance and calories costs one fetch of the summary, not one per type.
Keys made before that named a member data type; `collection` maps them and `fetch.plan`
still reads them as the summary.
"""

from __future__ import annotations

SCOPE_PREFIX = "https://www.googleapis.com/auth/googlehealth."
ACTIVITY_SCOPE = SCOPE_PREFIX + "activity_and_fitness.readonly"
HEALTH_METRICS_SCOPE = SCOPE_PREFIX + "health_metrics_and_measurements.readonly"
SLEEP_SCOPE = SCOPE_PREFIX + "sleep.readonly"
# Missing from Discovery (rev 20261002) but on the scopes page and every read method's page
# (FACTS §8.8): requested anyway, it is the only scope that reads food and water logs.
NUTRITION_SCOPE = SCOPE_PREFIX + "nutrition.readonly"
SETTINGS_SCOPE = SCOPE_PREFIX + "settings.readonly"

# Data types whose daily roll-ups make up one `ActivitySummary` row.
SUMMARY_TYPES = (
    "steps",
    "distance",
    "floors",
    "altitude",
    "total-calories",
    "activity-level",
    "daily-resting-heart-rate",
)
# The sync collection of every summary member's changes.
SUMMARY_COLLECTION = "activity-summary"
# Data types read as individual points (sessions and samples) into log rows.
LOG_TYPES = ("exercise", "sleep", "weight", "body-fat", "nutrition-log", "hydration-log")
SYNCED_TYPES = frozenset(SUMMARY_TYPES + LOG_TYPES)
# What a sync key's collection may name (and, for keys made earlier, a summary member).
COLLECTIONS = (SUMMARY_COLLECTION, *LOG_TYPES)

# The scope that lets us read each synced data type (FACTS §2.3).
SCOPES: dict[str, str] = {
    **dict.fromkeys(
        ("steps", "distance", "floors", "altitude", "total-calories", "activity-level"),
        ACTIVITY_SCOPE,
    ),
    "exercise": ACTIVITY_SCOPE,
    "daily-resting-heart-rate": HEALTH_METRICS_SCOPE,
    "weight": HEALTH_METRICS_SCOPE,
    "body-fat": HEALTH_METRICS_SCOPE,
    "sleep": SLEEP_SCOPE,
    "nutrition-log": NUTRITION_SCOPE,
    "hydration-log": NUTRITION_SCOPE,
}


def collection(data_type: str) -> str:
    """The sync collection a change of `data_type` belongs to."""
    return SUMMARY_COLLECTION if data_type in SUMMARY_TYPES else data_type


def filter_name(data_type: str) -> str:
    """The AIP-160 filter prefix of a data type: snake_case, not the kebab id (FACTS §5.2)."""
    return data_type.replace("-", "_")


def field_name(data_type: str) -> str:
    """The JSON member that holds a data type's value in a data point: camelCase."""
    head, *rest = data_type.split("-")
    return head + "".join(part.capitalize() for part in rest)


def granted_types(scopes: frozenset[str]) -> tuple[str, ...]:
    """The synced data types the granted scopes let us read, in a stable order."""
    return tuple(t for t in SUMMARY_TYPES + LOG_TYPES if SCOPES[t] in scopes)
