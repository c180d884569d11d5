"""The life of one sync request as its job sees it: what to fetch, and how it ended.

Generations make concurrent notifications safe: a job fetches for the generation it read, and
`mark_synced` records that generation; a change that arrived meanwhile leaves the request
pending, so the job (or the sweeper) fetches once more.
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass
from typing import Any
from typing import cast as typed

from sqlalchemy import (
    ColumnElement,
    Float,
    Table,
    bindparam,
    case,
    cast,
    func,
    literal,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import QueryableAttribute
from sqlalchemy.sql import Executable

from service.providers.base import SyncKey
from service.store.models import ProviderAccount, SyncRequest, SyncStatus, User, UserStatus

MAX_ERROR_LENGTH = 500


@dataclass(frozen=True, slots=True)
class SyncTarget:
    request_id: int
    generation: int
    synced_generation: int
    attempts: int
    account_id: int | None
    user_id: int | None
    user_status: UserStatus | None
    utc_offset_ms: int | None
    has_tokens: bool
    pending_seconds: float  # since it became pending (negative: backfill work not yet due)

    @property
    def up_to_date(self) -> bool:
        return self.synced_generation >= self.generation

    @property
    def syncable(self) -> bool:
        return self.has_tokens and self.user_status is UserStatus.ACTIVE


async def load(session: AsyncSession, key: SyncKey) -> SyncTarget | None:
    """The request for `key` and the connected account it belongs to, if any."""
    row = (await session.execute(_load_statement(), _key_params(key))).first()
    # Ten columns are past SQLAlchemy's typed overloads of select(), so the row's tail is Any.
    return None if row is None else SyncTarget(*typed(tuple[Any, ...], row))


# The statements a sync job runs are built once (bound parameters, not values), so each
# execution skips building expressions and goes straight to SQLAlchemy's compiled cache.


def _key_params(key: SyncKey) -> dict[str, Any]:
    return {
        "k_provider": key.provider,
        "k_owner": key.owner_id,
        "k_collection": key.collection,
        "k_date": key.date,
    }


def _is_key() -> tuple[ColumnElement[bool], ...]:
    return (
        SyncRequest.provider == bindparam("k_provider"),
        SyncRequest.owner_id == bindparam("k_owner"),
        SyncRequest.collection == bindparam("k_collection"),
        SyncRequest.date == bindparam("k_date"),
    )


@functools.cache
def _load_statement() -> Executable:
    return (
        select(
            SyncRequest.id,
            SyncRequest.generation,
            SyncRequest.synced_generation,
            SyncRequest.attempts,
            ProviderAccount.id,
            User.id,
            User.status,
            User.utc_offset_ms,
            ProviderAccount.refresh_token.is_not(None),
            func.coalesce(_seconds_since(SyncRequest.pending_since), 0.0),
        )
        .outerjoin(
            ProviderAccount,
            (ProviderAccount.provider == SyncRequest.provider)
            & (ProviderAccount.external_id == SyncRequest.owner_id),
        )
        .outerjoin(User, User.id == ProviderAccount.user_id)
        .where(*_is_key())
    )


def _seconds_since(moment: QueryableAttribute[Any]) -> ColumnElement[float]:
    """Measured by the database's clock, the one that stamped `moment`."""
    return cast(func.extract("epoch", func.now() - moment), Float)


async def is_pending(session: AsyncSession, key: SyncKey) -> bool:
    return bool(await session.scalar(_pending_statement(), _key_params(key)))


@functools.cache
def _pending_statement() -> Executable:
    return select(literal(True)).where(*_is_key(), SyncRequest.status == SyncStatus.PENDING)


async def mark_synced(session: AsyncSession, request_id: int, generation: int) -> int | None:
    """Record that `generation` is fetched; return the current generation (maybe newer), or
    None when this generation or a newer one is recorded already (by an overlapping sync)."""
    params = {"request_id": request_id, "fetched": generation}
    current = await session.scalar(_synced_statement(), params)
    return None if current is None else int(current)


@functools.cache
def _synced_statement() -> Executable:
    fetched = bindparam("fetched", type_=SyncRequest.generation.type)
    done = SyncRequest.generation == fetched
    return (
        update(SyncRequest)
        .where(SyncRequest.id == bindparam("request_id"), SyncRequest.synced_generation < fetched)
        .values(
            synced_generation=fetched,
            status=case(
                (done, literal(SyncStatus.SYNCED, SyncRequest.status.type)),
                else_=literal(SyncStatus.PENDING, SyncRequest.status.type),
            ),
            pending_since=case((done, None), else_=func.now()),
            synced_at=func.now(),
            attempts=0,
            last_error=None,
        )
        .returning(SyncRequest.generation)
    )


async def record_attempt(session: AsyncSession, request_id: int, error: str) -> int:
    """Count a transient failure; return the attempts so far."""
    attempts = await session.scalar(
        update(SyncRequest)
        .where(SyncRequest.id == request_id)
        .values(attempts=SyncRequest.attempts + 1, last_error=error[:MAX_ERROR_LENGTH])
        .returning(SyncRequest.attempts)
    )
    return int(attempts or 0)


async def mark_failed(session: AsyncSession, request_id: int, error: str) -> None:
    """Give up until a new notification or `sync retry`; the reason stays visible."""
    await session.execute(
        update(SyncRequest)
        .where(SyncRequest.id == request_id)
        .values(status=SyncStatus.FAILED, last_error=error[:MAX_ERROR_LENGTH], pending_since=None)
    )


async def reopen_failed(
    session: AsyncSession,
    *,
    limit: int | None = None,
    owner_id: str | None = None,
    collection: str | None = None,
    since: dt.date | None = None,
) -> list[SyncKey]:
    """Make failed requests pending again (attempts reset); return their keys.

    Optionally only one owner's, one collection's, or those of `since` and later days.
    """
    chosen = select(SyncRequest.id).where(SyncRequest.status == SyncStatus.FAILED)
    if owner_id is not None:
        chosen = chosen.where(SyncRequest.owner_id == owner_id)
    if collection is not None:
        chosen = chosen.where(SyncRequest.collection == collection)
    if since is not None:
        chosen = chosen.where(SyncRequest.date >= since)
    if limit is not None:
        chosen = chosen.limit(limit)
    rows = await session.execute(
        update(SyncRequest)
        .where(SyncRequest.id.in_(chosen.scalar_subquery()))
        .values(status=SyncStatus.PENDING, attempts=0, pending_since=dt.datetime.now(dt.UTC))
        .returning(
            SyncRequest.provider, SyncRequest.owner_id, SyncRequest.collection, SyncRequest.date
        )
    )
    return [SyncKey(*row) for row in rows]


async def schedule_pending(
    session: AsyncSession, schedule: list[tuple[SyncKey, float]], now: float
) -> None:
    """Stamp each key's `pending_since` with when its job is due (`now` + its offset), as a
    backfill does, so the sweeper takes a key paced hours ahead for lost only once it is
    overdue instead of filling every sweep with it."""
    if not schedule:
        return
    # The table, not the entity: one UPDATE over many parameter sets (the ORM would want
    # primary keys for that).
    table = typed(Table, SyncRequest.__table__)
    await session.execute(
        update(table).where(*_is_key()).values(pending_since=bindparam("due")),
        [
            {**_key_params(key), "due": dt.datetime.fromtimestamp(now + offset, dt.UTC)}
            for key, offset in schedule
        ],
    )
