"""`subscriptions`: the provider subscriptions registered for users' accounts (read only)."""

from __future__ import annotations

from service.api import params
from service.api.resource import Attribute, Filter, Relationship, Resource
from service.api.resources import owners
from service.store.models import ProviderAccount, Subscription

RESOURCE = Resource(
    type="subscriptions",
    source=Subscription.__table__.join(
        ProviderAccount.__table__, ProviderAccount.id == Subscription.account_id
    ),
    id=Subscription.id,
    description="Provider subscriptions: the provider pushes a user's changes of a collection.",
    attributes={
        "provider": Attribute(ProviderAccount.provider),
        "owner_id": Attribute(
            ProviderAccount.external_id, "The provider's user id (Fitbit: ownerId)."
        ),
        "collection": Attribute(Subscription.collection),
        "subscription_id": Attribute(
            Subscription.subscription_id, "Our id for it at the provider."
        ),
        "created_at": Attribute(Subscription.created_at),
    },
    sortable=("id", "collection", "created_at"),
    filters=(
        Filter.on("user", ProviderAccount.user_id, params.integer, description="Our user id."),
        owners.owner_filter(ProviderAccount.external_id),
        Filter.on("provider", ProviderAccount.provider, description="The provider."),
        Filter.on("collection", Subscription.collection, description="The collection."),
    ),
    relationships=(
        Relationship("user", "users", ProviderAccount.user_id, description="The person."),
    ),
)
