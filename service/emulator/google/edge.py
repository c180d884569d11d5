"""The edge of the Google-facing API: which paths are Google's, and the count of every call
per endpoint and per user (errors included)."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.emulator.google.deps import CALLER
from service.emulator.google.state import GoogleHealth

PREFIXES = ("/v4/", "/o/oauth2/", "/token", "/revoke")


def is_google_path(path: str, keyset_path: str) -> bool:
    return path == keyset_path or path.startswith(PREFIXES)


class GoogleEdge:
    def __init__(self, app: ASGIApp, google: GoogleHealth) -> None:
        self.app = app
        self.google = google

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not is_google_path(
            scope["path"], self.google.config.keyset_path
        ):
            await self.app(scope, receive, send)
            return

        async def counted(message: Message) -> None:
            if message["type"] == "http.response.start":
                route = scope.get("route")
                path = getattr(route, "path", None) or "unmatched"
                user = scope.get("state", {}).get(CALLER)
                self.google.counters.call(f"{scope['method']} {path}", user)
            await send(message)

        await self.app(scope, receive, counted)
