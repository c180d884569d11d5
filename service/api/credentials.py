"""Client secrets and bearer tokens: generating them, and storing only what cannot be reversed.

Client secrets get a slow, salted hash (scrypt) because they live for months and a leaked
table must not let anyone try guesses quickly. Tokens are 256 random bits, so a fast SHA-256
digest is enough to make the stored value useless to a reader of the table.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from functools import cache

# scrypt cost: 16 MiB and ~50 ms per check, run off the event loop by callers.
_N, _R, _P = 2**14, 8, 1
_SALT_BYTES = 16
_KEY_BYTES = 32
_SCHEME = "scrypt"


def new_client_id() -> str:
    """A public identifier: random so ids reveal nothing, and free of `:` for HTTP Basic."""
    return secrets.token_urlsafe(16)


def new_secret() -> str:
    return secrets.token_urlsafe(32)


new_token = new_secret


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def hash_secret(secret: str) -> str:
    """`scrypt$N$r$p$salt$key`, each part needed to check a secret later."""
    salt = secrets.token_bytes(_SALT_BYTES)
    key = _scrypt(secret, salt, _N, _R, _P)
    return "$".join([_SCHEME, str(_N), str(_R), str(_P), _b64(salt), _b64(key)])


def verify_secret(secret: str, stored: str | None) -> bool:
    """Whether `secret` matches `stored`, compared in constant time.

    With nothing stored (an unknown client) the check still runs, against a decoy, so that
    answer takes as long as a wrong secret does.
    """
    if stored is None:
        verify_secret(secret, decoy_hash())
        return False
    try:
        scheme, n, r, p, salt, key = stored.split("$")
        expected = base64.urlsafe_b64decode(key)
        given = _scrypt(secret, base64.urlsafe_b64decode(salt), int(n), int(r), int(p))
    except ValueError:
        return False
    return scheme == _SCHEME and hmac.compare_digest(given, expected)


@cache
def decoy_hash() -> str:
    return hash_secret(new_secret())


def _scrypt(secret: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(
        secret.encode(), salt=salt, n=n, r=r, p=p, dklen=_KEY_BYTES, maxmem=64 * 1024 * 1024
    )


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode()
