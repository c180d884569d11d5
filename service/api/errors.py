"""Failures of the internal API as JSON:API error documents.

The handlers installed here are scoped by path: under `/v1` every failure, even a 404 for an
unknown path, a 405 or a framework validation error, is a JSON:API error document; under
`/oauth` it is an RFC 6749 error; every other route keeps FastAPI's own answers.
"""

from __future__ import annotations

from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exception_handlers import (
    http_exception_handler,
    request_validation_exception_handler,
)
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.responses import PlainTextResponse, Response

from service.api import documents, oauth
from service.api.documents import Json, JsonApiResponse
from service.api.paging import ParameterError
from service.errors import ServiceError

V1 = "/v1"
REALM = "fitbit-subscriber"

# Codes as the Fitbit Plus API names them, where it has one.
_CODES = {
    400: "InvalidParameter",
    401: "Unauthorized",
    403: "Forbidden",
    404: "ResourceNotFound",
    405: "MethodNotAllowed",
    406: "NotAcceptable",
    415: "UnsupportedMediaType",
    422: "InvalidBodyParameter",
    500: "InternalError",
}


class ApiError(ServiceError):
    """One failure of an API request, answered as a JSON:API error document."""

    def __init__(
        self,
        status: int,
        detail: str,
        *,
        parameter: str | None = None,
        pointer: str | None = None,
        headers: Mapping[str, str] | None = None,
        code: str | None = None,
    ) -> None:
        super().__init__(detail)
        self.status, self.detail, self.headers = status, detail, dict(headers or {})
        self.parameter, self.pointer, self.code = parameter, pointer, code

    def error_object(self) -> Json:
        error = _error(self.status, self.detail, parameter=self.parameter, pointer=self.pointer)
        if self.code:
            error["code"] = self.code
        return error

    def response(self) -> JsonApiResponse:
        body = documents.errors([self.error_object()])
        return JsonApiResponse(body, self.status, headers=self.headers)


def invalid_parameter(exc: ParameterError) -> ApiError:
    return ApiError(400, exc.detail, parameter=exc.parameter)


def not_found(type_: str, id_: str) -> ApiError:
    return ApiError(404, f"there is no {type_} with id {id_!r}")


def unauthorized(detail: str, error: str | None = None) -> ApiError:
    """RFC 6750 section 3: no `error` when no token came at all, `invalid_token` for a bad one."""
    challenge = f'Bearer realm="{REALM}"'
    if error:
        challenge += f', error="{error}", error_description="{detail}"'
    return ApiError(401, detail, headers={"WWW-Authenticate": challenge})


def insufficient_scope(scope: str) -> ApiError:
    challenge = f'Bearer realm="{REALM}", error="insufficient_scope", scope="{scope}"'
    detail = f"this token lacks the scope {scope!r}"
    return ApiError(403, detail, headers={"WWW-Authenticate": challenge})


def install(app: FastAPI) -> None:
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(ParameterError, _parameter_error)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(Exception, _server_error)


def _area(request: Request) -> str | None:
    path = request.url.path.removeprefix(request.scope.get("root_path", ""))
    for prefix in (V1, "/oauth"):
        if path == prefix or path.startswith(prefix + "/"):
            return prefix
    return None


async def _api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)  # noqa: S101 - registered for this class only
    return exc.response()


async def _parameter_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ParameterError)  # noqa: S101 - registered for this class only
    return invalid_parameter(exc).response()


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)  # noqa: S101 - registered for this class only
    area = _area(request)
    if area is None:
        return await http_exception_handler(request, exc)
    if area != V1:
        code = "server_error" if exc.status_code >= 500 else "invalid_request"
        return oauth.error_response(exc.status_code, code, str(exc.detail))
    return ApiError(exc.status_code, str(exc.detail), headers=exc.headers).response()


async def _validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)  # noqa: S101 - registered for this class only
    area = _area(request)
    if area is None:
        return await request_validation_exception_handler(request, exc)
    if area != V1:
        return oauth.error_response(400, "invalid_request", "malformed request")
    objects = [_validation_object(error) for error in exc.errors()]
    status = 422 if all(obj["status"] == "422" for obj in objects) else 400
    return JsonApiResponse(documents.errors(objects), status)


async def _server_error(request: Request, exc: Exception) -> Response:
    """Our failure, not the client's: say so in the area's format; the server logs the trace."""
    area = _area(request)
    if area == V1:
        return ApiError(500, "the server failed; the failure is logged").response()
    if area is not None:
        return oauth.error_response(500, "server_error", "the server failed")
    return PlainTextResponse("Internal Server Error", status_code=500)


def _validation_object(error: Mapping[str, Any]) -> Json:
    where, *path = [str(part) for part in error["loc"]] or ["request"]
    message = str(error.get("msg", "invalid"))
    if error.get("type") == "json_invalid":  # the document as a whole, not one member
        reason = error.get("ctx", {}).get("error", "")
        return _error(400, f"the request body is not JSON: {reason}".rstrip(": "))
    if where == "body":
        pointer = "".join("/" + p.replace("~", "~0").replace("/", "~1") for p in path)
        return _error(422, message, pointer=pointer)
    return _error(400, message, parameter=path[0] if path else where)


def _error(status: int, detail: str, **source: str | None) -> Json:
    title = HTTPStatus(status).phrase
    code = _CODES.get(status, title.replace(" ", ""))
    return documents.error_object(status, code, title, detail, **source)
