"""What sync jobs need, built once per worker process and reached through arq's `ctx`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from service.connect.flow import Connector, forget
from service.connect.runtime import PROVIDER_TIMEOUT
from service.connect.vault import Vault
from service.providers import registry
from service.providers.base import Provider, SyncKey
from service.settings import Settings
from service.store import sync_state
from service.store.db import session_factory
from service.sync.budget import BudgetPolicy, RateBudget


def required(settings: Settings) -> tuple[str, ...]:
    """What a worker needs: ours, and the enabled providers' credentials."""
    return ("database_url", *registry.required(settings), "token_encryption_keys")


@dataclass(frozen=True, slots=True)
class SyncDeps:
    settings: Settings
    sessions: async_sessionmaker[AsyncSession]
    http: httpx.AsyncClient
    connector: Connector
    budget: RateBudget

    @classmethod
    def start(cls, settings: Settings, engine: AsyncEngine, redis: Redis) -> SyncDeps:
        sessions = session_factory(engine)
        http = httpx.AsyncClient(timeout=PROVIDER_TIMEOUT)
        connector = Connector.build(settings, sessions, redis, http)
        rules = {provider.name: provider.descriptor.rate_rules for provider in connector.providers}
        return cls(
            settings=settings,
            sessions=sessions,
            http=http,
            connector=connector,
            budget=RateBudget(redis, BudgetPolicy.from_settings(settings), rules=rules),
        )

    @classmethod
    def of(cls, ctx: dict[str, Any]) -> SyncDeps:
        deps = ctx["sync"]
        if not isinstance(deps, cls):
            raise TypeError("worker context has no SyncDeps; was on_startup run?")
        return deps

    @property
    def vault(self) -> Vault:
        return self.connector.vault

    def provider(self, name: str) -> Provider:
        return self.connector.provider(name)

    async def close(self) -> None:
        await self.http.aclose()

    async def account_event(self, key: SyncKey) -> str:
        """The person revoked us or deleted their account: their tokens are already dead, so
        forget them without calling the provider."""
        async with self.sessions.begin() as session:
            target = await sync_state.load(session, key)
            if target is None or target.up_to_date:
                return "up to date"
            if target.user_id is not None and target.user_status is not None:
                await forget(
                    session,
                    target.user_id,
                    key.collection,
                    "notified by the provider",
                    provider=key.provider,
                    purge=self.settings.purge_data_on_disconnect,
                )
            await sync_state.mark_synced(session, target.request_id, target.generation)
        return key.collection
