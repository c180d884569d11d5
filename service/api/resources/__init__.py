"""The resources `/v1` serves. A new one is a `Resource` in a module here, listed below."""

from __future__ import annotations

from service.api.resource import Resource
from service.api.resources import (
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
    backfills.RESOURCE,
)
