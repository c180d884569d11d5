"""`sync-requests`: per (provider, owner, collection, date), whether its data is up to date."""

from __future__ import annotations

from service.api import params
from service.api.resource import Attribute, Filter, Resource
from service.api.resources import owners
from service.store.models import SyncRequest, SyncStatus

RESOURCE = Resource(
    type="sync-requests",
    source=SyncRequest.__table__,
    id=SyncRequest.id,
    description="One per provider, owner, collection and date that a notification named: "
    "pending until fetched, then synced, or failed with the last error.",
    attributes={
        "provider": Attribute(SyncRequest.provider),
        "owner_id": Attribute(SyncRequest.owner_id, "The provider's user id (Fitbit: ownerId)."),
        "collection": Attribute(SyncRequest.collection),
        "date": Attribute(SyncRequest.date, "The day, in the person's local time."),
        "status": Attribute(SyncRequest.status, "pending, synced or failed."),
        "generation": Attribute(SyncRequest.generation, "Notifications received for this key."),
        "synced_generation": Attribute(
            SyncRequest.synced_generation, "The generation last synced."
        ),
        "attempts": Attribute(SyncRequest.attempts, "Fetch attempts since it became pending."),
        "last_error": Attribute(SyncRequest.last_error, "Why the last attempt failed."),
        "created_at": Attribute(SyncRequest.created_at),
        "pending_since": Attribute(SyncRequest.pending_since),
        "synced_at": Attribute(SyncRequest.synced_at),
    },
    sortable=(
        "id",
        "date",
        "status",
        "collection",
        "attempts",
        "created_at",
        "pending_since",
        "synced_at",
    ),
    filters=(
        owners.user_filter(SyncRequest.provider, SyncRequest.owner_id),
        owners.owner_filter(SyncRequest.owner_id),
        Filter.on("provider", SyncRequest.provider, description="The provider."),
        Filter.on("collection", SyncRequest.collection, description="The collection."),
        Filter.on(
            "status", SyncRequest.status, params.one_of(SyncStatus), description="The status."
        ),
        Filter.on(
            "date", SyncRequest.date, params.date, ranged=True, description="The day (YYYY-MM-DD)."
        ),
        Filter.on(
            "pending_since",
            SyncRequest.pending_since,
            params.timestamp,
            ranged=True,
            description="Pending since (ISO 8601 with offset).",
        ),
    ),
    relationships=(owners.user_relationship(SyncRequest.provider, SyncRequest.owner_id),),
)
