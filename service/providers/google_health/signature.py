"""Google Health webhook authentication: the ECDSA signature header and the `Authorization` secret.

Every push carries (FACTS §4.2)

    X-HEALTHAPI-SIGNATURE: base64( 0x01 ‖ key id (4 bytes, big-endian) ‖ ECDSA signature )

an ECDSA P-256 / SHA-256 signature (ASN.1 DER) over the raw body bytes as sent, made with a key
of Google's Tink public keyset (`keyset.py`). Discovery names the header
`GOOGLE-HEALTH-API-SIGNATURE` while the REST reference and the live API say
`X-HEALTHAPI-SIGNATURE`; both are read, case-insensitively (FACTS §8.1).

Google also sends the subscriber's configured secret as the whole `Authorization` header value
(`"Bearer xyz"`). The signature proves Google sent the body but not that it was meant for us,
so both are checked, the signature first (FACTS §8.2: should a push ever arrive validly signed
but without the secret, it is refused with its own reason, `SECRET_MISSING`, so the logs show a
configuration question rather than an attack). Refusals name what is wrong, never a secret.
"""

from __future__ import annotations

import base64
import binascii
import enum
import hmac
from collections.abc import Mapping

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from service.providers.google_health.keyset import (
    Encoding,
    Keys,
    KeysetCache,
    KeysetUnavailable,
)

SIGNATURE_HEADERS = ("x-healthapi-signature", "google-health-api-signature")
AUTHORIZATION_HEADER = "authorization"
TINK_PREFIX = 0x01
PREFIX_SIZE = 5
_ALGORITHM = ec.ECDSA(hashes.SHA256())


class Refusal(enum.Enum):
    """Why a request was not accepted as Google's: for logs and metrics."""

    SIGNATURE_MISSING = "signature_missing"
    SIGNATURE_MALFORMED = "signature_malformed"
    UNKNOWN_KEY = "unknown_key"
    BAD_SIGNATURE = "bad_signature"
    KEYSET_UNAVAILABLE = "keyset_unavailable"
    SECRET_MISSING = "secret_missing"  # noqa: S105 - a reason, not a secret
    SECRET_MISMATCH = "secret_mismatch"  # noqa: S105


def signature_header(headers: Mapping[str, str]) -> str | None:
    """The signature header's value under either of its names, whatever their case."""
    for name, value in headers.items():
        if name.lower() in SIGNATURE_HEADERS:
            return value
    return None


def authorization_header(headers: Mapping[str, str]) -> str | None:
    for name, value in headers.items():
        if name.lower() == AUTHORIZATION_HEADER:
            return value
    return None


def secret_refusal(given: str | None, expected: str) -> Refusal | None:
    """None when `given` is the configured secret (compared in constant time)."""
    if not given:
        return Refusal.SECRET_MISSING
    if not expected or not hmac.compare_digest(given.encode(), expected.encode()):
        return Refusal.SECRET_MISMATCH
    return None


def decode(header: str | None) -> tuple[int, bytes] | Refusal:
    """The key id and signature bytes the header carries, or what is wrong with it."""
    if not header:
        return Refusal.SIGNATURE_MISSING
    text = header.strip()
    try:
        raw = base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    except (binascii.Error, ValueError):
        return Refusal.SIGNATURE_MALFORMED
    if len(raw) <= PREFIX_SIZE or raw[0] != TINK_PREFIX:
        return Refusal.SIGNATURE_MALFORMED
    return int.from_bytes(raw[1:PREFIX_SIZE], "big"), raw[PREFIX_SIZE:]


def check(body: bytes, header: str | None, keys: Keys) -> Refusal | None:
    """None when `header` is a valid signature of `body` by one of `keys`. Pure, no I/O."""
    decoded = decode(header)
    if isinstance(decoded, Refusal):
        return decoded
    return check_decoded(body, *decoded, keys)


def check_decoded(body: bytes, key_id: int, signature: bytes, keys: Keys) -> Refusal | None:
    """`check` of a header already taken apart by `decode`."""
    key = keys.get(key_id)
    if key is None:
        return Refusal.UNKNOWN_KEY
    if key.encoding is Encoding.IEEE_P1363:
        if len(signature) != 64:
            return Refusal.SIGNATURE_MALFORMED
        r, s = int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
        signature = encode_dss_signature(r, s)
    try:
        key.public_key.verify(signature, body, _ALGORITHM)
    except InvalidSignature:
        return Refusal.BAD_SIGNATURE
    return None


async def verify(body: bytes, header: str | None, cache: KeysetCache) -> Refusal | None:
    """`check` against the cached keyset, refetched once when the key id is unknown; the
    header is decoded once, before the keyset is asked for its key id."""
    decoded = decode(header)
    if isinstance(decoded, Refusal):
        return decoded
    key_id, signature = decoded
    try:
        keys = await cache.keys()
        if key_id not in keys:
            keys = await cache.refetch_for(key_id)
    except KeysetUnavailable:
        return Refusal.KEYSET_UNAVAILABLE
    return check_decoded(body, key_id, signature, keys)


async def authenticate(
    headers: Mapping[str, str], body: bytes, cache: KeysetCache, secret: str
) -> Refusal | None:
    """None for a push that Google signed and that carries our secret; else the first refusal."""
    refusal = await verify(body, signature_header(headers), cache)
    return refusal or secret_refusal(authorization_header(headers), secret)


def sign(body: bytes, key_id: int, private_key: ec.EllipticCurvePrivateKey) -> str:
    """The header Google would send for `body` (for tests and anything playing Google)."""
    signature = private_key.sign(body, _ALGORITHM)
    prefix = bytes([TINK_PREFIX]) + key_id.to_bytes(4, "big")
    return base64.b64encode(prefix + signature).decode("ascii")
