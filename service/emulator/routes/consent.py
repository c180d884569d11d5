"""`GET /oauth2/authorize`: Fitbit's consent screen, answered by an emulated user.

The user is the one named by `user_id` in the query, else the configured `consent_user`,
else whoever signs in on a small HTML form. They grant the requested scopes (or fewer, as
configured) and the browser goes to `redirect_uri?code=…&state=…#_=_`; a user configured to
deny sends it to `redirect_uri?error=access_denied&…#_=_` instead.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from urllib.parse import urlencode, urlsplit, urlunsplit

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import QueryParams

from service.emulator import oauth
from service.emulator.config import EmulatorConfig
from service.emulator.deps import EmulatorDep
from service.emulator.errors import FitbitError, invalid_request
from service.emulator.tokens import Code
from service.emulator.users import USER_ID
from service.emulator.world import Emulator

router = APIRouter(tags=["Fitbit OAuth 2.0"])


@dataclass(frozen=True)
class ConsentRequest:
    client_id: str
    redirect_uri: str
    registered_redirect: str | None
    scopes: frozenset[str]
    state: str | None
    challenge: str | None
    method: str


@router.get("/oauth2/authorize")
async def authorize(request: Request, world: EmulatorDep) -> Response:
    params = request.query_params
    ask = parse(params, world.config)
    user_id = params.get("user_id") or world.config.consent_user
    if not user_id:
        return HTMLResponse(_form(params))
    if not USER_ID.match(user_id):
        raise invalid_request(f"Invalid user_id: {user_id}.", "user_id")
    code = None if params.get("deny") else _consent(world, user_id, ask)
    if code is None:
        reply = {"error": "access_denied", "error_description": "The user denied the request."}
    else:
        reply = {"code": code}
    return RedirectResponse(_redirect(ask, reply), status_code=302)


def parse(params: QueryParams, config: EmulatorConfig) -> ConsentRequest:
    if params.get("client_id") != config.client_id:
        raise invalid_request(f"Invalid client_id: {params.get('client_id')}.", "client_id")
    if params.get("response_type") != "code":
        raise invalid_request("response_type must be code.", "response_type")
    redirect = params.get("redirect_uri") or config.redirect_uri
    if not redirect or (config.redirect_uri and redirect != config.redirect_uri):
        raise invalid_request("Invalid redirect_uri parameter value.", "redirect_uri")
    scopes = oauth.parse_scope(params.get("scope", ""))
    if not scopes or not scopes <= oauth.SCOPES:
        raise FitbitError(400, "invalid_scope", f"Invalid scope: {params.get('scope')}.")
    method = params.get("code_challenge_method", "plain")
    if method not in ("S256", "plain"):
        raise invalid_request("code_challenge_method must be S256 or plain.")
    return ConsentRequest(
        client_id=config.client_id,
        redirect_uri=redirect,
        registered_redirect=params.get("redirect_uri"),
        scopes=scopes,
        state=params.get("state"),
        challenge=params.get("code_challenge"),
        method=method,
    )


def _consent(world: Emulator, user_id: str, ask: ConsentRequest) -> str | None:
    """The user's answer: an authorization code, or None when they deny."""
    user = world.users.ensure(user_id)
    granted = user.consent(ask.scopes)
    if user.deny_consent or user.deleted or not granted:
        return None
    code = Code(
        user_id=user.user_id,
        client_id=ask.client_id,
        redirect_uri=ask.registered_redirect,
        scopes=granted,
        challenge=ask.challenge,
        method=ask.method,
        issued_at=world.now(),
    )
    return world.tokens.issue_code(code)


def _redirect(ask: ConsentRequest, reply: dict[str, str]) -> str:
    parts = urlsplit(ask.redirect_uri)
    state = {"state": ask.state} if ask.state is not None else {}
    query = "&".join(filter(None, [parts.query, urlencode(reply | state)]))
    # Fitbit appends "#_=_" to every redirect; clients must ignore it.
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, "_=_"))


def _form(params: QueryParams) -> str:
    hidden = "".join(
        f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">'
        for k, v in params.multi_items()
        if k not in ("user_id", "deny")
    )
    scopes = html.escape(params.get("scope", ""))
    return (
        "<!doctype html><title>Fitbit emulator: sign in</title>"
        f"<h1>Allow access to: {scopes}</h1>"
        f'<form method="get" action="/oauth2/authorize">{hidden}'
        '<label>Emulated user id <input name="user_id" value="EMU001" required '
        'pattern="[A-Za-z0-9]{1,32}"></label> '
        '<button type="submit">Allow</button> '
        '<button type="submit" name="deny" value="1">Deny</button></form>'
    )
