"""The resources `/v1` serves. A new one is a `Resource` in a module here, listed below."""

from __future__ import annotations

from service.api.resource import Resource
from service.api.resources import (
    account_events,
    activity,
    backfills,
    body,
    food,
    notifications,
    sleep,
    subscriptions,
    sync_requests,
    users,
    water,
)

RESOURCES: tuple[Resource, ...] = (
    users.RESOURCE,
    subscriptions.RESOURCE,
    notifications.RESOURCE,
    sync_requests.RESOURCE,
    account_events.RESOURCE,
    # Health data, one resource per table of synced rows.
    activity.SUMMARIES,
    activity.LOGS,
    sleep.LOGS,
    body.WEIGHT,
    body.BODY_FAT,
    food.LOGS,
    food.SUMMARIES,
    water.LOGS,
    water.SUMMARIES,
    backfills.RESOURCE,
)
