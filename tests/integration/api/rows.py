"""Rows the API tests read, inserted directly with SQLAlchemy as the service's writers would."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncEngine

from service.store.models import (
    Notification,
    ProviderAccount,
    Subscription,
    SyncRequest,
    User,
)

T0 = dt.datetime(2026, 11, 21, 8, 0, tzinfo=dt.UTC)


async def user(
    engine: AsyncEngine,
    owner_id: str,
    *,
    user_ref: str | None = None,
    provider: str = "fitbit",
    **columns: Any,
) -> int:
    """A user with an account `owner_id` at `provider` (with tokens, which the API must never
    show)."""
    async with engine.begin() as conn:
        user_id = await conn.scalar(
            insert(User).values(user_ref=user_ref, **columns).returning(User.id)
        )
        await conn.execute(
            insert(ProviderAccount).values(
                user_id=user_id,
                provider=provider,
                external_id=owner_id,
                scopes=["activity", "sleep"],
                access_token="SECRET-ACCESS-TOKEN",
                refresh_token="SECRET-REFRESH-TOKEN",
            )
        )
    assert isinstance(user_id, int)
    return user_id


async def subscriptions(engine: AsyncEngine, owner_id: str, collections: Sequence[str]) -> None:
    async with engine.begin() as conn:
        account = await conn.scalar(
            ProviderAccount.__table__.select()
            .with_only_columns(ProviderAccount.id)
            .where(ProviderAccount.external_id == owner_id)
        )
        for collection in collections:
            await conn.execute(
                insert(Subscription).values(
                    account_id=account,
                    collection=collection,
                    subscription_id=f"{owner_id}-{collection}",
                )
            )


def notification(owner_id: str = "228TQ4", **overrides: Any) -> dict[str, Any]:
    row = {
        "provider": "fitbit",
        "owner_id": owner_id,
        "owner_type": "user",
        "collection_type": "activities",
        "date": dt.date(2026, 11, 20),
        "subscription_id": f"{owner_id}-activities",
        "received_at": T0,
    }
    row |= overrides
    raw = {"collectionType": row["collection_type"], "ownerId": owner_id}
    return row | {"raw": raw}


async def notifications(engine: AsyncEngine, items: Sequence[dict[str, Any]]) -> list[int]:
    async with engine.begin() as conn:
        result = await conn.execute(insert(Notification).returning(Notification.id), list(items))
        return list(result.scalars())


async def sync_request(engine: AsyncEngine, owner_id: str = "228TQ4", **columns: Any) -> int:
    values = {
        "provider": "fitbit",
        "owner_id": owner_id,
        "collection": "activities",
        "date": dt.date(2026, 11, 20),
    }
    async with engine.begin() as conn:
        id_ = await conn.scalar(
            insert(SyncRequest).values(values | columns).returning(SyncRequest.id)
        )
    assert isinstance(id_, int)
    return id_
