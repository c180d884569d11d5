"""`notifications`: the audit log of every item a provider pushed to the webhook."""

from __future__ import annotations

from typing import Any

from service.api import params
from service.api.resource import Attribute, Filter, Resource
from service.api.resources import owners
from service.store.models import Notification

RESOURCE = Resource(
    type="notifications",
    source=Notification.__table__,
    id=Notification.id,
    description="Every item providers pushed to the webhook, as received, oldest first "
    "unless sorted otherwise.",
    attributes={
        "provider": Attribute(Notification.provider, "e.g. fitbit"),
        "owner_id": Attribute(Notification.owner_id, "The provider's user id (Fitbit: ownerId)."),
        "owner_type": Attribute(Notification.owner_type),
        "collection": Attribute(
            Notification.collection_type, "e.g. activities, body, foods, sleep."
        ),
        "date": Attribute(Notification.date, "The changed day, in the person's local time."),
        "subscription_id": Attribute(Notification.subscription_id),
        "received_at": Attribute(Notification.received_at),
        "raw": Attribute(
            Notification.raw, "The item exactly as the provider sent it.", dict[str, Any]
        ),
    },
    sortable=("id", "received_at", "date", "owner_id", "collection"),
    filters=(
        owners.user_filter(Notification.provider, Notification.owner_id),
        owners.owner_filter(Notification.owner_id),
        Filter.on("provider", Notification.provider, description="The provider."),
        Filter.on("collection", Notification.collection_type, description="The collection type."),
        Filter.on(
            "date", Notification.date, params.date, ranged=True, description="The day (YYYY-MM-DD)."
        ),
        Filter.on(
            "received_at",
            Notification.received_at,
            params.timestamp,
            ranged=True,
            description="Received (ISO 8601 with offset).",
        ),
    ),
    relationships=(owners.user_relationship(Notification.provider, Notification.owner_id),),
)
