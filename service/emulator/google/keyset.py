"""The notification signing keys: ECDSA P-256 keys in a Tink keyset.

A notification's signature header is base64(0x01 ‖ 4-byte big-endian key id ‖ DER ECDSA
P-256/SHA-256 signature over the exact body bytes): Tink's `TINK` output prefix, which adds
nothing to the signed message. The public keyset is served as Tink JSON, each key's value
the base64 of an `EcdsaPublicKey` protobuf: field 2 the params (hash SHA256 = 3, curve
NIST_P256 = 2, encoding DER = 2), fields 3 and 4 the big-endian x and y, with a leading zero
byte when the top bit is set, as Tink's Java writer produces them.
"""

from __future__ import annotations

import base64
import secrets
from dataclasses import dataclass
from typing import Any, Literal

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

TYPE_URL = "type.googleapis.com/google.crypto.tink.EcdsaPublicKey"
TINK_PREFIX = b"\x01"
# EcdsaParams{hash_type: SHA256, curve: NIST_P256, encoding: DER}.
PARAMS = bytes([0x08, 0x03, 0x10, 0x02, 0x18, 0x02])

KeysetMode = Literal["normal", "without_primary", "fail"]


@dataclass(frozen=True)
class SigningKey:
    key_id: int
    private: ec.EllipticCurvePrivateKey

    def sign(self, body: bytes) -> bytes:
        """The raw signature bytes: Tink prefix, key id, DER signature."""
        der = self.private.sign(body, ec.ECDSA(hashes.SHA256()))
        return TINK_PREFIX + self.key_id.to_bytes(4, "big") + der

    def header(self, body: bytes) -> str:
        return base64.b64encode(self.sign(body)).decode("ascii")

    def public_value(self) -> str:
        numbers = self.private.public_key().public_numbers()
        proto = (
            _field(2, PARAMS) + _field(3, _unsigned(numbers.x)) + _field(4, _unsigned(numbers.y))
        )
        return base64.b64encode(proto).decode("ascii")


def new_key(taken: set[int]) -> SigningKey:
    key_id = secrets.randbits(31) | 1
    while key_id in taken:
        key_id = secrets.randbits(31) | 1
    return SigningKey(key_id, ec.generate_private_key(ec.SECP256R1()))


def public_keyset(keys: list[SigningKey], primary: int) -> dict[str, Any]:
    """The keyset in Tink's JSON format, public keys only."""
    return {
        "primaryKeyId": primary,
        "key": [
            {
                "keyData": {
                    "typeUrl": TYPE_URL,
                    "value": key.public_value(),
                    "keyMaterialType": "ASYMMETRIC_PUBLIC",
                },
                "status": "ENABLED",
                "keyId": key.key_id,
                "outputPrefixType": "TINK",
            }
            for key in keys
        ],
    }


def _unsigned(value: int) -> bytes:
    """Big-endian, two's-complement-safe (a leading zero when the top bit is set)."""
    return value.to_bytes(value.bit_length() // 8 + 1, "big")


def _field(number: int, payload: bytes) -> bytes:
    """A length-delimited protobuf field."""
    return _varint(number << 3 | 2) + _varint(len(payload)) + payload


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte, value = value & 0x7F, value >> 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


class Keyring:
    """The keys Google signs with: a primary and the ones it rotated away from (kept, so
    notifications signed before a rotation still verify)."""

    def __init__(self) -> None:
        self.keys = [new_key(set())]
        self.primary = self.keys[0]
        self.mode: KeysetMode = "normal"
        self.fail_status = 503

    def rotate(self) -> SigningKey:
        self.primary = new_key({key.key_id for key in self.keys})
        self.keys.append(self.primary)
        return self.primary

    def published(self) -> dict[str, Any]:
        """What the keyset URL serves; `without_primary` leaves the signing key out, as a
        keyset cached before a rotation would."""
        if self.mode != "without_primary":
            return public_keyset(self.keys, self.primary.key_id)
        older = [key for key in self.keys if key is not self.primary]
        return public_keyset(older, older[-1].key_id if older else self.primary.key_id)
