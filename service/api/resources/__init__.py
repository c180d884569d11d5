"""The resources `/v1` serves. A new one is a `Resource` in a module here, listed below."""

from __future__ import annotations

from service.api.resource import Resource
from service.api.resources import (
    account_events,
    backfills,
    notifications,
    subscriptions,
    sync_requests,
    users,
)

RESOURCES: tuple[Resource, ...] = (
    users.RESOURCE,
    subscriptions.RESOURCE,
    notifications.RESOURCE,
    sync_requests.RESOURCE,
    account_events.RESOURCE,
    backfills.RESOURCE,
)
