"""Managing a connected person on a downstream service's request: their provider
subscriptions, and disconnecting them.

Use cases over the `Connector`. What stands in the way is raised as a `ManagementError` the
caller maps to an answer; the provider's own failures stay `ProviderError`s, and an account
whose refresh token the provider refused raises the vault's `ReauthRequired`.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, delete, func, select, update

from service.connect.flow import CONFLICT, Connector
from service.errors import ServiceError
from service.store.models import ProviderAccount, Subscription, User, UserStatus

__all__ = ["CONFLICT"]


class ManagementError(ServiceError):
    """The request cannot be carried out as the person's connection stands."""


class UnknownUser(ManagementError):
    def __init__(self, user_id: int) -> None:
        super().__init__(f"there is no user with id {user_id}")


class NotConnected(ManagementError):
    """The person has no live connection: disconnected, or the provider wants a new consent."""

    def __init__(self, user_id: int, status: UserStatus) -> None:
        action = "disconnected" if status is UserStatus.DISCONNECTED else "must connect again"
        super().__init__(f"user {user_id} is {status.value}: {action}; connect them first")
        self.status = status


class ScopeNotGranted(ManagementError):
    def __init__(self, collection: str, scope: str) -> None:
        super().__init__(
            f"the person did not grant the scope {scope!r} that the collection {collection!r} "
            "needs; connect them again asking for it"
        )
        self.collection, self.scope = collection, scope


class SubscriptionTaken(ManagementError):
    """Fitbit's 409: another subscription id covers this stream, or ours names another one."""

    def __init__(self, collection: str, sub_id: str) -> None:
        super().__init__(
            f"Fitbit refused subscription {sub_id!r} for {collection!r}: another subscription "
            "already covers this person's collection there, or the id is used for another one"
        )
        self.collection, self.subscription_id = collection, sub_id


class NotAtProvider(ManagementError):
    """The collection is not one of the person's provider."""

    def __init__(self, collection: str, provider: str) -> None:
        super().__init__(f"{provider} has no collection {collection!r}")
        self.collection, self.provider = collection, provider


async def live_account(connector: Connector, user_id: int) -> ProviderAccount:
    """The person's provider account, if they are connected and we hold its tokens (the
    newest one holding tokens, when they have several)."""
    async with connector.sessions() as session:
        user = await session.get(User, user_id)
        if user is None:
            raise UnknownUser(user_id)
        account = await session.scalar(
            select(ProviderAccount)
            .where(ProviderAccount.user_id == user_id)
            .order_by(ProviderAccount.refresh_token.is_(None), ProviderAccount.id.desc())
            .limit(1)
        )
    if user.status is not UserStatus.ACTIVE:
        raise NotConnected(user_id, user.status)
    if account is None or not account.refresh_token:
        raise NotConnected(user_id, UserStatus.REAUTH_REQUIRED)
    return account


async def subscribe(connector: Connector, user_id: int, collection: str) -> str:
    """Subscribe one collection; `created` or `already_subscribed` (both leave it subscribed)."""
    account = await live_account(connector, user_id)
    scope = _scope(connector, account, collection)
    if scope not in account.scopes:
        raise ScopeNotGranted(collection, scope)
    await _want(connector, account, [collection])
    return await _subscribe(connector, account, collection)


async def subscribe_granted(connector: Connector, user_id: int) -> dict[str, str]:
    """Subscribe every collection whose scope was granted; each one's outcome, `conflict`
    where Fitbit refused (the others are subscribed all the same)."""
    account = await live_account(connector, user_id)
    await _want(connector, account, connector.granted(account))
    outcomes = {}
    for collection in connector.granted(account):
        try:
            outcomes[collection] = await _subscribe(connector, account, collection)
        except SubscriptionTaken:
            outcomes[collection] = CONFLICT
    return outcomes


async def unsubscribe(connector: Connector, user_id: int, collection: str) -> bool:
    """Remove one collection's subscription; False when there was none at Fitbit.

    Without the collection's scope there can be none of ours at Fitbit (nor may we ask), so
    only our own record of one is dropped.
    """
    account = await live_account(connector, user_id)
    scope = _scope(connector, account, collection)  # refuses a collection the provider lacks
    await _unwant(connector, account, collection)
    if scope in account.scopes:
        return await connector.unsubscribe(account, collection)
    async with connector.sessions.begin() as session:
        await session.execute(
            delete(Subscription).where(
                Subscription.account_id == account.id, Subscription.collection == collection
            )
        )
    return False


async def disconnect(connector: Connector, user_id: int) -> bool:
    """Disconnect the person (see `Connector.disconnect`); False if they already were."""
    async with connector.sessions() as session:
        user = await session.get(User, user_id)
    if user is None:
        raise UnknownUser(user_id)
    if user.status is UserStatus.DISCONNECTED:
        return False
    await connector.disconnect(user_id)
    return True


async def _want(connector: Connector, account: ProviderAccount, collections: list[str]) -> None:
    """Asked for again through the API: no longer left out by reconcile and reconnects."""
    left_out: ColumnElement[list[str]] = ProviderAccount.unsubscribed.expression
    for collection in collections:
        left_out = func.array_remove(left_out, collection)
    await _leave_out(connector, account, left_out)


async def _unwant(connector: Connector, account: ProviderAccount, collection: str) -> None:
    left_out = func.array_remove(ProviderAccount.unsubscribed, collection)
    await _leave_out(connector, account, func.array_append(left_out, collection))


async def _leave_out(
    connector: Connector, account: ProviderAccount, value: ColumnElement[list[str]]
) -> None:
    """Set the collections left out in one statement, so concurrent requests compose."""
    async with connector.sessions.begin() as session:
        account.unsubscribed = list(
            await session.scalar(
                update(ProviderAccount)
                .where(ProviderAccount.id == account.id)
                .values(unsubscribed=value)
                .returning(ProviderAccount.unsubscribed)
            )
            or []
        )


async def _subscribe(connector: Connector, account: ProviderAccount, collection: str) -> str:
    outcome = await connector.subscribe(account, collection)
    if outcome == CONFLICT:
        subscriptions = connector.provider(account.provider).subscriptions
        sub_id = subscriptions.subscription_id(account.user_id, collection) if subscriptions else ""
        raise SubscriptionTaken(collection, sub_id)
    return outcome


def _scope(connector: Connector, account: ProviderAccount, collection: str) -> str:
    scope = connector.provider(account.provider).descriptor.collections.get(collection)
    if scope is None:
        raise NotAtProvider(collection, account.provider)
    return scope
