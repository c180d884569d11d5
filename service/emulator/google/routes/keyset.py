"""The public keyset notifications are signed under, in Tink JSON (served at the configured
keyset path, like `https://www.gstatic.com/googlehealthapi/webhooks/webhooks_public_keyset.json`).
The control API can make it fail or leave out the signing key, to test a verifier's refetch
and fallback."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from service.emulator.google.deps import get_google


def router(path: str) -> APIRouter:
    routes = APIRouter(tags=["Google Health API"])

    @routes.get(path)
    async def keyset(request: Request) -> Response:
        google = get_google(request)
        google.counters.keyset_fetches += 1
        keys = google.keys
        if keys.mode == "fail":
            return Response("keyset unavailable (emulated fault)", status_code=keys.fail_status)
        headers = {"Cache-Control": "public, max-age=86400"}
        return JSONResponse(keys.published(), headers=headers)

    return routes
