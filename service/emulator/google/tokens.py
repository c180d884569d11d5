"""Authorization codes and tokens under Google's rules.

- A code is single use and lives 10 minutes; its redirect_uri and PKCE challenge must match.
- An access token lives an hour (`access_token_ttl_seconds`), then answers 401.
- A refresh token is not rotated: a refresh answers a new access token and no refresh token,
  and the same refresh token keeps working until the grant is revoked. A user may hold
  several live refresh tokens (one per offline consent).
- Revoking any token of a grant (access or refresh) revokes the grant: every token of that
  user for that client stops working.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from service.emulator.google import oauth
from service.emulator.google.errors import OAuthError

CODE_LIFETIME = timedelta(minutes=10)


@dataclass(frozen=True)
class Code:
    user_id: str
    client_id: str
    redirect_uri: str
    scopes: frozenset[str]
    challenge: str | None
    method: str
    offline: bool
    issued_at: datetime


@dataclass
class AccessToken:
    user_id: str
    client_id: str
    scopes: frozenset[str]
    expires_at: datetime
    revoked: bool = False


@dataclass
class RefreshToken:
    user_id: str
    client_id: str
    scopes: frozenset[str]
    revoked: bool = False


@dataclass(frozen=True)
class Issued:
    access_token: str
    expires_in: int
    scopes: frozenset[str]
    refresh_token: str | None


class TokenStore:
    def __init__(self) -> None:
        self._codes: dict[str, Code] = {}
        self._access: dict[str, AccessToken] = {}
        self._refresh: dict[str, RefreshToken] = {}

    def issue_code(self, code: Code) -> str:
        value = oauth.mint_code()
        self._codes[value] = code
        return value

    def redeem_code(self, value: str, client_id: str, now: datetime) -> Code:
        code = self._codes.pop(value, None)
        if code is None or code.client_id != client_id or now - code.issued_at > CODE_LIFETIME:
            raise OAuthError(400, "invalid_grant", "Malformed auth code.")
        return code

    def issue(
        self,
        user_id: str,
        client_id: str,
        scopes: frozenset[str],
        *,
        now: datetime,
        ttl: int,
        offline: bool,
    ) -> Issued:
        refresh = None
        if offline:
            refresh = oauth.mint_refresh_token()
            self._refresh[refresh] = RefreshToken(user_id, client_id, scopes)
        return self._access_token(user_id, client_id, scopes, now, ttl, refresh)

    def refresh(self, value: str, client_id: str, *, now: datetime, ttl: int) -> Issued:
        grant = self._refresh.get(value)
        if grant is None or grant.revoked or grant.client_id != client_id:
            raise OAuthError(400, "invalid_grant", "Token has been expired or revoked.")
        return self._access_token(grant.user_id, client_id, grant.scopes, now, ttl, None)

    def _access_token(
        self,
        user_id: str,
        client_id: str,
        scopes: frozenset[str],
        now: datetime,
        ttl: int,
        refresh: str | None,
    ) -> Issued:
        value = oauth.mint_access_token()
        expires = now + timedelta(seconds=ttl)
        self._access[value] = AccessToken(user_id, client_id, scopes, expires)
        # Google reports a second less than the lifetime, as its token endpoint does.
        return Issued(value, ttl - 1, scopes, refresh)

    def access(self, value: str) -> AccessToken | None:
        return self._access.get(value)

    def has_offline_grant(self, user_id: str, client_id: str) -> bool:
        return any(
            not grant.revoked and grant.user_id == user_id and grant.client_id == client_id
            for grant in self._refresh.values()
        )

    def revoke(self, value: str) -> str | None:
        """Revoke the grant this token belongs to; the user's id, or None if unknown."""
        token = self._access.get(value) or self._refresh.get(value)
        if token is None or token.revoked:
            return None
        self.revoke_user(token.user_id, token.client_id)
        return token.user_id

    def revoke_user(self, user_id: str, client_id: str | None = None) -> None:
        tokens: list[AccessToken | RefreshToken] = [*self._access.values(), *self._refresh.values()]
        for token in tokens:
            if token.user_id == user_id and client_id in (None, token.client_id):
                token.revoked = True
