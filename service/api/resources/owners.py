"""Rows that name a person by provider and provider user id (`owner_id`), tied to our users."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, exists, select

from service.api import params
from service.api.resource import Expression, Filter, Relationship
from service.store.models import ProviderAccount


def user_id(provider: Expression, owner_id: Expression) -> ColumnElement[Any]:
    """Our user id for a (provider, owner_id) pair, as a correlated subquery; NULL if unknown."""
    return (
        select(ProviderAccount.user_id)
        .where(ProviderAccount.provider == provider, ProviderAccount.external_id == owner_id)
        .scalar_subquery()
    )


def user_filter(provider: Expression, owner_id: Expression) -> Filter:
    """`filter[user]=<users id>,...`: rows of the provider accounts of those users."""

    def where(op: str, values: tuple[Any, ...]) -> ColumnElement[bool]:
        return exists().where(
            ProviderAccount.provider == provider,
            ProviderAccount.external_id == owner_id,
            ProviderAccount.user_id.in_(values),
        )

    return Filter("user", where, params.integer, description="Our user id (a `users` id).")


def user_relationship(provider: Expression, owner_id: Expression) -> Relationship:
    return Relationship("user", "users", user_id(provider, owner_id), description="The person.")


def owner_filter(owner_id: Expression) -> Filter:
    return Filter.on("owner", owner_id, description="The provider's user id (Fitbit: ownerId).")
