"""The emulator's ASGI app: Fitbit's OAuth endpoints and Web API, plus the control API."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.exception_handlers import (
    http_exception_handler,
    request_validation_exception_handler,
)
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException

from service.emulator.config import EmulatorConfig
from service.emulator.errors import FitbitError, error_body
from service.emulator.middleware import CONTROL_PREFIX, FitbitEdge
from service.emulator.routes import api, consent, control, control_users, subscriptions, token
from service.emulator.world import Emulator


def create_emulator_app(config: EmulatorConfig | None = None) -> FastAPI:
    """A fresh emulator; without a config, it reads one from the environment."""
    world = Emulator(config or EmulatorConfig.from_env(os.environ))

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        await world.pusher.aclose()

    app = FastAPI(
        title="Fitbit emulator",
        summary="A local Fitbit Web API for development, tests and benchmarks.",
        docs_url=f"{CONTROL_PREFIX}/docs",
        redoc_url=None,
        openapi_url=f"{CONTROL_PREFIX}/openapi.json",
        lifespan=lifespan,
    )
    app.state.emulator = world
    app.add_middleware(FitbitEdge, world=world)
    app.add_exception_handler(FitbitError, _fitbit_error)
    app.add_exception_handler(RequestValidationError, _invalid_request)
    app.add_exception_handler(HTTPException, _http_error)
    for module in (consent, token, subscriptions, api, control, control_users):
        app.include_router(module.router)
    return app


async def _fitbit_error(request: Request, exc: Exception) -> Response:
    if not isinstance(exc, FitbitError):
        raise exc
    return JSONResponse(exc.body(), status_code=exc.status, headers=exc.headers)


async def _invalid_request(request: Request, exc: Exception) -> Response:
    """Fitbit paths answer 400 in Fitbit's shape; the control API keeps FastAPI's 422."""
    if not isinstance(exc, RequestValidationError) or _is_control(request):
        return await request_validation_exception_handler(request, exc)  # type: ignore[arg-type]
    return JSONResponse(error_body("validation", "Invalid request.", "n/a"), status_code=400)


async def _http_error(request: Request, exc: Exception) -> Response:
    if not isinstance(exc, HTTPException) or _is_control(request):
        return await http_exception_handler(request, exc)  # type: ignore[arg-type]
    if exc.status_code == 404:
        message = "The API you are requesting could not be found."
        return JSONResponse(error_body("not_found", message, "n/a"), status_code=404)
    return JSONResponse(error_body("request", str(exc.detail)), status_code=exc.status_code)


def _is_control(request: Request) -> bool:
    return request.url.path.startswith(CONTROL_PREFIX)
