"""API clients: created by an operator, authenticated by their secret, revoked for good."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from service.api import credentials
from service.store.models import ApiClient


@dataclass(frozen=True, slots=True)
class ClientRecord:
    id: int
    client_id: str
    name: str
    scopes: frozenset[str]
    created_at: dt.datetime
    revoked_at: dt.datetime | None


@dataclass(frozen=True, slots=True)
class NewClient:
    record: ClientRecord
    secret: str  # shown once, to whoever created the client; never stored


_COLUMNS = (
    ApiClient.id,
    ApiClient.client_id,
    ApiClient.name,
    ApiClient.scopes,
    ApiClient.created_at,
    ApiClient.revoked_at,
)


async def create(conn: AsyncConnection, name: str, scopes: frozenset[str]) -> NewClient:
    secret = credentials.new_secret()
    secret_hash = await asyncio.to_thread(credentials.hash_secret, secret)
    values = {
        "client_id": credentials.new_client_id(),
        "name": name,
        "secret_hash": secret_hash,
        "scopes": sorted(scopes),
    }
    row = (await conn.execute(insert(ApiClient).values(values).returning(*_COLUMNS))).one()
    return NewClient(_record(row), secret)


async def list_all(conn: AsyncConnection) -> Sequence[ClientRecord]:
    rows = await conn.execute(select(*_COLUMNS).order_by(ApiClient.id))
    return [_record(row) for row in rows]


async def revoke(conn: AsyncConnection, client_id: str) -> ClientRecord | None:
    """Revoke a client; its tokens stop working at once. None if there is no such client."""
    statement = (
        update(ApiClient)
        .where(ApiClient.client_id == client_id)
        .values(revoked_at=func.coalesce(ApiClient.revoked_at, func.now()))
        .returning(*_COLUMNS)
    )
    row = (await conn.execute(statement)).first()
    return _record(row) if row else None


async def authenticate(conn: AsyncConnection, client_id: str, secret: str) -> ClientRecord | None:
    """The active client these credentials belong to, or None.

    An unknown id costs one scrypt too, so the answer's timing does not say which part was wrong.
    """
    statement = select(*_COLUMNS, ApiClient.secret_hash).where(
        ApiClient.client_id == client_id, ApiClient.revoked_at.is_(None)
    )
    row = (await conn.execute(statement)).first()
    stored = row.secret_hash if row else None
    matches = await asyncio.to_thread(credentials.verify_secret, secret, stored)
    return _record(row) if row and matches else None


def _record(row: Any) -> ClientRecord:  # a Row of _COLUMNS
    return ClientRecord(
        id=row.id,
        client_id=row.client_id,
        name=row.name,
        scopes=frozenset(row.scopes),
        created_at=row.created_at,
        revoked_at=row.revoked_at,
    )
