"""Fitbit's `X-Fitbit-Signature`: base64(HMAC-SHA1(raw body, client_secret + "&")).

Pure functions: no I/O, no framework. The signature covers the raw bytes as sent, so it is
never computed over re-serialised JSON.
"""

from __future__ import annotations

import base64
import binascii
import enum
import hashlib
import hmac


class SignatureProblem(enum.Enum):
    MISSING = "missing"
    MALFORMED = "malformed"
    MISMATCH = "mismatch"


def sign(body: bytes, client_secret: str) -> str:
    key = (client_secret + "&").encode()
    return base64.b64encode(hmac.new(key, body, hashlib.sha1).digest()).decode("ascii")


def check(body: bytes, signature: str | None, client_secret: str) -> SignatureProblem | None:
    """None when `signature` is Fitbit's for `body`, else what is wrong with it."""
    if not signature:
        return SignatureProblem.MISSING
    try:
        given = base64.b64decode(signature, validate=True)
    except (binascii.Error, ValueError):
        return SignatureProblem.MALFORMED
    # Decoding ignores the spare bits of the last base64 digit, so several texts decode to
    # one digest; only the one Fitbit writes is accepted.
    if base64.b64encode(given).decode("ascii") != signature:
        return SignatureProblem.MALFORMED
    key = (client_secret + "&").encode()
    expected = hmac.new(key, body, hashlib.sha1).digest()
    return None if hmac.compare_digest(given, expected) else SignatureProblem.MISMATCH
