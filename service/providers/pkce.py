"""PKCE for the authorization code grant (RFC 7636, S256), the same for every provider."""

from __future__ import annotations

import base64
import hashlib
import secrets


def code_verifier() -> str:
    """43-128 characters of the unreserved set: 64 random bytes, url-safe base64, 86 chars."""
    return secrets.token_urlsafe(64)


def code_challenge(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")
