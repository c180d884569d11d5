"""Authorization codes and tokens under Fitbit's rules (RFC 6749, RFC 7636, RFC 7662).

- A code is single use and lives 10 minutes; its redirect_uri and PKCE challenge must match.
- An access token lives `access_token_ttl_seconds`; after that it answers 401 expired_token.
- A refresh token never expires but is single use. Repeating the identical refresh within
  2 minutes returns the identical answer (a client that lost the response can recover); a
  refresh of a token whose first refresh is still running gets 409; any other use of a spent
  token is 400 invalid_grant.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from service.emulator import oauth
from service.emulator.errors import OAUTH_DOCS, FitbitError, invalid_grant
from service.emulator.models import TokenAnswer

CODE_LIFETIME = timedelta(minutes=10)
REPLAY_WINDOW = timedelta(minutes=2)


@dataclass(frozen=True)
class Code:
    user_id: str
    client_id: str
    redirect_uri: str | None
    scopes: frozenset[str]
    challenge: str | None
    method: str
    issued_at: datetime


@dataclass
class AccessToken:
    client_id: str
    # None for an app token from the client_credentials grant.
    user_id: str | None
    scopes: frozenset[str]
    issued_at: datetime
    expires_at: datetime
    revoked: bool = False


@dataclass
class RefreshToken:
    client_id: str
    user_id: str
    scopes: frozenset[str]
    spent_at: datetime | None = None
    answer: TokenAnswer | None = None
    revoked: bool = False


class TokenStore:
    def __init__(self) -> None:
        self._key = secrets.token_bytes(32)
        self._codes: dict[str, Code] = {}
        self._access: dict[str, AccessToken] = {}
        self._refresh: dict[str, RefreshToken] = {}
        self._refreshing: set[str] = set()

    def issue_code(self, code: Code) -> str:
        value = oauth.mint_opaque(20)
        self._codes[value] = code
        return value

    def redeem_code(
        self, value: str, *, client_id: str, redirect_uri: str | None, now: datetime
    ) -> Code:
        """The code's grant, spent now; PKCE is the caller's to check against `Code`."""
        code = self._codes.pop(value, None)
        if code is None or code.client_id != client_id:
            raise invalid_grant(f"Authorization code invalid: {value}")
        if now - code.issued_at > CODE_LIFETIME:
            raise invalid_grant(f"Authorization code expired: {value}")
        if code.redirect_uri is not None and redirect_uri != code.redirect_uri:
            raise invalid_grant("Invalid redirect_uri parameter value.")
        return code

    def issue(
        self, *, user_id: str, client_id: str, scopes: frozenset[str], now: datetime, ttl: int
    ) -> TokenAnswer:
        access = self._mint_access(client_id, user_id, scopes, now, ttl)
        refresh = oauth.mint_opaque()
        self._refresh[refresh] = RefreshToken(client_id, user_id, scopes)
        return TokenAnswer(
            access_token=access,
            expires_in=ttl,
            refresh_token=refresh,
            scope=oauth.scope_text(scopes),
            user_id=user_id,
        )

    def issue_app_token(self, client_id: str, now: datetime, ttl: int) -> dict[str, Any]:
        access = self._mint_access(client_id, None, frozenset(), now, ttl)
        return {"access_token": access, "expires_in": ttl, "token_type": "Bearer"}

    def _mint_access(
        self, client_id: str, user_id: str | None, scopes: frozenset[str], now: datetime, ttl: int
    ) -> str:
        expires = now + timedelta(seconds=ttl)
        subject = user_id or client_id
        value = oauth.mint_access_token(
            self._key,
            subject=subject,
            client_id=client_id,
            scopes=scopes,
            issued=now,
            expires=expires,
        )
        self._access[value] = AccessToken(client_id, user_id, scopes, now, expires)
        return value

    @contextmanager
    def refreshing(self, value: str) -> Iterator[None]:
        """Mark a refresh of `value` as running; a second one meanwhile gets 409."""
        if value in self._refreshing:
            raise FitbitError(409, "conflict", "A refresh of this token is already in progress.")
        self._refreshing.add(value)
        try:
            yield
        finally:
            self._refreshing.discard(value)

    def refresh(self, value: str, *, client_id: str, now: datetime, ttl: int) -> TokenAnswer:
        record = self._refresh.get(value)
        if record is None or record.revoked or record.client_id != client_id:
            raise invalid_grant(f"Refresh token invalid: {value}.")
        if record.spent_at is not None:
            if record.answer is not None and now - record.spent_at <= REPLAY_WINDOW:
                return record.answer
            raise invalid_grant(f"Refresh token invalid: {value}.")
        answer = self.issue(
            user_id=record.user_id, client_id=client_id, scopes=record.scopes, now=now, ttl=ttl
        )
        record.spent_at, record.answer = now, answer
        return answer

    def authenticate(self, value: str, now: datetime) -> AccessToken:
        token = self._access.get(value)
        if token is None or token.revoked:
            raise _unauthorized("invalid_token", f"Access token invalid: {value}. {OAUTH_DOCS}")
        if now >= token.expires_at:
            raise _unauthorized("expired_token", f"Access token expired: {value}. {OAUTH_DOCS}")
        return token

    def owner(self, value: str) -> str | None:
        """The user an access or refresh token belongs to, if it is one of ours."""
        access = self._access.get(value)
        if access is not None:
            return access.user_id
        refresh = self._refresh.get(value)
        return refresh.user_id if refresh is not None else None

    def revoke_user(self, user_id: str) -> None:
        tokens: list[AccessToken | RefreshToken] = [*self._access.values(), *self._refresh.values()]
        for token in tokens:
            if token.user_id == user_id:
                token.revoked = True

    def introspect(self, value: str, now: datetime) -> dict[str, Any]:
        token = self._access.get(value)
        if token is None or token.revoked or now >= token.expires_at:
            return {"active": False}
        return {
            "active": True,
            "scope": oauth.introspection_scope(token.scopes),
            "client_id": token.client_id,
            "user_id": token.user_id or "",
            "token_type": "access_token",
            # Fitbit gives both instants in milliseconds.
            "exp": int(token.expires_at.timestamp() * 1000),
            "iat": int(token.issued_at.timestamp() * 1000),
        }


def _unauthorized(error_type: str, message: str) -> FitbitError:
    headers = {"WWW-Authenticate": 'Bearer realm="api.fitbit.com"'}
    return FitbitError(401, error_type, message, headers=headers)
