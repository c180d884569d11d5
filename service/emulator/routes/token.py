"""`POST /oauth2/token`, `/oauth2/revoke` and `/1.1/oauth2/introspect` (RFC 6749, 7009, 7662).

Server apps authenticate with `Authorization: Basic base64(client_id:client_secret)`; client
apps send `client_id` in the body and must use PKCE. Every failure answers in Fitbit's
`errors` JSON.
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from service.emulator import oauth
from service.emulator.config import EmulatorConfig
from service.emulator.deps import EmulatorDep, bearer
from service.emulator.errors import invalid_client, invalid_grant, invalid_request
from service.emulator.tokens import Code
from service.emulator.world import Emulator

router = APIRouter(tags=["Fitbit OAuth 2.0"])
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


@dataclass(frozen=True)
class Client:
    client_id: str
    confidential: bool


Form = dict[str, str]
Grant = Callable[[Request, Emulator, Form, Client], Awaitable[dict[str, Any]]]


@router.post("/oauth2/token")
async def token(request: Request, world: EmulatorDep) -> JSONResponse:
    form = await _form(request)
    client = _client(request, form, world.config)
    grant = GRANTS.get(form.get("grant_type", ""))
    if grant is None:
        raise invalid_request(f"Unsupported grant_type: {form.get('grant_type')}.", "grant_type")
    return JSONResponse(await grant(request, world, form, client), headers=NO_STORE)


async def _authorization_code(
    request: Request, world: Emulator, form: Form, client: Client
) -> dict[str, Any]:
    await world.faults.apply(request, world.counters)
    code = world.tokens.redeem_code(
        form_field(form, "code"),
        client_id=client.client_id,
        redirect_uri=form.get("redirect_uri"),
        now=world.now(),
    )
    _check_pkce(code, form.get("code_verifier"), client)
    user = world.users.ensure(code.user_id)
    return world.issue_tokens(user, code.scopes).model_dump()


def _check_pkce(code: Code, verifier: str | None, client: Client) -> None:
    if code.challenge is None:
        if not client.confidential:
            raise invalid_request("Client apps must use PKCE (code_challenge).")
        return
    if not verifier:
        raise invalid_request("Missing parameters: code_verifier.")
    if not oauth.pkce_matches(verifier, code.challenge, code.method):
        raise invalid_grant("Invalid code_verifier.")


async def _refresh_token(
    request: Request, world: Emulator, form: Form, client: Client
) -> dict[str, Any]:
    value = form_field(form, "refresh_token")
    # Injected latency runs inside the refresh, so a concurrent one sees it running (409).
    with world.tokens.refreshing(value):
        await world.faults.apply(request, world.counters)
        answer = world.tokens.refresh(
            value,
            client_id=client.client_id,
            now=world.now(),
            ttl=world.config.access_token_ttl_seconds,
        )
    world.counters.token_refreshes += 1
    return answer.model_dump()


async def _client_credentials(
    request: Request, world: Emulator, form: Form, client: Client
) -> dict[str, Any]:
    if not client.confidential:
        raise invalid_client("client_credentials needs the Basic authorization header.")
    await world.faults.apply(request, world.counters)
    world.counters.tokens_issued += 1
    return world.tokens.issue_app_token(
        client.client_id, world.now(), world.config.access_token_ttl_seconds
    )


GRANTS: dict[str, Grant] = {
    "authorization_code": _authorization_code,
    "refresh_token": _refresh_token,
    "client_credentials": _client_credentials,
}


@router.post("/oauth2/revoke")
async def revoke(request: Request, world: EmulatorDep) -> Response:
    """Revokes every token the user gave this app (and so its subscriptions); unknown tokens
    are not an error (RFC 7009)."""
    await world.faults.apply(request, world.counters)
    form = await _form(request)
    _client(request, form, world.config)
    owner = world.tokens.owner(form_field(form, "token"))
    user = world.users.get(owner) if owner else None
    if user is not None:
        world.revoke_access(user)
    return Response(status_code=200)


@router.post("/1.1/oauth2/introspect")
async def introspect(request: Request, world: EmulatorDep) -> JSONResponse:
    await world.faults.apply(request, world.counters)
    world.tokens.authenticate(bearer(request), world.now())
    form = await _form(request)
    return JSONResponse(world.tokens.introspect(form_field(form, "token"), world.now()))


async def _form(request: Request) -> Form:
    form = await request.form()
    return {key: value for key, value in form.items() if isinstance(value, str)}


def form_field(form: Form, name: str) -> str:
    value = form.get(name)
    if not value:
        raise invalid_request(f"Missing parameters: {name}.")
    return value


def _client(request: Request, form: Form, config: EmulatorConfig) -> Client:
    header = request.headers.get("authorization")
    if header is None:
        if form.get("client_id") != config.client_id:
            raise invalid_client("Invalid or missing client_id.")
        return Client(config.client_id, confidential=False)
    credentials = oauth.parse_basic(header)
    if credentials is None:
        raise invalid_client("Invalid authorization header format.")
    client_id, secret = credentials
    if client_id != config.client_id or not hmac.compare_digest(secret, config.client_secret):
        raise invalid_client("Invalid client_id or client_secret.")
    return Client(client_id, confidential=True)
