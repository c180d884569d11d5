"""`/fitbit/webhook`: Fitbit's verification challenge and its collection-change pushes."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from service import metrics
from service.providers.base import InvalidNotification
from service.providers.fitbit import notifications, webhook
from service.state import SettingsDep, app_state
from service.webhook.body import BodyTooLarge, is_json, read_limited
from service.webhook.ingest import IngestUnavailable

log = logging.getLogger(__name__)

router = APIRouter(prefix="/fitbit", tags=["fitbit webhook"])


@router.get("/webhook", status_code=204, responses={404: {"description": "Wrong code"}})
async def verify(request: Request, settings: SettingsDep) -> Response:
    """Answer Fitbit's subscriber verification: 204 for the configured code, else 404."""
    codes = request.query_params.getlist(webhook.VERIFY_PARAMETER)
    if webhook.is_verified(codes, settings.secret("fitbit_verification_code")):
        return Response(status_code=204)
    log.info("fitbit verification refused", extra={"codes_given": len(codes)})
    return Response(status_code=404)


def _notification_body() -> dict[str, Any]:
    """The push as Fitbit sends it, for OpenAPI: the endpoint reads the raw bytes itself,
    because the signature covers them exactly as sent."""
    item = {
        "type": "object",
        "required": list(notifications.FIELDS),
        "properties": {field: {"type": "string"} for field in notifications.FIELDS},
    }
    signature = {
        "name": "X-Fitbit-Signature",
        "in": "header",
        "required": True,
        "description": "base64(HMAC-SHA1(body, client_secret + '&'))",
        "schema": {"type": "string"},
    }
    body = {"content": {"application/json": {"schema": {"type": "array", "items": item}}}}
    return {"parameters": [signature], "requestBody": {"required": True, **body}}


@router.post(
    "/webhook",
    status_code=204,
    openapi_extra=_notification_body(),
    responses={
        400: {"description": "Not a Fitbit notification"},
        404: {"description": "Missing or wrong signature"},
        413: {"description": "Body over the limit"},
        415: {"description": "Not JSON"},
        503: {"description": "Not recorded; deliver again"},
    },
)
async def receive_route(request: Request) -> Response:
    """Record a signed batch of collection changes durably, queue their syncs, answer 204."""
    return await receive(request)


async def receive(request: Request) -> Response:
    """The webhook POST itself, free of FastAPI so the app can serve it on its fast path."""
    state = app_state(request)
    settings = state["settings"]
    if not is_json(request.headers.get("content-type")):
        return _error(415, "unsupported_media_type", "Content-Type must be application/json")
    try:
        body = await read_limited(request, settings.max_body_bytes)
    except BodyTooLarge as exc:
        return _error(413, "body_too_large", str(exc))
    secret = settings.secret("fitbit_client_secret")
    problem = webhook.authenticate(request.headers, body, secret)
    if problem is not None:
        log.warning("fitbit notification refused: signature %s", problem.value)
        metrics.signature_failed("fitbit", problem.value)
        return Response(status_code=404)
    try:
        changes = notifications.parse(body)
    except InvalidNotification as exc:
        return _error(400, "invalid_notification", str(exc))
    try:
        await state["ingest"].record(changes)
    except IngestUnavailable as exc:
        return _error(503, "unavailable", str(exc), headers={"Retry-After": "5"})
    return Response(status_code=204)


def _error(
    status: int, code: str, detail: str, headers: dict[str, str] | None = None
) -> JSONResponse:
    metrics.push_refused("fitbit", status, code)
    return JSONResponse({"error": {"code": code, "detail": detail}}, status, headers=headers)
