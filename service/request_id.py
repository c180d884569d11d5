"""Request ids: take the caller's `X-Request-ID` (or make one), log with it, send it back.

A plain ASGI middleware rather than Starlette's `BaseHTTPMiddleware`: it wraps the whole app,
the webhook's fast path included, and costs a header scan and a context variable per request.
"""

from __future__ import annotations

import re
import uuid

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service import logs

HEADER = b"x-request-id"
# A caller's id is logged and echoed, so only a short, plain one is taken.
_ACCEPTED = re.compile(rb"[A-Za-z0-9._:@/+=-]{1,128}")


class RequestId:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = _given(scope) or uuid.uuid4().hex
        header = (HEADER, request_id.encode())

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), header]
            await send(message)

        with logs.bound(request_id=request_id):
            await self.app(scope, receive, send_with_id)


def _given(scope: Scope) -> str | None:
    for name, value in scope["headers"]:
        if name == HEADER and _ACCEPTED.fullmatch(value):
            return str(value.decode())
    return None
