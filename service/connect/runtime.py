"""A Connector with its own connections, for commands and workers (the API builds its own)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from redis.asyncio import Redis

from service.connect.flow import Connector
from service.settings import Settings
from service.store.db import create_engine, session_factory

# Fitbit answers in well under a second; past this a call is treated as a transient failure.
PROVIDER_TIMEOUT = httpx.Timeout(10.0, connect=5.0)


@asynccontextmanager
async def open_connector(settings: Settings) -> AsyncIterator[Connector]:
    engine = create_engine(settings, pool_size=4)
    redis = Redis.from_url(settings.redis_url, socket_connect_timeout=2)
    try:
        async with httpx.AsyncClient(timeout=PROVIDER_TIMEOUT) as http:
            yield Connector.build(settings, session_factory(engine), redis, http)
    finally:
        await redis.aclose()
        await engine.dispose()
