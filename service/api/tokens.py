"""Bearer tokens of the internal API: issued in pairs, stored as digests, refreshed once.

A refresh token is single use (OAuth 2.0 Security BCP, RFC 9700 section 4.14): spending it
is one conditional UPDATE, so two concurrent refreshes cannot both succeed. Presenting a spent
one again means a copy exists somewhere, so every token of its family is revoked.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Collection
from dataclasses import dataclass

from sqlalchemy import delete, func, insert, literal, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from service.api.credentials import new_token, token_digest
from service.store.models import ApiClient, ApiToken


@dataclass(frozen=True, slots=True)
class Lifetimes:
    access: dt.timedelta
    refresh: dt.timedelta


@dataclass(frozen=True, slots=True)
class Issued:
    access_token: str
    refresh_token: str
    expires_in: int
    scopes: frozenset[str]


@dataclass(frozen=True, slots=True)
class Bearer:
    """What an access token grants, as found by its digest."""

    client_id: str
    client_name: str
    scopes: frozenset[str]
    expired: bool


@dataclass(frozen=True, slots=True)
class Grant:
    """What a spent refresh token stood for: its family and the scopes it may be refreshed to."""

    family: str
    scopes: frozenset[str]


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why a refresh token was not accepted, as an RFC 6749 error code and a description."""

    error: str
    description: str


async def issue(
    conn: AsyncConnection,
    client_pk: int,
    scopes: Collection[str],
    lifetimes: Lifetimes,
    *,
    family: str | None = None,
    grant_scopes: Collection[str] | None = None,
) -> Issued:
    """A new token pair; `grant_scopes` (default `scopes`) bounds what refreshing may ask for."""
    access, refresh = new_token(), new_token()
    values = {
        "api_client_id": client_pk,
        "family": family or secrets.token_hex(16),
        "access_hash": token_digest(access),
        "refresh_hash": token_digest(refresh),
        "scopes": sorted(scopes),
        "grant_scopes": sorted(grant_scopes if grant_scopes is not None else scopes),
        "access_expires_at": func.now() + lifetimes.access,
        "refresh_expires_at": func.now() + lifetimes.refresh,
    }
    await conn.execute(insert(ApiToken).values(values))
    await _prune(conn, client_pk)
    expires_in = int(lifetimes.access.total_seconds())
    return Issued(access, refresh, expires_in, frozenset(scopes))


async def spend_refresh(
    conn: AsyncConnection, client_pk: int, token: str, scopes: Collection[str]
) -> Grant | Refusal:
    """Spend a refresh token of this client that covers `scopes`: its family and grant scopes.

    Otherwise why not; a token spent before has its whole family revoked (the caller commits).
    """
    digest = token_digest(token)
    statement = (
        update(ApiToken)
        .where(ApiToken.refresh_hash == digest, ApiToken.api_client_id == client_pk)
        .where(ApiToken.refreshed_at.is_(None), ApiToken.revoked_at.is_(None))
        .where(ApiToken.refresh_expires_at > func.now())
        .where(ApiToken.grant_scopes.contains(sorted(scopes)))
        .values(refreshed_at=func.now())
        .returning(ApiToken.family, ApiToken.grant_scopes)
    )
    spent = (await conn.execute(statement)).first()
    if spent is None:
        return await _refusal(conn, client_pk, digest)
    return Grant(spent.family, frozenset(spent.grant_scopes))


async def bearer(conn: AsyncConnection, token: str) -> Bearer | None:
    """What this access token grants, or None if it is unknown or revoked."""
    statement = (
        select(
            ApiClient.client_id,
            ApiClient.name,
            ApiToken.scopes,
            (ApiToken.access_expires_at <= func.now()).label("expired"),
        )
        .join(ApiClient, ApiClient.id == ApiToken.api_client_id)
        .where(ApiToken.access_hash == token_digest(token))
        .where(ApiToken.revoked_at.is_(None), ApiClient.revoked_at.is_(None))
    )
    row = (await conn.execute(statement)).first()
    if row is None:
        return None
    return Bearer(row.client_id, row.name, frozenset(row.scopes), bool(row.expired))


async def _refusal(conn: AsyncConnection, client_pk: int, digest: str) -> Refusal:
    statement = select(
        ApiToken.family,
        ApiToken.refreshed_at.is_not(None).label("spent"),
        (ApiToken.revoked_at.is_not(None) | (ApiToken.refresh_expires_at <= func.now())).label(
            "dead"
        ),
    ).where(ApiToken.refresh_hash == digest, ApiToken.api_client_id == client_pk)
    row = (await conn.execute(statement)).first()
    if row is None:
        return Refusal("invalid_grant", "unknown refresh token")
    if row.spent:
        await _revoke_family(conn, row.family)
        return Refusal("invalid_grant", "refresh token already used; its tokens are revoked")
    if row.dead:
        return Refusal("invalid_grant", "refresh token expired or revoked")
    return Refusal("invalid_scope", "scope exceeds what the refresh token was granted")


async def _revoke_family(conn: AsyncConnection, family: str) -> None:
    await conn.execute(
        update(ApiToken)
        .where(ApiToken.family == family, ApiToken.revoked_at.is_(None))
        .values(revoked_at=func.now())
    )


async def _prune(conn: AsyncConnection, client_pk: int) -> None:
    """Forget this client's pairs whose refresh token is past use: no cron job needed."""
    await conn.execute(
        delete(ApiToken).where(
            ApiToken.api_client_id == client_pk,
            ApiToken.refresh_expires_at < func.now() - literal(dt.timedelta(days=1)),
        )
    )
