"""Fitbit's OAuth 2.0: authorization code grant with PKCE (RFC 7636, S256), refresh, revoke.

Server apps authenticate to `/oauth2/token` with `Authorization: Basic base64(id:secret)`.
Refresh tokens are single use; Fitbit answers an identical refresh within two minutes with the
identical response, a concurrent one may get 409, and a spent one 400 `invalid_grant`.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Literal, get_args
from urllib.parse import urlencode

import httpx

from service.providers import errors
from service.providers.base import TokenGrant

# Every scope Fitbit defines; a consent URL asking for another is refused at Fitbit.
Scope = Literal[
    "activity",
    "cardio_fitness",
    "electrocardiogram",
    "heartrate",
    "irregular_rhythm_notifications",
    "location",
    "nutrition",
    "oxygen_saturation",
    "profile",
    "respiratory_rate",
    "settings",
    "sleep",
    "social",
    "temperature",
    "weight",
]
SCOPES: frozenset[str] = frozenset(get_args(Scope))

# Fitbit collection -> the scope that lets us subscribe to and read it.
COLLECTION_SCOPES = {
    "activities": "activity",
    "body": "weight",
    "foods": "nutrition",
    "sleep": "sleep",
}
DEFAULT_SCOPES = ("activity", "heartrate", "nutrition", "profile", "sleep", "weight")


def basic_credentials(client_id: str, client_secret: str) -> str:
    return base64.b64encode(f"{client_id}:{client_secret}".encode()).decode("ascii")


def authorization_url(
    authorize_url: str,
    *,
    client_id: str,
    redirect_uri: str,
    scopes: list[str],
    state: str,
    challenge: str,
) -> str:
    query = {
        "client_id": client_id,
        "response_type": "code",
        "scope": " ".join(scopes),
        "redirect_uri": redirect_uri,
        "state": state,
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    return f"{authorize_url}?{urlencode(query)}"


@dataclass(frozen=True, slots=True)
class OAuthClient:
    """The token endpoints of one Fitbit app."""

    http: httpx.AsyncClient
    api_url: str
    client_id: str
    client_secret: str

    async def exchange_code(self, code: str, redirect_uri: str, verifier: str) -> TokenGrant:
        form = {
            "grant_type": "authorization_code",
            "client_id": self.client_id,
            "code": code,
            "redirect_uri": redirect_uri,
            "code_verifier": verifier,
        }
        return _grant(await self._post("/oauth2/token", form))

    async def refresh(self, refresh_token: str) -> TokenGrant:
        form = {"grant_type": "refresh_token", "refresh_token": refresh_token}
        return _grant(await self._post("/oauth2/token", form))

    async def revoke(self, token: str) -> None:
        await self._post("/oauth2/revoke", {"token": token})

    async def _post(self, path: str, form: dict[str, str]) -> httpx.Response:
        headers = {
            "Authorization": f"Basic {basic_credentials(self.client_id, self.client_secret)}"
        }
        try:
            response = await self.http.post(f"{self.api_url}{path}", data=form, headers=headers)
        except httpx.TransportError as exc:
            raise errors.ProviderUnavailable(
                f"token endpoint unreachable: {type(exc).__name__}"
            ) from None
        _raise_for_status(response)
        return response


def _raise_for_status(response: httpx.Response) -> None:
    if response.is_success:
        return
    kind = _error_type(response)
    if response.status_code == 409:
        raise errors.RefreshConflict("a concurrent refresh of this token is in progress")
    if kind == "invalid_grant":
        raise errors.InvalidGrant("the provider refused the grant (spent or revoked)")
    if response.status_code == 429:
        raise errors.RateLimited("token endpoint rate limited", retry_after=_reset(response))
    if response.status_code >= 500:
        raise errors.ProviderUnavailable(f"token endpoint answered {response.status_code}")
    raise errors.ProviderError(
        f"token endpoint answered {response.status_code} {kind or ''}".strip()
    )


def _error_type(response: httpx.Response) -> str | None:
    """Fitbit's `{"errors": [{"errorType": ...}]}` (or RFC 6749's `{"error": ...}`)."""
    try:
        body = response.json()
    except ValueError:
        return None
    if isinstance(body, dict):
        listed = body.get("errors")
        if isinstance(listed, list) and listed and isinstance(listed[0], dict):
            return str(listed[0].get("errorType") or "") or None
        if isinstance(body.get("error"), str):
            return str(body["error"])
    return None


def _reset(response: httpx.Response) -> float:
    value = response.headers.get("fitbit-rate-limit-reset", "")
    return float(value) if value.isdigit() else 60.0


def _grant(response: httpx.Response) -> TokenGrant:
    body = response.json()
    try:
        refresh = body.get("refresh_token")
        return TokenGrant(
            access_token=str(body["access_token"]),
            # Fitbit always sends the next one (they are single use); without one the stored
            # token stays, as the vault keeps it.
            refresh_token=str(refresh) if refresh else None,
            expires_in=int(body["expires_in"]),
            scopes=frozenset(str(body.get("scope", "")).split()),
            user_id=str(body["user_id"]),
        )
    except (AttributeError, KeyError, TypeError, ValueError):
        raise errors.ProviderError("token endpoint answered without the expected fields") from None
