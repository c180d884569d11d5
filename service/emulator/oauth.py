"""Pure OAuth 2.0 pieces (RFC 6749, RFC 7636 PKCE) in Fitbit's dialect: scopes, client
credentials in a Basic header, and JWT-shaped access tokens like the ones Fitbit issues.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
import secrets
from collections.abc import Iterable
from datetime import datetime

# Fitbit's scopes, with the short codes its access tokens carry in the `scopes` claim.
SCOPE_CODES = {
    "activity": "wact",
    "cardio_fitness": "wcf",
    "electrocardiogram": "wecg",
    "heartrate": "whr",
    "irregular_rhythm_notifications": "wirn",
    "location": "wloc",
    "nutrition": "wnut",
    "oxygen_saturation": "wspo2",
    "profile": "wpro",
    "respiratory_rate": "wrr",
    "settings": "wset",
    "sleep": "wsle",
    "social": "wsoc",
    "temperature": "wtem",
    "weight": "wwei",
}
SCOPES = frozenset(SCOPE_CODES)

# RFC 7636 §4.1: 43 to 128 characters from the unreserved set.
_VERIFIER = re.compile(r"^[A-Za-z0-9\-._~]{43,128}$")


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def s256_challenge(verifier: str) -> str:
    """The S256 code challenge for a PKCE code verifier."""
    return b64url(hashlib.sha256(verifier.encode("ascii")).digest())


def pkce_matches(verifier: str, challenge: str, method: str) -> bool:
    if not _VERIFIER.match(verifier):
        return False
    expected = s256_challenge(verifier) if method == "S256" else verifier
    return hmac.compare_digest(expected, challenge)


def basic_credentials(client_id: str, client_secret: str) -> str:
    """The token that follows `Basic ` in the Authorization header of a server app."""
    return base64.b64encode(f"{client_id}:{client_secret}".encode()).decode("ascii")


def parse_basic(header: str) -> tuple[str, str] | None:
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(token.strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None
    client_id, sep, secret = decoded.partition(":")
    return (client_id, secret) if sep else None


def parse_scope(text: str) -> frozenset[str]:
    """Scopes from a space-separated list (`+` arrives as a space once URL-decoded)."""
    return frozenset(text.replace(",", " ").split())


def scope_text(scopes: Iterable[str]) -> str:
    return " ".join(sorted(scopes))


def introspection_scope(scopes: Iterable[str]) -> str:
    """Fitbit's introspection spelling: `{ACTIVITY=READ_WRITE, SLEEP=READ_WRITE}`."""
    return "{" + ", ".join(f"{scope.upper()}=READ_WRITE" for scope in sorted(scopes)) + "}"


def mint_access_token(
    key: bytes,
    *,
    subject: str,
    client_id: str,
    scopes: Iterable[str],
    issued: datetime,
    expires: datetime,
) -> str:
    """An HS256 JWT with Fitbit's claims; the emulator looks tokens up, it never trusts them."""
    claims = {
        "aud": client_id,
        "sub": subject,
        "iss": "Fitbit",
        "typ": "access_token",
        "scopes": " ".join(SCOPE_CODES.get(scope, scope) for scope in sorted(scopes)),
        "exp": int(expires.timestamp()),
        "iat": int(issued.timestamp()),
        "jti": secrets.token_hex(8),
    }
    head = b64url(json.dumps({"alg": "HS256"}, separators=(",", ":")).encode())
    body = b64url(json.dumps(claims, separators=(",", ":")).encode())
    mac = hmac.new(key, f"{head}.{body}".encode(), hashlib.sha256).digest()
    return f"{head}.{body}.{b64url(mac)}"


def mint_opaque(nbytes: int = 32) -> str:
    """Refresh tokens and authorization codes: 64 hex characters, as Fitbit's are."""
    return secrets.token_hex(nbytes)
