"""The FastAPI application factory. The lifespan owns every connection the app uses."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from service import health, metrics, queue
from service.api import router as api
from service.connect import callback
from service.connect.flow import Connector
from service.connect.runtime import PROVIDER_TIMEOUT
from service.providers import registry
from service.request_id import RequestId
from service.settings import Settings, get_settings
from service.state import AppState
from service.store.db import create_engine, session_factory
from service.webhook import routes as webhook
from service.webhook.ingest import Ingest
from service.webhook.routes import Endpoint

log = logging.getLogger(__name__)


def required(settings: Settings) -> tuple[str, ...]:
    """What serving needs: ours, and each enabled provider's credentials and endpoints."""
    return ("database_url", *registry.required(settings, front_door=True), "token_encryption_keys")


class ServiceApp(FastAPI):
    """FastAPI, plus a fast path for the provider webhooks.

    A webhook POST is answered by its plain Starlette endpoint directly, past FastAPI's
    middleware stack, routing and dependency solving: that machinery cost more than the
    webhook's own work, and the webhook is the one route whose throughput matters (a storm of
    notifications must be acknowledged within the provider's deadline). Each enabled provider's
    `{prefix}/webhook` is one. The same endpoints are also
    ordinary routes, so they are documented in the OpenAPI schema.
    """

    fast_paths: dict[tuple[str, str], Endpoint]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            endpoint = self.fast_paths.get((scope["method"], scope["path"]))
            if endpoint is not None:
                response = await _guarded(endpoint, Request(scope, receive))
                await response(scope, receive, send)
                return
        await super().__call__(scope, receive, send)


async def _guarded(endpoint: Endpoint, request: Request) -> Response:
    try:
        return await endpoint(request)
    except Exception:  # the fast path has no ServerErrorMiddleware to do this
        log.exception("unhandled error on %s", request.url.path)
        return JSONResponse({"error": {"code": "internal_error"}}, status_code=500)


def create_app(settings: Settings) -> FastAPI:
    settings.require(*required(settings))
    providers = registry.enabled(settings)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[AppState]:
        engine = create_engine(settings)
        sessions = session_factory(engine)
        redis = queue.connect(settings.redis_url)
        ingest = Ingest(
            engine,
            redis,
            timeout=settings.ingest_timeout_seconds,
            debounce=settings.sync_debounce_seconds,
        )
        http = httpx.AsyncClient(timeout=PROVIDER_TIMEOUT)
        connector = Connector.build(settings, sessions, redis, http)
        try:
            yield AppState(
                settings=settings,
                engine=engine,
                sessions=sessions,
                redis=redis,
                ingest=ingest,
                connector=connector,
                providers=connector.providers,
            )
        finally:
            await ingest.close()
            await http.aclose()
            await redis.aclose(close_connection_pool=True)
            await engine.dispose()

    app = ServiceApp(title="fitbit-subscriber", version="0.1.0", lifespan=lifespan)
    app.fast_paths = {("POST", webhook.path(d)): webhook.receiver(d) for d in providers}
    app.include_router(health.router)
    app.include_router(metrics.router)
    for descriptor in providers:
        app.include_router(webhook.router(descriptor))
        app.include_router(callback.router(descriptor))
    api.install(app)
    return app


def create_app_from_env() -> ASGIApp:
    """Entry point for `uvicorn --factory` and the `serve` command.

    The request id wraps the whole app so the webhook's fast path carries one too.
    """
    return RequestId(create_app(get_settings()))
