"""Fitbit's error bodies: `{"errors": [{"errorType", "message"[, "fieldName"]}], "success": false}`.

The Web API and the OAuth endpoints answer in this one shape, so a client parses every failure
the same way.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

OAUTH_DOCS = (
    "Visit https://dev.fitbit.com/docs/oauth2 for more information on the Fitbit Web API "
    "authorization process."
)


def error_body(error_type: str, message: str, field_name: str | None = None) -> dict[str, Any]:
    error = {"errorType": error_type, "message": message}
    if field_name is not None:
        error["fieldName"] = field_name
    return {"errors": [error], "success": False}


class FitbitError(Exception):
    """A failure to answer with Fitbit's status code and error body."""

    def __init__(
        self,
        status: int,
        error_type: str,
        message: str,
        *,
        field_name: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.error_type = error_type
        self.message = message
        self.field_name = field_name
        self.headers = dict(headers or {})

    def body(self) -> dict[str, Any]:
        return error_body(self.error_type, self.message, self.field_name)


def invalid_grant(message: str) -> FitbitError:
    return FitbitError(400, "invalid_grant", f"{message} {OAUTH_DOCS}")


def invalid_request(message: str, field_name: str | None = None) -> FitbitError:
    return FitbitError(400, "invalid_request", f"{message} {OAUTH_DOCS}", field_name=field_name)


def invalid_client(message: str) -> FitbitError:
    return FitbitError(401, "invalid_client", f"{message} {OAUTH_DOCS}")


def validation(field_name: str, message: str) -> FitbitError:
    return FitbitError(400, "validation", message, field_name=field_name)
