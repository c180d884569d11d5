"""Google's error bodies.

The APIs answer `google.rpc.Status` as JSON: `{"error": {"code", "message", "status",
"details": [{"@type": ".../google.rpc.ErrorInfo", "reason", "domain"}]}}`. The OAuth token and
revocation endpoints answer RFC 6749's `{"error", "error_description"}` instead.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

ERROR_INFO = "type.googleapis.com/google.rpc.ErrorInfo"

# google.rpc.Code names for the HTTP statuses the emulator answers.
STATUS_NAMES = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    409: "ALREADY_EXISTS",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    501: "NOT_IMPLEMENTED",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}


class GoogleError(Exception):
    """A failure of a Google API call, answered as `google.rpc.Status`."""

    def __init__(
        self,
        code: int,
        message: str,
        *,
        reason: str | None = None,
        status: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.reason = reason
        self.status = status or STATUS_NAMES.get(code, "UNKNOWN")
        self.headers = dict(headers or {})

    def body(self) -> dict[str, Any]:
        error: dict[str, Any] = {"code": self.code, "message": self.message, "status": self.status}
        if self.reason is not None:
            info = {"@type": ERROR_INFO, "reason": self.reason, "domain": "health.googleapis.com"}
            error["details"] = [info]
        return {"error": error}


class OAuthError(Exception):
    """A failure of the token or revocation endpoint, in RFC 6749 §5.2's shape."""

    def __init__(self, status: int, error: str, description: str) -> None:
        super().__init__(description)
        self.status = status
        self.error = error
        self.description = description

    def body(self) -> dict[str, str]:
        return {"error": self.error, "error_description": self.description}


def invalid_argument(message: str, reason: str | None = None) -> GoogleError:
    return GoogleError(400, message, reason=reason)


def failed_precondition(message: str, reason: str | None = None) -> GoogleError:
    return GoogleError(400, message, reason=reason, status="FAILED_PRECONDITION")


def not_found(message: str) -> GoogleError:
    return GoogleError(404, message, reason="RESOURCE_NOT_FOUND")
