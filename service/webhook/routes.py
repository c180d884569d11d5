"""`{prefix}/webhook` for each enabled provider: its verification challenge and its pushes.

One provider-neutral route: the provider (`service.providers.base.Webhook`) answers its own
challenge, checks its own signature and parses its own payload; every push is recorded through
the same ingest. The POST is also served on the app's fast path (`ServiceApp.fast_paths`).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from service import metrics
from service.providers.base import Descriptor, InvalidNotification
from service.state import app_state
from service.webhook.body import BodyTooLarge, is_json, read_limited
from service.webhook.ingest import IngestUnavailable

log = logging.getLogger(__name__)

Endpoint = Callable[[Request], Awaitable[Response]]


def path(descriptor: Descriptor) -> str:
    return f"{descriptor.route_prefix}/webhook"


def receiver(descriptor: Descriptor) -> Endpoint:
    """The webhook POST itself, free of FastAPI so the app can serve it on its fast path."""
    name = descriptor.name

    async def receive(request: Request) -> Response:
        state = app_state(request)
        hook = state["providers"][name].webhook
        if not is_json(request.headers.get("content-type")):
            return _error(
                name, 415, "unsupported_media_type", "Content-Type must be application/json"
            )
        try:
            body = await read_limited(request, state["settings"].max_body_bytes)
        except BodyTooLarge as exc:
            return _error(name, 413, "body_too_large", str(exc))
        challenged = hook.verify_post(request.headers, body)
        if challenged is not None:
            return Response(status_code=challenged)
        problem = await hook.authenticate(request.headers, body)
        if problem is not None:
            log.warning("%s notification refused: signature %s", name, problem)
            metrics.signature_failed(name, problem)
            return Response(status_code=descriptor.refused_status)
        try:
            changes = hook.parse(body)
        except InvalidNotification as exc:
            return _error(name, 400, "invalid_notification", str(exc))
        try:
            await state["ingest"].record(changes)
        except IngestUnavailable as exc:
            return _error(name, 503, "unavailable", str(exc), headers={"Retry-After": "5"})
        return Response(status_code=204)

    return receive


def router(descriptor: Descriptor) -> APIRouter:
    """The provider's webhook routes, as documented in the OpenAPI schema."""
    name, title = descriptor.name, descriptor.title
    routes = APIRouter(prefix=descriptor.route_prefix, tags=[f"{name} webhook"])
    receive = receiver(descriptor)

    if descriptor.verify_by_get:

        @routes.get("/webhook", status_code=204, responses={404: {"description": "Wrong code"}})
        async def verify(request: Request) -> Response:
            """Answer the subscriber verification: 204 for the configured code, else 404."""
            hook = app_state(request)["providers"][name].webhook
            return Response(status_code=hook.verify_query(request.query_params.multi_items()))

    @routes.post(
        "/webhook",
        status_code=204,
        openapi_extra=dict(descriptor.webhook_openapi),
        responses={
            400: {"description": f"Not a {title} notification"},
            descriptor.refused_status: {"description": "Missing or wrong signature"},
            413: {"description": "Body over the limit"},
            415: {"description": "Not JSON"},
            503: {"description": "Not recorded; deliver again"},
        },
    )
    async def receive_route(request: Request) -> Response:
        """Record a signed batch of changes durably, queue their syncs, answer 204."""
        return await receive(request)

    return routes


def _error(
    provider: str, status: int, code: str, detail: str, headers: dict[str, str] | None = None
) -> JSONResponse:
    metrics.push_refused(provider, status, code)
    return JSONResponse({"error": {"code": code, "detail": detail}}, status, headers=headers)
