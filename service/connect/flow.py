"""The connection lifecycle: begin (consent URL), complete (callback), subscribe, disconnect.

Use-case functions over the vault, the provider's OAuth and subscription APIs, and the store.
The callback commits what it stored before it subscribes: a person whose tokens we hold is
connected even when a subscription call fails, and the reconciler repairs the subscriptions.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

import httpx
from redis.asyncio import Redis
from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from service.connect import events, onboarding
from service.connect.cipher import TokenCipher
from service.connect.vault import Vault
from service.errors import ServiceError
from service.providers import errors
from service.providers.errors import SubscriptionConflict
from service.providers.fitbit import PROVIDER, oauth
from service.providers.fitbit.client import FitbitClient
from service.providers.fitbit.subscriptions import SubscriptionApi, subscription_id
from service.settings import Settings
from service.store import data
from service.store.models import ProviderAccount, Subscription, User, UserStatus

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Connected:
    user_id: int
    user_ref: str
    outcome: onboarding.Outcome
    scopes: frozenset[str]
    subscriptions: dict[str, str]


@dataclass(frozen=True, slots=True)
class Consent:
    """A pending connection: where to send the person, and until when the link works."""

    url: str
    state_hash: str
    scopes: list[str]
    expires_at: dt.datetime


@dataclass(frozen=True, slots=True)
class Connector:
    """Everything the connection lifecycle needs, built once per process."""

    settings: Settings
    sessions: async_sessionmaker[AsyncSession]
    cipher: TokenCipher
    oauth: oauth.OAuthClient
    subscriptions: SubscriptionApi
    vault: Vault

    @classmethod
    def build(
        cls,
        settings: Settings,
        sessions: async_sessionmaker[AsyncSession],
        redis: Redis,
        http: httpx.AsyncClient,
    ) -> Connector:
        cipher = TokenCipher.from_setting(settings.secret("token_encryption_keys"))
        client = oauth.OAuthClient(
            http,
            settings.fitbit_api_url,
            settings.secret("fitbit_client_id"),
            settings.secret("fitbit_client_secret"),
        )
        api = SubscriptionApi(
            FitbitClient(http, settings.fitbit_api_url), settings.fitbit_subscriber_id
        )
        vault = Vault(sessions, redis, cipher, client)
        return cls(settings, sessions, cipher, client, api, vault)

    async def begin(self, user_ref: str, scopes: list[str] | None) -> str:
        """Record a pending connection; return the consent URL to send the person to."""
        return (await self.ask(user_ref, scopes)).url

    async def ask(self, user_ref: str, scopes: list[str] | None) -> Consent:
        """Record a pending connection (`scopes` None: the configured ones); say where to go."""
        wanted = scopes or self.settings.fitbit_scopes.split()
        verifier = oauth.code_verifier()
        async with self.sessions.begin() as session:
            issued = await onboarding.start(
                session,
                self.cipher,
                provider=PROVIDER,
                user_ref=user_ref,
                scopes=wanted,
                code_verifier=verifier,
            )
        url = oauth.authorization_url(
            self.settings.fitbit_authorize_url,
            client_id=self.settings.secret("fitbit_client_id"),
            redirect_uri=self.settings.secret("fitbit_redirect_uri"),
            scopes=wanted,
            state=issued.state,
            challenge=oauth.code_challenge(verifier),
        )
        return Consent(url, issued.state_hash, wanted, issued.expires_at)

    async def deny(self, state: str, error: str) -> str:
        """The person said no (or the provider failed): consume the state, record it."""
        async with self.sessions.begin() as session:
            pending = await onboarding.take_state(session, self.cipher, state)
            events.record(
                session, None, pending.provider, "consent_denied", error, user_ref=pending.user_ref
            )
        return pending.user_ref

    async def complete(self, state: str, code: str) -> Connected:
        """Exchange the code, store user and tokens, then subscribe what was granted."""
        async with self.sessions.begin() as session:
            pending = await onboarding.take_state(session, self.cipher, state)
        grant = await self.oauth.exchange_code(
            code, self.settings.secret("fitbit_redirect_uri"), pending.code_verifier
        )
        async with self.sessions.begin() as session:
            linked = await onboarding.link(session, pending, grant)
            await self.vault.store_grant(session, linked.account.id, grant)
            await self._remember_profile(session, linked.user, grant.access_token, grant.scopes)
            events.record(
                session,
                linked.user.id,
                PROVIDER,
                linked.outcome.value,
                " ".join(sorted(grant.scopes)),
            )
        outcomes = await self.subscribe_granted(linked.account.id)
        return Connected(linked.user.id, pending.user_ref, linked.outcome, grant.scopes, outcomes)

    async def _remember_profile(
        self, session: AsyncSession, user: User, token: str, scopes: frozenset[str]
    ) -> None:
        if "profile" not in scopes:
            return  # never break on a scope the person did not grant
        try:
            profile = await self.subscriptions.profile(token)
        except errors.ProviderError as exc:
            log.warning("profile not read for user %s: %s", user.id, type(exc).__name__)
            return
        user.timezone, user.utc_offset_ms = profile.timezone, profile.utc_offset_ms

    async def subscribe_granted(self, account_id: int) -> dict[str, str]:
        """Subscribe every collection whose scope was granted; report each outcome."""
        account = await self._account(account_id)
        outcomes = {}
        for collection in granted_collections(account.scopes):
            outcomes[collection] = await self.subscribe(account, collection)
        return outcomes

    async def subscribe(self, account: ProviderAccount, collection: str) -> str:
        sub_id = subscription_id(account.user_id, collection)
        token = await self.vault.access_token(account.id)
        try:
            result = await self.subscriptions.subscribe(token, collection, sub_id)
        except SubscriptionConflict:
            return "conflict"
        async with self.sessions.begin() as session:
            await _remember_subscription(session, account.id, collection, sub_id)
        return result.value

    async def unsubscribe(self, account: ProviderAccount, collection: str) -> bool:
        sub_id = subscription_id(account.user_id, collection)
        token = await self.vault.access_token(account.id)
        removed = await self.subscriptions.unsubscribe(token, collection, sub_id)
        async with self.sessions.begin() as session:
            await session.execute(
                delete(Subscription).where(
                    Subscription.account_id == account.id, Subscription.collection == collection
                )
            )
        return removed

    async def disconnect(self, user_id: int) -> None:
        """Remove subscriptions at the provider, revoke the token, forget the tokens."""
        async with self.sessions() as session:
            accounts = list(
                await session.scalars(
                    select(ProviderAccount).where(ProviderAccount.user_id == user_id)
                )
            )
        for account in accounts:
            await self._leave_provider(account)
        async with self.sessions.begin() as session:
            await forget(
                session,
                user_id,
                "disconnected",
                "disconnected through the API",
                purge=self.settings.purge_data_on_disconnect,
            )

    async def _leave_provider(self, account: ProviderAccount) -> None:
        if not account.refresh_token:
            return
        try:
            for collection in granted_collections(account.scopes):
                await self.unsubscribe(account, collection)
            await self.oauth.revoke(await self.vault.access_token(account.id))
        except ServiceError as exc:  # leaving must not fail on the provider's side
            log.warning(
                "account %s: provider clean-up incomplete: %s", account.id, type(exc).__name__
            )

    async def _account(self, account_id: int) -> ProviderAccount:
        async with self.sessions() as session:
            return await session.get_one(ProviderAccount, account_id)


def granted_collections(scopes: list[str]) -> list[str]:
    return [c for c, scope in oauth.COLLECTION_SCOPES.items() if scope in scopes]


async def _remember_subscription(
    session: AsyncSession, account_id: int, collection: str, sub_id: str
) -> None:
    from sqlalchemy.dialects.postgresql import insert

    await session.execute(
        insert(Subscription)
        .values(account_id=account_id, collection=collection, subscription_id=sub_id)
        .on_conflict_do_nothing()
    )


async def forget(
    session: AsyncSession, user_id: int, kind: str, detail: str, *, purge: bool = False
) -> None:
    """Drop tokens and subscriptions, mark the user disconnected, record why; with `purge`,
    also delete the person's health rows (`PURGE_DATA_ON_DISCONNECT`)."""
    accounts = select(ProviderAccount.id).where(ProviderAccount.user_id == user_id)
    await session.execute(delete(Subscription).where(Subscription.account_id.in_(accounts)))
    await session.execute(
        update(ProviderAccount)
        .where(ProviderAccount.user_id == user_id)
        .values(access_token=None, refresh_token=None, access_expires_at=None)
    )
    await session.execute(
        update(User).where(User.id == user_id).values(status=UserStatus.DISCONNECTED)
    )
    if purge:
        await data.purge_user(session, user_id)
    events.record(session, user_id, PROVIDER, kind, detail)
