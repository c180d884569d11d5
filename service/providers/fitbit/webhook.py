"""Fitbit's side of the subscriber endpoint: the verification challenge and signed pushes.

Fitbit verifies a subscriber with `GET ?verify=<code>` twice, expecting 204 for the right code
and 404 for a wrong one. Pushes carry `X-Fitbit-Signature`; an unsigned or mis-signed push is
answered 404, as Fitbit documents.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from service.providers.base import ReceivedChange
from service.providers.fitbit import notifications, signature

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "x-fitbit-signature"
VERIFY_PARAMETER = "verify"


def is_verified(codes: Sequence[str], expected: str) -> bool:
    """True only for exactly one, non-empty, matching code (compared in constant time)."""
    if len(codes) != 1 or not codes[0] or not expected:
        return False
    return hmac.compare_digest(codes[0].encode(), expected.encode())


def authenticate(
    headers: Mapping[str, str], body: bytes, client_secret: str
) -> signature.SignatureProblem | None:
    return signature.check(body, headers.get(SIGNATURE_HEADER), client_secret)


def _openapi() -> dict[str, Any]:
    """The push as Fitbit sends it, for OpenAPI: the endpoint reads the raw bytes itself,
    because the signature covers them exactly as sent."""
    item = {
        "type": "object",
        "required": list(notifications.FIELDS),
        "properties": {field: {"type": "string"} for field in notifications.FIELDS},
    }
    header = {
        "name": "X-Fitbit-Signature",
        "in": "header",
        "required": True,
        "description": "base64(HMAC-SHA1(body, client_secret + '&'))",
        "schema": {"type": "string"},
    }
    body = {"content": {"application/json": {"schema": {"type": "array", "items": item}}}}
    return {"parameters": [header], "requestBody": {"required": True, **body}}


OPENAPI = _openapi()


@dataclass(frozen=True, slots=True)
class FitbitWebhook:
    """Fitbit's subscriber endpoint (`service.providers.base.Webhook`)."""

    client_secret: str
    verification_code: str  # empty where it is not configured (a worker): every code is wrong

    def verify_query(self, query: Sequence[tuple[str, str]]) -> int:
        codes = [value for name, value in query if name == VERIFY_PARAMETER]
        if is_verified(codes, self.verification_code):
            return 204
        log.info("fitbit verification refused", extra={"codes_given": len(codes)})
        return 404

    def verify_post(self, headers: Mapping[str, str], body: bytes) -> int | None:
        return None  # Fitbit verifies with GET only

    async def authenticate(self, headers: Mapping[str, str], body: bytes) -> str | None:
        problem = authenticate(headers, body, self.client_secret)
        return None if problem is None else problem.value

    def parse(self, body: bytes) -> list[ReceivedChange]:
        return notifications.parse(body)
