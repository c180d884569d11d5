"""Typed access to what the worker's startup puts in arq's `ctx`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from arq.connections import ArqRedis
from sqlalchemy.ext.asyncio import AsyncEngine

from service.settings import Settings


@dataclass(frozen=True, slots=True)
class WorkerDeps:
    settings: Settings
    engine: AsyncEngine
    redis: ArqRedis

    @classmethod
    def of(cls, ctx: dict[str, Any]) -> WorkerDeps:
        deps = ctx["deps"]
        if not isinstance(deps, cls):
            raise TypeError("worker context has no WorkerDeps; was on_startup run?")
        return deps
