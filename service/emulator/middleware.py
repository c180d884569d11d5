"""The edge of the Fitbit-facing API: counts every call per endpoint and per user, and adds
the rate-limit headers to every answer given to a user's token (errors included)."""

from __future__ import annotations

from collections.abc import Callable

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.emulator.deps import CALLER, RATE_HEADERS
from service.emulator.world import Emulator

CONTROL_PREFIX = "/_emulator"


class FitbitEdge:
    def __init__(
        self, app: ASGIApp, world: Emulator, others: Callable[[str], bool] = lambda _: False
    ) -> None:
        self.app = app
        self.world = world
        # Paths of the other providers the process serves, counted by their own edge.
        self.others = others

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or path.startswith(CONTROL_PREFIX) or self.others(path):
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                self._count(scope)
                state = scope.get("state", {})
                headers = MutableHeaders(scope=message)
                for name, value in state.get(RATE_HEADERS, {}).items():
                    headers[name] = value
            await send(message)

        await self.app(scope, receive, send_with_headers)

    def _count(self, scope: Scope) -> None:
        route = scope.get("route")
        path = getattr(route, "path", None) or "unmatched"
        user = scope.get("state", {}).get(CALLER)
        self.world.counters.call(f"{scope['method']} {path}", user)
