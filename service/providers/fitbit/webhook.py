"""Fitbit's side of the subscriber endpoint: the verification challenge and signed pushes.

Fitbit verifies a subscriber with `GET ?verify=<code>` twice, expecting 204 for the right code
and 404 for a wrong one. Pushes carry `X-Fitbit-Signature`; an unsigned or mis-signed push is
answered 404, as Fitbit documents.
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping, Sequence

from service.providers.fitbit import signature

SIGNATURE_HEADER = "x-fitbit-signature"
VERIFY_PARAMETER = "verify"


def is_verified(codes: Sequence[str], expected: str) -> bool:
    """True only for exactly one, non-empty, matching code (compared in constant time)."""
    if len(codes) != 1 or not codes[0] or not expected:
        return False
    return hmac.compare_digest(codes[0].encode(), expected.encode())


def authenticate(
    headers: Mapping[str, str], body: bytes, client_secret: str
) -> signature.SignatureProblem | None:
    return signature.check(body, headers.get(SIGNATURE_HEADER), client_secret)
