"""Liveness and readiness probes."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from redis.exceptions import RedisError
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from service.state import EngineDep, RedisDep

router = APIRouter(tags=["health"])

PROBE_TIMEOUT = 2.0


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """The process is alive and serving."""
    return {"status": "ok"}


@router.get("/readyz", responses={503: {"description": "A dependency is unreachable"}})
async def readyz(engine: EngineDep, redis: RedisDep) -> JSONResponse:
    """PostgreSQL and Redis both answer; otherwise 503 naming the one that does not."""
    checks = {"postgresql": await _database_ok(engine), "redis": await _redis_ok(redis)}
    status = 200 if all(checks.values()) else 503
    return JSONResponse({k: "ok" if v else "unreachable" for k, v in checks.items()}, status)


async def _database_ok(engine: EngineDep) -> bool:
    try:
        async with asyncio.timeout(PROBE_TIMEOUT), engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
    except (SQLAlchemyError, OSError, TimeoutError):
        return False
    return True


async def _redis_ok(redis: RedisDep) -> bool:
    try:
        async with asyncio.timeout(PROBE_TIMEOUT):
            return bool(await redis.ping())
    except (RedisError, OSError, TimeoutError):
        return False
