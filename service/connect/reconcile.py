"""Repairing drift between the subscriptions we expect and the ones a provider has, for
providers with per-user subscriptions (Fitbit's, described here).

Expected: one subscription per granted collection that no one unsubscribed through the API
(`ProviderAccount.unsubscribed`), with our deterministic id. Fitbit may have
lost one (we subscribe it again) or hold one we do not expect — an old id, or an all-collections
subscription that would duplicate every notification (we delete it). One list call covers every
collection, so a user with no drift costs a single call of their hourly budget.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from service.connect.flow import CONFLICT, Connector
from service.store.models import ProviderAccount, Subscription, User, UserStatus


@dataclass
class Drift:
    subscribed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)

    @property
    def repaired(self) -> bool:
        return bool(self.subscribed or self.removed)


async def reconcile_account(connector: Connector, account: ProviderAccount) -> Drift:
    """Repair one account's drift; nothing to do where the provider subscribes everyone."""
    subscriptions = connector.provider(account.provider).subscriptions
    if subscriptions is None:
        return Drift()
    token = await connector.vault.access_token(account.id)
    present = set(await subscriptions.list(token))
    wanted = connector.wanted(account)
    expected = {c: subscriptions.subscription_id(account.user_id, c) for c in wanted}
    drift = Drift()
    for collection, sub_id in sorted(present - set(expected.items())):
        await subscriptions.unsubscribe(token, collection, sub_id)
        drift.removed.append(f"{collection}:{sub_id}")
    for collection, _ in sorted(set(expected.items()) - present):
        if await connector.subscribe(account, collection) != CONFLICT:
            drift.subscribed.append(collection)
    async with connector.sessions.begin() as session:
        await _forget_unexpected(session, account.id, set(expected))
    return drift


async def _forget_unexpected(session: AsyncSession, account_id: int, expected: set[str]) -> None:
    await session.execute(
        delete(Subscription).where(
            Subscription.account_id == account_id, Subscription.collection.not_in(expected)
        )
    )


async def connected_accounts(connector: Connector, provider: str) -> list[ProviderAccount]:
    """Accounts whose tokens we hold and whose person is active."""
    async with connector.sessions() as session:
        found = await session.scalars(
            select(ProviderAccount)
            .join(User, User.id == ProviderAccount.user_id)
            .where(
                ProviderAccount.provider == provider,
                ProviderAccount.refresh_token.is_not(None),
                User.status == UserStatus.ACTIVE,
            )
            .order_by(ProviderAccount.id)
        )
        return list(found)
