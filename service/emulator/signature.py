"""Fitbit's notification signature: base64(HMAC-SHA1(raw body, key = client_secret + "&"))."""

from __future__ import annotations

import base64
import hashlib
import hmac


def sign(body: bytes, client_secret: str) -> str:
    """The `X-Fitbit-Signature` header for these exact body bytes."""
    digest = hmac.new(f"{client_secret}&".encode(), body, hashlib.sha1).digest()
    return base64.b64encode(digest).decode("ascii")
