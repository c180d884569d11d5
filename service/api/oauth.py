"""`POST /oauth/token`: the OAuth 2.0 token endpoint of the internal API (RFC 6749).

Grants: `client_credentials` (section 4.4) and `refresh_token` (section 6); both need the
client to authenticate, by HTTP Basic or by `client_id`/`client_secret` in the form (section
2.3.1), never both. Answers and errors are the RFC's JSON (section 5.1, 5.2), never cached.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
from collections.abc import Mapping
from typing import Any, Literal
from urllib.parse import unquote_plus

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncConnection

from service.api import clients, scopes, tokens
from service.api.clients import ClientRecord
from service.errors import ServiceError
from service.settings import Settings
from service.state import EngineDep, SettingsDep

router = APIRouter(prefix="/oauth", tags=["oauth"])

TOKEN_PATH = "/oauth/token"  # noqa: S105 - a path, not a password
CLIENT_CREDENTIALS = "client_credentials"
REFRESH_TOKEN = "refresh_token"  # noqa: S105 - a grant type
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
_FORM = "application/x-www-form-urlencoded"


class OAuthError(ServiceError):
    """An RFC 6749 error response: `error` is the RFC's code, `description` says why."""

    def __init__(self, error: str, description: str, status: int = 400) -> None:
        super().__init__(f"{error}: {description}")
        self.error, self.description, self.status = error, description, status

    def response(self) -> JSONResponse:
        return error_response(self.status, self.error, self.description)


def error_response(status: int, error: str, description: str) -> JSONResponse:
    headers = dict(NO_STORE)
    if status == 401:
        headers["WWW-Authenticate"] = 'Basic realm="fitbit-subscriber"'
    body = {"error": error, "error_description": description}
    return JSONResponse(body, status, headers=headers)


class TokenAnswer(BaseModel):
    access_token: str
    token_type: Literal["Bearer"] = "Bearer"  # noqa: S105 - RFC 6750's token type
    expires_in: int
    refresh_token: str
    scope: str


class OAuthErrorAnswer(BaseModel):
    error: str
    error_description: str


def _request_body() -> dict[str, Any]:
    """The form, for OpenAPI: the route reads it itself, to answer mistakes the RFC's way."""

    def text(description: str) -> dict[str, str]:
        return {"type": "string", "description": description}

    properties = {
        "grant_type": {"type": "string", "enum": [CLIENT_CREDENTIALS, REFRESH_TOKEN]},
        "scope": text("space-separated; by default all the client was granted"),
        "refresh_token": text("with grant_type=refresh_token"),
        "client_id": text("unless sent by HTTP Basic"),
        "client_secret": text("unless sent by HTTP Basic"),
    }
    schema = {"type": "object", "required": ["grant_type"], "properties": properties}
    return {"requestBody": {"required": True, "content": {_FORM: {"schema": schema}}}}


@router.post(
    "/token",
    summary="Get an access token",
    response_model=TokenAnswer,
    responses={
        400: {"model": OAuthErrorAnswer, "description": "RFC 6749 error"},
        401: {"model": OAuthErrorAnswer, "description": "invalid_client"},
    },
    openapi_extra=_request_body(),
)
async def token(request: Request, engine: EngineDep, settings: SettingsDep) -> JSONResponse:
    """Exchange client credentials, or a refresh token, for a Bearer access token.

    The client authenticates with HTTP Basic (`client_id:client_secret`) or with both in the
    form. A refresh token works once: the answer carries its successor. Presenting a used one
    again is refused with `invalid_grant` and revokes every token descended from the same grant.
    """
    try:
        form = await _form(request)
        async with engine.connect() as conn:
            issued = await _grant(conn, request, form, settings)
    except OAuthError as exc:
        return exc.response()
    answer = TokenAnswer(
        access_token=issued.access_token,
        expires_in=issued.expires_in,
        refresh_token=issued.refresh_token,
        scope=scopes.render(issued.scopes),
    )
    return JSONResponse(answer.model_dump(), headers=NO_STORE)


async def _grant(
    conn: AsyncConnection, request: Request, form: Mapping[str, str], settings: Settings
) -> tokens.Issued:
    grant_type = _required(form, "grant_type")
    if grant_type not in (CLIENT_CREDENTIALS, REFRESH_TOKEN):
        raise OAuthError("unsupported_grant_type", f"grant_type {grant_type!r} is not supported")
    client = await _client(conn, request, form)
    lifetimes = tokens.Lifetimes(
        access=dt.timedelta(seconds=settings.api_access_token_seconds),
        refresh=dt.timedelta(seconds=settings.api_refresh_token_seconds),
    )
    grant = _client_credentials if grant_type == CLIENT_CREDENTIALS else _refresh
    try:
        issued = await grant(conn, client, form, lifetimes)
    except OAuthError:
        await conn.commit()  # a replayed refresh token has just revoked its family: keep that
        raise
    await conn.commit()
    return issued


async def _client_credentials(
    conn: AsyncConnection, client: ClientRecord, form: Mapping[str, str], life: tokens.Lifetimes
) -> tokens.Issued:
    granted = _requested_scopes(form, client) or client.scopes
    return await tokens.issue(conn, client.id, granted, life)


async def _refresh(
    conn: AsyncConnection, client: ClientRecord, form: Mapping[str, str], life: tokens.Lifetimes
) -> tokens.Issued:
    requested = _requested_scopes(form, client)
    grant = await tokens.spend_refresh(conn, client.id, _required(form, REFRESH_TOKEN), requested)
    if isinstance(grant, tokens.Refusal):
        raise OAuthError(grant.error, grant.description)
    return await tokens.issue(
        conn,
        client.id,
        requested or grant.scopes,
        life,
        family=grant.family,
        grant_scopes=grant.scopes,
    )


def _requested_scopes(form: Mapping[str, str], client: ClientRecord) -> frozenset[str]:
    try:
        requested = scopes.parse([form.get("scope", "")])
    except scopes.UnknownScope as exc:
        raise OAuthError("invalid_scope", str(exc)) from exc
    if not requested <= client.scopes:
        excess = scopes.render(requested - client.scopes)
        raise OAuthError("invalid_scope", f"this client was not granted: {excess}")
    return requested


async def _client(conn: AsyncConnection, request: Request, form: Mapping[str, str]) -> ClientRecord:
    basic = _basic(request.headers.get("authorization"))
    if basic and ("client_secret" in form or form.get("client_id", basic[0]) != basic[0]):
        raise OAuthError("invalid_request", "authenticate by HTTP Basic or by the form, not both")
    client_id, secret = basic or (form.get("client_id"), form.get("client_secret"))
    if not client_id or secret is None:
        raise OAuthError("invalid_client", "client authentication is required", 401)
    client = await clients.authenticate(conn, client_id, secret)
    if client is None:
        raise OAuthError("invalid_client", "unknown client, wrong secret or revoked", 401)
    return client


def _basic(header: str | None) -> tuple[str, str] | None:
    """HTTP Basic credentials, each part form-decoded as RFC 6749 section 2.3.1 requires."""
    scheme, _, param = (header or "").partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(param.strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError) as exc:
        raise OAuthError("invalid_client", "malformed HTTP Basic credentials", 401) from exc
    client_id, colon, secret = decoded.partition(":")
    if not colon:
        raise OAuthError("invalid_client", "malformed HTTP Basic credentials", 401)
    return unquote_plus(client_id), unquote_plus(secret)


async def _form(request: Request) -> dict[str, str]:
    """The form's parameters; each at most once, and one sent empty counts as not sent."""
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type != _FORM:
        raise OAuthError("invalid_request", f"send the parameters as {_FORM}")
    form = await request.form()
    params: dict[str, str] = {}
    for name, value in form.multi_items():
        if name in params:
            raise OAuthError("invalid_request", f"{name} is given more than once")
        if isinstance(value, str) and value:
            params[name] = value
    return params


def _required(form: Mapping[str, str], name: str) -> str:
    if name not in form:
        raise OAuthError("invalid_request", f"{name} is required")
    return form[name]
