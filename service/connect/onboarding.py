"""Onboarding: from a downstream `user_ref` to a connected account with tokens in the vault.

`start` binds an unguessable, single-use OAuth `state` (stored hashed, valid 10 minutes) to the
user_ref and the PKCE verifier; `take_state` consumes it exactly once; `link` applies the
re-connection rules the README documents.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass
from enum import Enum

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from service.connect import events
from service.connect.cipher import TokenCipher
from service.errors import ServiceError
from service.providers.base import Identity
from service.store.models import ConnectState, ProviderAccount, User, UserStatus

STATE_LIFETIME = dt.timedelta(minutes=10)


class InvalidState(ServiceError):
    """Unknown, expired or already used `state`."""


class LinkConflict(ServiceError):
    """The provider account or the user_ref already belongs to someone else."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


class Outcome(Enum):
    CONNECTED = "connected"
    RECONNECTED = "reconnected"
    MIGRATED = "migrated"  # a new account at the provider that succeeds the user's old one


@dataclass(frozen=True, slots=True)
class PendingConnection:
    provider: str
    user_ref: str
    code_verifier: str
    scopes: list[str]


@dataclass(frozen=True, slots=True)
class IssuedState:
    state: str  # goes into the authorization URL; only its hash is stored
    state_hash: str
    expires_at: dt.datetime


@dataclass(frozen=True, slots=True)
class Linked:
    user: User
    account: ProviderAccount
    outcome: Outcome
    legacy: ProviderAccount | None = None  # MIGRATED: the account it succeeds, still live


def _hash(state: str) -> str:
    return hashlib.sha256(state.encode()).hexdigest()


async def start(
    session: AsyncSession,
    cipher: TokenCipher,
    *,
    provider: str,
    user_ref: str,
    scopes: list[str],
    code_verifier: str,
) -> IssuedState:
    """Record a pending connection; return the `state` to put in the authorization URL."""
    state = secrets.token_urlsafe(32)
    issued = IssuedState(state, _hash(state), dt.datetime.now(dt.UTC) + STATE_LIFETIME)
    session.add(
        ConnectState(
            state_hash=issued.state_hash,
            provider=provider,
            user_ref=user_ref,
            code_verifier=cipher.encrypt(code_verifier),
            scopes=scopes,
            expires_at=issued.expires_at,
        )
    )
    return issued


async def take_state(session: AsyncSession, cipher: TokenCipher, state: str) -> PendingConnection:
    """Consume `state`: a second use, like an unknown or expired one, is refused."""
    row = await session.scalar(
        delete(ConnectState).where(ConnectState.state_hash == _hash(state)).returning(ConnectState)
    )
    if row is None:
        raise InvalidState("unknown or already used state")
    if row.expires_at <= dt.datetime.now(dt.UTC):
        raise InvalidState("state expired")
    return PendingConnection(
        row.provider, row.user_ref, cipher.decrypt(row.code_verifier), list(row.scopes)
    )


async def link(
    session: AsyncSession,
    pending: PendingConnection,
    identity: Identity,
    legacy_provider: str | None = None,
) -> Linked:
    """Find or create the user and account of a fresh grant's identity (the caller stores the
    tokens).

    - A new provider account whose identity names an account we hold at `legacy_provider`
      (Google's `legacyUserId`: the person's Fitbit account) joins that account's user, so
      the person keeps their user id and data; asked for under another user_ref, it is refused
      as a conflict.
    - Any other new provider account joins the user with this user_ref (created when new),
      unless that user already has another live account at this provider.
    - A known account under the same user_ref (or none) is reconnected.
    - A known account under another user_ref moves to the new user_ref only if its user is
      disconnected; otherwise the connection is refused as a conflict.
    """
    account = await session.scalar(
        select(ProviderAccount)
        .where(
            ProviderAccount.provider == pending.provider,
            ProviderAccount.external_id == identity.user_id,
        )
        .with_for_update()
    )
    if account is None:
        return await _link_new_account(session, pending, identity, legacy_provider)
    user = await session.get_one(User, account.user_id, with_for_update=True)
    if user.user_ref not in (None, pending.user_ref):
        await _take_over(session, user, pending)
    user.status = UserStatus.ACTIVE
    return Linked(user, account, Outcome.RECONNECTED)


async def _take_over(session: AsyncSession, user: User, pending: PendingConnection) -> None:
    if user.status is not UserStatus.DISCONNECTED:
        raise LinkConflict(
            "account_already_connected",
            "this provider account is connected to another user_ref; disconnect it first",
        )
    if await _user_by_ref(session, pending.user_ref) is not None:
        raise LinkConflict("user_ref_taken", "user_ref already belongs to another user")
    events.record(
        session,
        user.id,
        pending.provider,
        "user_ref_changed",
        f"from {user.user_ref} to {pending.user_ref}",
    )
    user.user_ref = pending.user_ref


async def _link_new_account(
    session: AsyncSession,
    pending: PendingConnection,
    identity: Identity,
    legacy_provider: str | None,
) -> Linked:
    user = await _user_by_ref(session, pending.user_ref)
    legacy = await _legacy_account(session, legacy_provider, identity.legacy_user_id)
    if legacy is not None:
        owner = await session.get_one(User, legacy.user_id, with_for_update=True)
        if owner.user_ref not in (None, pending.user_ref) or user not in (None, owner):
            raise LinkConflict(
                "legacy_account_of_another_user",
                f"this person's {legacy_provider} account belongs to another user_ref; "
                "connect them under that one",
            )
        user, owner.user_ref = owner, pending.user_ref
    if user is None:
        user = User(user_ref=pending.user_ref)
        session.add(user)
        await session.flush()
    elif await _has_live_account(session, user, pending.provider):
        raise LinkConflict(
            "user_ref_has_another_account",
            "this user_ref is connected to another account at this provider; disconnect it first",
        )
    user.status = UserStatus.ACTIVE
    account = ProviderAccount(
        user_id=user.id, provider=pending.provider, external_id=identity.user_id, scopes=[]
    )
    session.add(account)
    await session.flush()
    if legacy is not None:
        return Linked(user, account, Outcome.MIGRATED, legacy if legacy.refresh_token else None)
    return Linked(user, account, Outcome.CONNECTED)


async def _legacy_account(
    session: AsyncSession, provider: str | None, external_id: str | None
) -> ProviderAccount | None:
    if provider is None or external_id is None:
        return None
    return await session.scalar(
        select(ProviderAccount)
        .where(ProviderAccount.provider == provider, ProviderAccount.external_id == external_id)
        .with_for_update()
    )


async def _user_by_ref(session: AsyncSession, user_ref: str) -> User | None:
    return await session.scalar(select(User).where(User.user_ref == user_ref).with_for_update())


async def _has_live_account(session: AsyncSession, user: User, provider: str) -> bool:
    if user.status is UserStatus.DISCONNECTED:
        return False
    found = await session.scalar(
        select(ProviderAccount.id).where(
            ProviderAccount.user_id == user.id, ProviderAccount.provider == provider
        )
    )
    return found is not None
