"""What the app lifespan owns, and typed dependencies to reach it from routes."""

from __future__ import annotations

from typing import Annotated, TypedDict, cast

from arq.connections import ArqRedis
from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from service.connect.flow import Connector
from service.providers.registry import Providers
from service.settings import Settings
from service.webhook.ingest import Ingest


class AppState(TypedDict):
    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    redis: ArqRedis
    ingest: Ingest
    connector: Connector
    providers: Providers  # the connector's, by name for the webhooks' fast path


def app_state(request: Request) -> AppState:
    """The lifespan's state as uvicorn hands it to each request."""
    return cast(AppState, request.state._state)


async def _settings(request: Request) -> Settings:
    return app_state(request)["settings"]


async def _engine(request: Request) -> AsyncEngine:
    return app_state(request)["engine"]


async def _redis(request: Request) -> ArqRedis:
    return app_state(request)["redis"]


async def _connector(request: Request) -> Connector:
    return app_state(request)["connector"]


async def _ingest(request: Request) -> Ingest:
    return app_state(request)["ingest"]


SettingsDep = Annotated[Settings, Depends(_settings)]
EngineDep = Annotated[AsyncEngine, Depends(_engine)]
RedisDep = Annotated[ArqRedis, Depends(_redis)]
IngestDep = Annotated[Ingest, Depends(_ingest)]
ConnectorDep = Annotated[Connector, Depends(_connector)]
