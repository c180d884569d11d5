"""Mount the Google Health mode on the emulator's app: its routes, its edge, its errors."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from service.emulator.google.config import GoogleConfig
from service.emulator.google.edge import GoogleEdge, is_google_path
from service.emulator.google.errors import STATUS_NAMES, GoogleError, OAuthError
from service.emulator.google.routes import api, control, keyset, oauth, projects
from service.emulator.google.state import GoogleHealth
from service.emulator.world import Emulator


def mount(app: FastAPI, fitbit: Emulator, config: GoogleConfig) -> GoogleHealth:
    google = GoogleHealth(config, fitbit)
    app.state.google = google
    fitbit.on_reset.append(google.reset)
    app.add_middleware(GoogleEdge, google=google)
    app.add_exception_handler(GoogleError, _google_error)
    app.add_exception_handler(OAuthError, _oauth_error)
    for module in (oauth, api, projects, control):
        app.include_router(module.router)
    app.include_router(keyset.router(config.keyset_path))
    return google


def owns(request: Request) -> bool:
    """Whether the request is the Google side's (its errors answer in Google's shape)."""
    google = getattr(request.app.state, "google", None)
    return isinstance(google, GoogleHealth) and is_google_path(
        request.url.path, google.config.keyset_path
    )


def error_response(status: int, message: str) -> Response:
    return JSONResponse(
        GoogleError(status, message, status=STATUS_NAMES.get(status)).body(), status_code=status
    )


async def _google_error(request: Request, exc: Exception) -> Response:
    if not isinstance(exc, GoogleError):
        raise exc
    return JSONResponse(exc.body(), status_code=exc.code, headers=exc.headers)


async def _oauth_error(request: Request, exc: Exception) -> Response:
    if not isinstance(exc, OAuthError):
        raise exc
    return JSONResponse(exc.body(), status_code=exc.status, headers={"Cache-Control": "no-store"})
