"""The token vault: a valid access token for an account, refreshed at most once at a time.

Each account is refreshed by its own provider's `Accounts.refresh`. Fitbit refresh tokens are
single use, so two processes refreshing the same token at once would lose the account (the
loser's token is spent). A per-account Redis lock serialises refreshes across processes; inside
it the row is read again, and a token another process has just refreshed is used as it is.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

from redis.asyncio import Redis
from redis.exceptions import LockError
from sqlalchemy import ColumnElement, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from service import metrics
from service.connect import events
from service.connect.cipher import TokenCipher
from service.errors import ServiceError
from service.providers import errors
from service.providers.base import TokenGrant
from service.store.models import ProviderAccount, User, UserStatus

log = logging.getLogger(__name__)

REFRESH_MARGIN = dt.timedelta(minutes=5)
LOCK_TIMEOUT = 30.0
CONFLICT_RETRIES = 4


class ReauthRequired(ServiceError):
    """The account has no usable refresh token: the person must connect again."""


class Refresher(Protocol):
    async def refresh(self, refresh_token: str) -> TokenGrant: ...


@dataclass(frozen=True, slots=True)
class Vault:
    sessions: async_sessionmaker[AsyncSession]
    redis: Redis
    cipher: TokenCipher
    refreshers: Mapping[str, Refresher]  # by provider name, the account's `provider`

    async def access_token(self, account_id: int) -> str:
        """A token valid for at least `REFRESH_MARGIN`, refreshing it when needed."""
        account = await self._load(account_id)
        if account.access_token and not _expiring(account):
            return self.cipher.decrypt(account.access_token)
        return await self.refresh(account_id)

    async def refresh(self, account_id: int, failed_token: str | None = None) -> str:
        """Refresh under the account's lock; `failed_token` is one the provider just refused."""
        lock = self.redis.lock(
            f"fitbit_subscriber:refresh:{account_id}",
            timeout=LOCK_TIMEOUT,
            blocking_timeout=LOCK_TIMEOUT + 5,
        )
        try:
            async with lock:
                return await self._refresh_locked(account_id, failed_token)
        except LockError:
            raise errors.ProviderUnavailable("token refresh lock not acquired in time") from None

    async def store_grant(self, session: AsyncSession, account_id: int, grant: TokenGrant) -> None:
        """Store a grant's tokens, merging: a grant without a refresh token keeps the stored
        one (Google does not rotate them), never overwriting it with nothing."""
        expires_at = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=grant.expires_in)
        values = {
            "access_token": self.cipher.encrypt(grant.access_token),
            "access_expires_at": expires_at,
            "scopes": sorted(grant.scopes),
        }
        if grant.refresh_token:
            values["refresh_token"] = self.cipher.encrypt(grant.refresh_token)
        await session.execute(
            update(ProviderAccount).where(ProviderAccount.id == account_id).values(values)
        )

    async def _refresh_locked(self, account_id: int, failed_token: str | None) -> str:
        for attempt in range(CONFLICT_RETRIES):
            account = await self._load(account_id)
            current = self.cipher.decrypt(account.access_token) if account.access_token else None
            if current and current != failed_token and not _expiring(account):
                return current  # another process refreshed while we waited for the lock
            if not account.refresh_token:
                raise ReauthRequired(f"account {account_id} has no refresh token")
            try:
                refresh_token = self.cipher.decrypt(account.refresh_token)
                grant = await self._refresh_grant(account.provider, refresh_token)
            except errors.RefreshConflict:
                await asyncio.sleep(0.25 * (attempt + 1))
                continue
            except errors.InvalidGrant:
                await self._require_reauth(account)
                raise ReauthRequired(f"account {account_id}: refresh token refused") from None
            async with self.sessions.begin() as session:
                await self.store_grant(session, account_id, grant)
            return grant.access_token
        raise errors.ProviderUnavailable("token refresh kept conflicting")

    async def _refresh_grant(self, provider: str, refresh_token: str) -> TokenGrant:
        """One refresh call, its outcome counted for `/metrics`."""
        refresher = self._refresher(provider)
        try:
            grant = await refresher.refresh(refresh_token)
        except errors.ProviderError as exc:
            metrics.token_refreshed(provider, _OUTCOMES.get(type(exc), "error"))
            raise
        metrics.token_refreshed(provider, "ok")
        return grant

    def _refresher(self, provider: str) -> Refresher:
        try:
            return self.refreshers[provider]
        except KeyError:
            raise errors.UnknownProvider(f"provider {provider!r} is not enabled here") from None

    async def _load(self, account_id: int) -> ProviderAccount:
        async with self.sessions() as session:
            account = await session.get(ProviderAccount, account_id)
        if account is None:
            raise ReauthRequired(f"account {account_id} does not exist")
        return account

    async def _require_reauth(self, account: ProviderAccount) -> None:
        async with self.sessions.begin() as session:
            await forget_tokens(session, ProviderAccount.id == account.id)
            await session.execute(
                update(User)
                .where(User.id == account.user_id, User.status == UserStatus.ACTIVE)
                .values(status=UserStatus.REAUTH_REQUIRED)
            )
            events.record(
                session,
                account.user_id,
                account.provider,
                "reauth_required",
                "the provider refused the refresh token",
            )
        log.warning("account %s needs re-authorisation", account.id)


_OUTCOMES: dict[type[errors.ProviderError], str] = {
    errors.InvalidGrant: "invalid_grant",
    errors.RefreshConflict: "conflict",
    errors.ProviderUnavailable: "unavailable",
}


def _expiring(account: ProviderAccount) -> bool:
    expires = account.access_expires_at
    return expires is None or expires - REFRESH_MARGIN <= dt.datetime.now(dt.UTC)


async def forget_tokens(session: AsyncSession, accounts: ColumnElement[bool]) -> None:
    """Drop the tokens of the accounts the condition selects: nothing is fetched for them, nor
    revoked, until the person connects again."""
    await session.execute(
        update(ProviderAccount)
        .where(accounts)
        .values(access_token=None, refresh_token=None, access_expires_at=None)
    )
