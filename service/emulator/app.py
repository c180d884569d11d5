"""The emulator's ASGI app: Fitbit's OAuth endpoints and Web API, the Google Health API
(`service.emulator.google`), and the control API."""

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
from service.emulator.google import app as google_app
from service.emulator.google.config import GoogleConfig
from service.emulator.google.edge import is_google_path
from service.emulator.middleware import CONTROL_PREFIX, FitbitEdge
from service.emulator.routes import api, consent, control, control_users, subscriptions, token
from service.emulator.world import Emulator


def create_emulator_app(
    config: EmulatorConfig | None = None, google: GoogleConfig | None = None
) -> FastAPI:
    """A fresh emulator, Fitbit and Google Health side by side; without configs, it reads
    them from the environment."""
    world = Emulator(config or EmulatorConfig.from_env(os.environ))
    google_config = google or GoogleConfig.from_env(os.environ)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        await world.pusher.aclose()
        await health.pusher.aclose()

    app = FastAPI(
        title="Fitbit emulator",
        summary="A local Fitbit Web API for development, tests and benchmarks.",
        docs_url=f"{CONTROL_PREFIX}/docs",
        redoc_url=None,
        openapi_url=f"{CONTROL_PREFIX}/openapi.json",
        lifespan=lifespan,
    )
    app.state.emulator = world
    app.add_middleware(
        FitbitEdge,
        world=world,
        others=lambda path: is_google_path(path, google_config.keyset_path),
    )
    app.add_exception_handler(FitbitError, _fitbit_error)
    app.add_exception_handler(RequestValidationError, _invalid_request)
    app.add_exception_handler(HTTPException, _http_error)
    for module in (consent, token, subscriptions, api, control, control_users):
        app.include_router(module.router)
    health = google_app.mount(app, world, google_config)
    return app


async def _fitbit_error(request: Request, exc: Exception) -> Response:
    if not isinstance(exc, FitbitError):
        raise exc
    return JSONResponse(exc.body(), status_code=exc.status, headers=exc.headers)


async def _invalid_request(request: Request, exc: Exception) -> Response:
    """Fitbit paths answer 400 in Fitbit's shape; the control API keeps FastAPI's 422."""
    if not isinstance(exc, RequestValidationError) or _is_control(request):
        return await request_validation_exception_handler(request, exc)  # type: ignore[arg-type]
    if google_app.owns(request):
        return google_app.error_response(400, "Invalid request.")
    return JSONResponse(error_body("validation", "Invalid request.", "n/a"), status_code=400)


async def _http_error(request: Request, exc: Exception) -> Response:
    if not isinstance(exc, HTTPException) or _is_control(request):
        return await http_exception_handler(request, exc)  # type: ignore[arg-type]
    if google_app.owns(request):
        return google_app.error_response(exc.status_code, str(exc.detail))
    if exc.status_code == 404:
        message = "The API you are requesting could not be found."
        return JSONResponse(error_body("not_found", message, "n/a"), status_code=404)
    return JSONResponse(error_body("request", str(exc.detail)), status_code=exc.status_code)


def _is_control(request: Request) -> bool:
    return request.url.path.startswith(CONTROL_PREFIX)
