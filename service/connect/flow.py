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
from service.connect.vault import Vault, forget_tokens
from service.errors import ServiceError
from service.providers import errors
from service.providers.base import Provider, Subscriptions
from service.providers.registry import Providers
from service.settings import Settings
from service.store import data
from service.store.models import ProviderAccount, Subscription, User, UserStatus

log = logging.getLogger(__name__)

CONFLICT = "conflict"  # what `Connector.subscribe` answers when the provider refuses the id


class AutomaticSubscriptions(ServiceError):
    """The provider subscribes every consenting person itself: there is nothing to manage."""

    def __init__(self, provider: str) -> None:
        super().__init__(f"{provider} subscribes every consenting person itself")
        self.provider = provider


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
    provider: str


@dataclass(frozen=True, slots=True)
class Connector:
    """Everything the connection lifecycle needs, built once per process."""

    settings: Settings
    sessions: async_sessionmaker[AsyncSession]
    cipher: TokenCipher
    providers: Providers
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
        providers = Providers.build(settings, http)
        refreshers = {provider.name: provider.accounts for provider in providers}
        vault = Vault(sessions, redis, cipher, refreshers)
        return cls(settings, sessions, cipher, providers, vault)

    def provider(self, name: str) -> Provider:
        """An enabled provider by the name its rows carry; `UnknownProvider` otherwise."""
        return self.providers[name]

    async def begin(self, user_ref: str, scopes: list[str] | None) -> str:
        """Record a pending connection; return the consent URL to send the person to."""
        return (await self.ask(user_ref, scopes)).url

    async def ask(
        self, user_ref: str, scopes: list[str] | None, provider: str | None = None
    ) -> Consent:
        """Record a pending connection (`scopes` None: the configured ones; `provider` None:
        the first enabled one); say where to go."""
        chosen = self.provider(provider or self.providers.default)
        wanted = scopes or chosen.accounts.default_scopes()
        verifier = chosen.accounts.code_verifier()
        async with self.sessions.begin() as session:
            issued = await onboarding.start(
                session,
                self.cipher,
                provider=chosen.name,
                user_ref=user_ref,
                scopes=wanted,
                code_verifier=verifier,
            )
        url = chosen.accounts.consent_url(state=issued.state, scopes=wanted, code_verifier=verifier)
        return Consent(url, issued.state_hash, wanted, issued.expires_at, chosen.name)

    async def deny(self, state: str, error: str) -> str:
        """The person said no (or the provider failed): consume the state, record it."""
        async with self.sessions.begin() as session:
            pending = await onboarding.take_state(session, self.cipher, state)
            events.record(
                session, None, pending.provider, "consent_denied", error, user_ref=pending.user_ref
            )
        return pending.user_ref

    async def complete(self, state: str, code: str, provider: str | None = None) -> Connected:
        """Exchange the code, learn whose it is, store user and tokens, then subscribe what was
        granted. `provider`: the one whose callback this is; a state issued for another is
        refused."""
        async with self.sessions.begin() as session:
            pending = await onboarding.take_state(session, self.cipher, state)
        if provider is not None and pending.provider != provider:
            raise onboarding.InvalidState("the state was issued for another provider")
        chosen = self.provider(pending.provider)
        grant = await chosen.accounts.exchange_code(code, pending.code_verifier)
        identity = await chosen.accounts.identify(grant)
        async with self.sessions.begin() as session:
            linked = await onboarding.link(
                session, pending, identity, chosen.descriptor.legacy_provider
            )
            await self.vault.store_grant(session, linked.account.id, grant)
            if identity.profile is not None:
                profile = identity.profile
                linked.user.timezone, linked.user.utc_offset_ms = (
                    profile.timezone,
                    profile.utc_offset_ms,
                )
            events.record(
                session,
                linked.user.id,
                pending.provider,
                linked.outcome.value,
                " ".join(sorted(grant.scopes)),
            )
        if linked.legacy is not None:
            # Only now that the new tokens are stored: a failure before this point leaves
            # the person connected through the old provider.
            await self.retire(linked.legacy, f"migrated to {pending.provider}")
        outcomes = await self.subscribe_granted(linked.account.id)
        return Connected(linked.user.id, pending.user_ref, linked.outcome, grant.scopes, outcomes)

    async def retire(self, account: ProviderAccount, detail: str) -> None:
        """Leave one provider while the user stays connected through another: remove the
        subscriptions there, revoke the token, forget the tokens (the data stays)."""
        await self._leave_provider(account)
        async with self.sessions.begin() as session:
            await session.execute(delete(Subscription).where(Subscription.account_id == account.id))
            await forget_tokens(session, ProviderAccount.id == account.id)
            events.record(session, account.user_id, account.provider, "retired", detail)

    def granted(self, account: ProviderAccount) -> list[str]:
        """The collections whose scopes the account granted."""
        return self.provider(account.provider).descriptor.granted(account.scopes)

    def wanted(self, account: ProviderAccount) -> list[str]:
        """The granted collections that no one unsubscribed on purpose."""
        return [c for c in self.granted(account) if c not in account.unsubscribed]

    async def subscribe_granted(self, account_id: int) -> dict[str, str]:
        """Subscribe every collection whose scope was granted; report each outcome (nothing
        where the provider subscribes everyone itself)."""
        account = await self._account(account_id)
        if self.provider(account.provider).subscriptions is None:
            return {}
        outcomes = {}
        for collection in self.wanted(account):
            outcomes[collection] = await self.subscribe(account, collection)
        return outcomes

    async def subscribe(self, account: ProviderAccount, collection: str) -> str:
        subscriptions = self._subscriptions(account)
        sub_id = subscriptions.subscription_id(account.user_id, collection)
        token = await self.vault.access_token(account.id)
        try:
            result = await subscriptions.subscribe(token, collection, sub_id)
        except errors.SubscriptionConflict:
            return CONFLICT
        async with self.sessions.begin() as session:
            await _remember_subscription(session, account.id, collection, sub_id)
        return result.value

    async def unsubscribe(self, account: ProviderAccount, collection: str) -> bool:
        subscriptions = self._subscriptions(account)
        sub_id = subscriptions.subscription_id(account.user_id, collection)
        token = await self.vault.access_token(account.id)
        removed = await subscriptions.unsubscribe(token, collection, sub_id)
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
                    select(ProviderAccount)
                    .where(ProviderAccount.user_id == user_id)
                    .order_by(ProviderAccount.id)
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
                provider=accounts[-1].provider if accounts else self.providers.default,
                purge=self.settings.purge_data_on_disconnect,
            )

    async def _leave_provider(self, account: ProviderAccount) -> None:
        if not account.refresh_token:
            return
        try:
            provider = self.provider(account.provider)
            if provider.subscriptions is not None:
                for collection in self.granted(account):
                    await self.unsubscribe(account, collection)
            await provider.accounts.revoke(await self.vault.access_token(account.id))
        except ServiceError as exc:  # leaving must not fail on the provider's side
            log.warning(
                "account %s: provider clean-up incomplete: %s", account.id, type(exc).__name__
            )

    def _subscriptions(self, account: ProviderAccount) -> Subscriptions:
        subscriptions = self.provider(account.provider).subscriptions
        if subscriptions is None:
            raise AutomaticSubscriptions(account.provider)
        return subscriptions

    async def _account(self, account_id: int) -> ProviderAccount:
        async with self.sessions() as session:
            return await session.get_one(ProviderAccount, account_id)


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
    session: AsyncSession,
    user_id: int,
    kind: str,
    detail: str,
    *,
    provider: str,
    purge: bool = False,
) -> None:
    """Drop tokens and subscriptions, mark the user disconnected, record why; with `purge`,
    also delete the person's health rows (`PURGE_DATA_ON_DISCONNECT`)."""
    accounts = select(ProviderAccount.id).where(ProviderAccount.user_id == user_id)
    await session.execute(delete(Subscription).where(Subscription.account_id.in_(accounts)))
    await forget_tokens(session, ProviderAccount.user_id == user_id)
    await session.execute(
        update(User).where(User.id == user_id).values(status=UserStatus.DISCONNECTED)
    )
    if purge:
        await data.purge_user(session, user_id)
    events.record(session, user_id, provider, kind, detail)
