"""`backfills`: fetches of a person's history and how far they are (read only; created by
`POST /v1/users/{id}/backfills` or `fitbit-subscriber backfill`)."""

from __future__ import annotations

from service import backfills
from service.api import params
from service.api.resource import Attribute, Filter, Relationship, Resource
from service.api.resources import owners
from service.store.models import Backfill

RESOURCE = Resource(
    type="backfills",
    source=Backfill.__table__,
    id=Backfill.id,
    description="A person's history being fetched: every collection and day of a range, at "
    "backfill priority (within the rate budget, leaving its reserve to live notifications). "
    "Progress is counted from the range's sync requests.",
    attributes={
        "provider": Attribute(Backfill.provider),
        "owner_id": Attribute(Backfill.owner_id, "The provider's user id (Fitbit: ownerId)."),
        "collections": Attribute(Backfill.collections, "The collections fetched.", list[str]),
        "from": Attribute(Backfill.from_date, "The first day, in the person's local time."),
        "to": Attribute(Backfill.to_date, "The last day."),
        "total": Attribute(Backfill.total_keys, "Keys: collections times days."),
        "done": Attribute(backfills.DONE, "Keys synced since the backfill began."),
        "failed": Attribute(backfills.FAILED, "Keys that failed (`sync retry` queues them)."),
        "pending": Attribute(backfills.PENDING, "Keys still to fetch."),
        "calls_left": Attribute(backfills.CALLS_LEFT, "Provider calls the pending keys need."),
        "calls_per_hour": Attribute(
            Backfill.calls_per_hour, "Calls per hour the rate budget lets backfill make."
        ),
        "eta_seconds": Attribute(
            backfills.ETA_SECONDS, "calls_left divided by calls_per_hour, in seconds."
        ),
        "status": Attribute(
            backfills.STATUS, "running; done; or failed: finished, some keys failed."
        ),
        "created_at": Attribute(Backfill.created_at),
        "finished_at": Attribute(Backfill.finished_at, "When it was first seen finished."),
    },
    sortable=("id", "created_at"),
    filters=(
        Filter.on("user", Backfill.user_id, params.integer, description="Our user id."),
        owners.owner_filter(Backfill.owner_id),
        Filter.on(
            "status",
            backfills.STATUS,
            params.one_of(backfills.BackfillStatus),
            description="The status.",
        ),
    ),
    relationships=(Relationship("user", "users", Backfill.user_id, description="The person."),),
)
