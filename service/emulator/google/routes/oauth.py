"""Google's OAuth 2.0 endpoints: `GET /o/oauth2/v2/auth` (consent), `POST /token` and
`POST /revoke` (RFC 6749, 7636, 7009).

Consent is answered by an emulated account: the one named by `login_hint`, else the
configured `consent_user`. A refresh token comes only with `access_type=offline`, and only on
the first offline consent unless `prompt=consent` forces a new one, as Google issues them.
The token endpoint takes the client's credentials in the body (client_secret_post) or in a
Basic header, checks PKCE when the consent carried a challenge, and never rotates refresh
tokens.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import html
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from service.emulator.google import oauth
from service.emulator.google.deps import GoogleDep, faults
from service.emulator.google.errors import OAuthError
from service.emulator.google.state import GoogleHealth
from service.emulator.google.tokens import Code, Issued
from service.emulator.google.users import HEALTH_USER_ID

router = APIRouter(tags=["Google OAuth 2.0"])
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


@router.get("/o/oauth2/v2/auth")
async def consent(request: Request, google: GoogleDep) -> Response:
    params = request.query_params
    config = google.config
    redirect = params.get("redirect_uri", "")
    if params.get("client_id") != config.client_id:
        return _error_page(401, "invalid_client", "The OAuth client was not found.")
    if not redirect or (config.redirect_uri is not None and redirect != config.redirect_uri):
        return _error_page(400, "redirect_uri_mismatch", "The redirect_uri is not registered.")
    state = params.get("state")
    scopes = oauth.parse_scope(params.get("scope", ""))
    if params.get("response_type") != "code":
        return _back(redirect, {"error": "unsupported_response_type", "state": state})
    if not scopes or not scopes <= oauth.GRANTABLE:
        return _back(redirect, {"error": "invalid_scope", "state": state})
    method = params.get("code_challenge_method", "plain")
    challenge = params.get("code_challenge")
    if challenge is not None and method not in ("S256", "plain"):
        return _back(redirect, {"error": "invalid_request", "state": state})
    user_id = params.get("login_hint") or config.consent_user
    if not user_id or not HEALTH_USER_ID.match(user_id):
        return _error_page(400, "no_user", "Name the account with login_hint, or set consent_user.")
    user = google.users.ensure(user_id)
    if user.deny_consent:
        return _back(redirect, {"error": "access_denied", "state": state})
    granted = user.consent(scopes)
    if params.get("include_granted_scopes") == "true" and not user.revoked:
        granted |= user.granted
    offline = params.get("access_type") == "offline"
    forced = "consent" in params.get("prompt", "").split()
    first = not google.tokens.has_offline_grant(user_id, config.client_id)
    code = google.tokens.issue_code(
        Code(
            user_id,
            config.client_id,
            redirect,
            granted,
            challenge,
            method,
            offline and (forced or first),
            google.now(),
        )
    )
    return _back(redirect, {"state": state, "code": code, "scope": oauth.scope_text(granted)})


def _back(redirect: str, params: dict[str, str | None]) -> RedirectResponse:
    query = urlencode({name: value for name, value in params.items() if value is not None})
    joiner = "&" if "?" in redirect else "?"
    return RedirectResponse(f"{redirect}{joiner}{query}", status_code=302)


def _error_page(status: int, error: str, message: str) -> HTMLResponse:
    body = f"<h1>Error {status}: {html.escape(error)}</h1><p>{html.escape(message)}</p>"
    return HTMLResponse(
        f"<!doctype html><title>Sign in - Google Accounts</title>{body}", status_code=status
    )


@router.post("/token")
async def token(request: Request, google: GoogleDep) -> JSONResponse:
    await faults(request, google)
    form = {key: str(value) for key, value in (await request.form()).items()}
    _authenticate(request, form, google)
    grant_type = form.get("grant_type")
    if grant_type == "authorization_code":
        issued = _exchange(form, google)
    elif grant_type == "refresh_token":
        issued = google.tokens.refresh(
            form.get("refresh_token", ""),
            google.config.client_id,
            now=google.now(),
            ttl=google.config.access_token_ttl_seconds,
        )
        google.counters.token_refreshes += 1
    else:
        raise OAuthError(400, "unsupported_grant_type", f"Invalid grant_type: {grant_type}")
    return JSONResponse(_answer(issued), headers=NO_STORE)


def _authenticate(request: Request, form: dict[str, str], google: GoogleHealth) -> None:
    client_id, secret = form.get("client_id"), form.get("client_secret")
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "basic":
        try:
            client_id, _, secret = (
                base64.b64decode(value.strip(), validate=True).decode().partition(":")
            )
        except (binascii.Error, UnicodeDecodeError):
            client_id = secret = None
    config = google.config
    if client_id != config.client_id or not hmac.compare_digest(
        (secret or "").encode(), config.client_secret.encode()
    ):
        raise OAuthError(401, "invalid_client", "Unauthorized")


def _exchange(form: dict[str, str], google: GoogleHealth) -> Issued:
    code = google.tokens.redeem_code(form.get("code", ""), google.config.client_id, google.now())
    if form.get("redirect_uri") != code.redirect_uri:
        raise OAuthError(400, "redirect_uri_mismatch", "Bad Request")
    if code.challenge is not None:
        verifier = form.get("code_verifier")
        if not verifier:
            raise OAuthError(400, "invalid_grant", "Missing code verifier.")
        expected = _s256(verifier) if code.method == "S256" else verifier
        if not hmac.compare_digest(expected, code.challenge):
            raise OAuthError(400, "invalid_grant", "Invalid code verifier.")
    user = google.users.ensure(code.user_id)
    return google.issue_tokens(user, code.scopes, offline=code.offline)


def _s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def _answer(issued: Issued) -> dict[str, object]:
    answer: dict[str, object] = {
        "access_token": issued.access_token,
        "expires_in": issued.expires_in,
        "scope": oauth.scope_text(issued.scopes),
        "token_type": "Bearer",
    }
    if issued.refresh_token is not None:
        answer["refresh_token"] = issued.refresh_token
    return answer


@router.post("/revoke")
async def revoke(request: Request, google: GoogleDep) -> JSONResponse:
    await faults(request, google)
    form = await request.form()
    value = str(form.get("token") or request.query_params.get("token") or "")
    user_id = google.tokens.revoke(value)
    if user_id is None:
        raise OAuthError(400, "invalid_token", "Token expired or revoked")
    user = google.users.get(user_id)
    if user is not None:
        google.revoke(user)
    return JSONResponse({})
