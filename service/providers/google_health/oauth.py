"""Google's OAuth 2.0 for the Google Health API: authorization code with PKCE, refresh, revoke.

    consent   https://accounts.google.com/o/oauth2/v2/auth
    token     https://oauth2.googleapis.com/token     (client id and secret in the form body)
    revoke    https://oauth2.googleapis.com/revoke

Facts this module is built on (FACTS §2):
- A refresh token comes only with `access_type=offline`, and reliably only with
  `prompt=consent`; both are always sent. PKCE (S256) is optional for a web-server client
  and kept, since our connect flow already stores a verifier.
- Access tokens live an hour and may be ~2 KB; refresh tokens are not rotated: a refresh
  answer normally has no `refresh_token`, and the old one stays valid. `refresh` then returns
  a grant whose refresh token is None, and the vault keeps the stored one.
- The token answer names no user: grants carry `user_id` None; `identity.get_identity`
  (`users/me/identity`) names the account.
- `cloud-platform` must never be requested from a person (user calls then fail with
  `DISALLOWED_OAUTH_SCOPES`); subscriber management uses the project's own credential.

Errors (RFC 6749 `{"error": ..., "error_description": ...}`): `invalid_grant` (spent, revoked,
expired after six months unused or seven days in a "Testing" project, or `invalid_rapt`) →
`InvalidGrant`; 429 → `RateLimited`; 5xx and transport errors → `ProviderUnavailable`; anything
else (`invalid_client`, `redirect_uri_mismatch`) → `UnexpectedResponse`, a configuration error.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import httpx

from service.providers import errors
from service.providers.base import TokenGrant
from service.providers.google_health import datatypes
from service.providers.google_health.client import retry_after

AUTHORIZE_URL = "https://accounts.google.com/o/oauth2/v2/auth"
TOKEN_URL = "https://oauth2.googleapis.com/token"  # noqa: S105 - a URL, not a secret
REVOKE_URL = "https://oauth2.googleapis.com/revoke"

# Everything we read, plus settings for the person's time zone.
DEFAULT_SCOPES = (
    datatypes.ACTIVITY_SCOPE,
    datatypes.HEALTH_METRICS_SCOPE,
    datatypes.SLEEP_SCOPE,
    datatypes.NUTRITION_SCOPE,
    datatypes.SETTINGS_SCOPE,
)
CLOUD_PLATFORM_SCOPE = "https://www.googleapis.com/auth/cloud-platform"


def authorization_url(
    *,
    client_id: str,
    redirect_uri: str,
    state: str,
    challenge: str,
    scopes: Sequence[str] = DEFAULT_SCOPES,
    authorize_url: str = AUTHORIZE_URL,
) -> str:
    if CLOUD_PLATFORM_SCOPE in scopes:
        raise ValueError("cloud-platform is the project's scope, never a person's")
    query = {
        "client_id": client_id,
        "response_type": "code",
        "redirect_uri": redirect_uri,
        "scope": " ".join(scopes),
        "state": state,
        "access_type": "offline",
        "prompt": "consent",
        "include_granted_scopes": "true",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    return f"{authorize_url}?{urlencode(query)}"


@dataclass(frozen=True, slots=True)
class OAuthClient:
    """The token endpoints of one Google OAuth client ("Web application")."""

    http: httpx.AsyncClient
    client_id: str
    client_secret: str
    token_url: str = TOKEN_URL
    revoke_url: str = REVOKE_URL

    async def exchange_code(self, code: str, redirect_uri: str, verifier: str) -> TokenGrant:
        """The grant for a consent's code (Google names no user in it: `user_id` is None)."""
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": redirect_uri,
            "code_verifier": verifier,
        }
        body = await self._post(self.token_url, form)
        refresh = body.get("refresh_token")
        if not isinstance(refresh, str) or not refresh:
            # Without one we could never sync after an hour; prompt=consent should prevent it.
            raise errors.UnexpectedResponse("token endpoint issued no refresh token")
        return _grant(body, refresh)

    async def refresh(self, refresh_token: str) -> TokenGrant:
        """A new access token; the refresh token is None unless Google sent a new one."""
        form = {"grant_type": "refresh_token", "refresh_token": refresh_token}
        body = await self._post(self.token_url, form)
        rotated = body.get("refresh_token")
        return _grant(body, rotated if isinstance(rotated, str) and rotated else None)

    async def revoke(self, token: str) -> None:
        """Revoke an access or refresh token (revoking a refresh token ends its access tokens).

        A token Google no longer knows (`invalid_token`) is as revoked as we want it.
        """
        try:
            await self._post(self.revoke_url, {"token": token}, authenticate=False)
        except errors.UnexpectedResponse as exc:
            if "invalid_token" not in str(exc):
                raise

    async def _post(
        self, url: str, form: dict[str, str], *, authenticate: bool = True
    ) -> dict[str, Any]:
        if authenticate:
            form = {**form, "client_id": self.client_id, "client_secret": self.client_secret}
        try:
            response = await self.http.post(url, data=form, headers={"Accept": "application/json"})
        except httpx.RequestError as exc:
            raise errors.ProviderUnavailable(
                f"token endpoint unreachable: {type(exc).__name__}"
            ) from None
        _raise_for_status(response)
        try:
            body = response.json() if response.content else {}
        except ValueError:
            raise errors.ProviderUnavailable("token endpoint answer is not JSON") from None
        return body if isinstance(body, dict) else {}


def _raise_for_status(response: httpx.Response) -> None:
    if response.is_success:
        return
    status, kind = response.status_code, _error(response)
    if kind == "invalid_grant":
        raise errors.InvalidGrant("the provider refused the grant (spent, expired or revoked)")
    if status == 429:
        raise errors.RateLimited("token endpoint rate limited", retry_after=retry_after(response))
    if status >= 500:
        raise errors.ProviderUnavailable(f"token endpoint answered {status}")
    raise errors.UnexpectedResponse(f"token endpoint answered {status} {kind or ''}".rstrip())


def _error(response: httpx.Response) -> str | None:
    try:
        body = response.json()
    except ValueError:
        return None
    error = body.get("error") if isinstance(body, dict) else None
    return error if isinstance(error, str) else None


def _grant(body: dict[str, Any], refresh_token: str | None) -> TokenGrant:
    access, expires = body.get("access_token"), body.get("expires_in")
    if not isinstance(access, str) or not access or not isinstance(expires, int | str):
        raise errors.UnexpectedResponse("token endpoint answered without the expected fields")
    try:
        expires_in = int(expires)
    except ValueError:
        raise errors.UnexpectedResponse("token endpoint: expires_in is not a number") from None
    return TokenGrant(
        access_token=access,
        refresh_token=refresh_token,
        expires_in=expires_in,
        scopes=frozenset(str(body.get("scope", "")).split()),
        user_id=None,
    )
