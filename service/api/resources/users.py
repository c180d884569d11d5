"""`users`: the people whose data the service keeps, with their provider accounts (no tokens)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import exists, func, literal_column, select
from sqlalchemy.dialects.postgresql import JSONB, aggregate_order_by

from service.api import params
from service.api.resource import Attribute, Filter, Relationship, Resource
from service.store.models import ProviderAccount, Subscription, User, UserStatus

_of_user = ProviderAccount.user_id == User.id

_providers = (
    select(func.array_agg(aggregate_order_by(ProviderAccount.provider, ProviderAccount.provider)))
    .where(_of_user)
    .scalar_subquery()
)
_account = func.jsonb_build_object(
    "provider", ProviderAccount.provider,
    "external_id", ProviderAccount.external_id,
    "scopes", ProviderAccount.scopes,
    "created_at", ProviderAccount.created_at,
)  # fmt: skip
_accounts = func.coalesce(
    select(func.jsonb_agg(aggregate_order_by(_account, ProviderAccount.provider)))
    .where(_of_user)
    .scalar_subquery(),
    literal_column("'[]'::jsonb"),
    type_=JSONB,
)
_subscription_ids = (
    select(func.array_agg(aggregate_order_by(Subscription.id, Subscription.id)))
    .join(ProviderAccount, ProviderAccount.id == Subscription.account_id)
    .where(_of_user)
    .scalar_subquery()
)


RESOURCE = Resource(
    type="users",
    source=User.__table__,
    id=User.id,
    description="The people whose data the service keeps. Never carries provider tokens.",
    attributes={
        "user_ref": Attribute(User.user_ref, "The downstream service's own id of the person."),
        "status": Attribute(User.status, "active, reauth_required or disconnected."),
        "providers": Attribute(_providers, "Providers the person is connected through."),
        "accounts": Attribute(
            _accounts, "Provider accounts: provider, external_id, scopes.", list[dict[str, Any]]
        ),
        "timezone": Attribute(User.timezone, "IANA time zone from the provider profile."),
        "utc_offset_ms": Attribute(User.utc_offset_ms, "UTC offset from the provider profile."),
        "created_at": Attribute(User.created_at),
        "updated_at": Attribute(User.updated_at),
    },
    sortable=("id", "user_ref", "status", "created_at", "updated_at"),
    filters=(
        Filter.on("user_ref", User.user_ref, description="The downstream service's id."),
        Filter.on("status", User.status, params.one_of(UserStatus), description="Status."),
        Filter(
            "provider",
            lambda op, values: exists().where(_of_user, ProviderAccount.provider.in_(values)),
            description="Connected through this provider.",
        ),
        Filter(
            "owner",
            lambda op, values: exists().where(_of_user, ProviderAccount.external_id.in_(values)),
            description="Holds this provider user id (Fitbit: ownerId).",
        ),
        Filter.on(
            "created_at",
            User.created_at,
            params.timestamp,
            ranged=True,
            description="Created (ISO 8601 with offset).",
        ),
    ),
    relationships=(
        Relationship(
            "subscriptions",
            "subscriptions",
            _subscription_ids,
            many=True,
            related_filter="user",
            description="Provider subscriptions of the person.",
        ),
    ),
)
