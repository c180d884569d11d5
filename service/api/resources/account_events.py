"""`account-events`: what happened to people's connections, oldest first (read only)."""

from __future__ import annotations

from sqlalchemy import func

from service.api import params
from service.api.resource import Attribute, Filter, Relationship, Resource
from service.store.models import AccountEvent, User

# An event names the user_ref itself only when there is no user (a refused consent).
_user_ref = func.coalesce(AccountEvent.user_ref, User.user_ref)

RESOURCE = Resource(
    type="account-events",
    source=AccountEvent.__table__.outerjoin(User.__table__, User.id == AccountEvent.user_id),
    id=AccountEvent.id,
    description="The history of people's connections. Kinds: connected, reconnected, "
    "consent_denied (no user yet; user_ref says whose), user_ref_changed, reauth_required "
    "(the provider refused our refresh token), account_revoked and account_deleted (Fitbit "
    "told us the person revoked us or deleted their account), disconnected (through the API), "
    "migrated (a Fitbit user connected through Google Health: the same user, both accounts) "
    "and retired (after a migration: the Fitbit token revoked, the data kept).",
    attributes={
        "user_ref": Attribute(_user_ref, "The person's user_ref (now, or as asked)."),
        "provider": Attribute(AccountEvent.provider),
        "kind": Attribute(AccountEvent.kind, "What happened; see the description."),
        "detail": Attribute(AccountEvent.detail, "Why, or what was granted."),
        "created_at": Attribute(AccountEvent.created_at),
    },
    sortable=("id", "created_at", "kind"),
    filters=(
        Filter.on("user", AccountEvent.user_id, params.integer, description="Our user id."),
        Filter.on("user_ref", _user_ref, description="The person's user_ref."),
        Filter.on("kind", AccountEvent.kind, description="What happened."),
        Filter.on("provider", AccountEvent.provider, description="The provider."),
        Filter.on(
            "created_at",
            AccountEvent.created_at,
            params.timestamp,
            ranged=True,
            description="When (ISO 8601 with offset).",
        ),
    ),
    relationships=(
        Relationship("user", "users", AccountEvent.user_id, description="The person, if known."),
    ),
)
