"""Account events: the visible history of a person's connection."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from service.store.models import AccountEvent


def record(
    session: AsyncSession,
    user_id: int | None,
    provider: str,
    kind: str,
    detail: str | None = None,
    *,
    user_ref: str | None = None,
) -> None:
    session.add(
        AccountEvent(
            user_id=user_id, user_ref=user_ref, provider=provider, kind=kind, detail=detail
        )
    )
