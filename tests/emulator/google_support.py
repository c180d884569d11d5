"""Helpers for the Google Health mode's tests: a subscriber endpoint that answers the
verification handshake like a real one, and an independent check of the signatures (the
Tink keyset parsed here with `cryptography`, not with the emulator's code)."""

from __future__ import annotations

import base64
import hmac
import json
import threading
from dataclasses import dataclass, field
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from starlette.requests import Request
from starlette.responses import Response

SECRET = "Bearer test-webhook-secret"


@dataclass
class Got:
    headers: dict[str, str]
    body: bytes


@dataclass
class GoogleReceiver:
    """Answers `{"type": "verification"}` with 201 when the secret is right and 401 when not
    (or 200 to everything when `lax`), and 204 to notifications."""

    url: str = ""
    secret: str = SECRET
    lax: bool = False
    status: int = 204
    received: list[Got] = field(default_factory=list)
    arrived: threading.Event = field(default_factory=threading.Event)

    def clear(self) -> None:
        self.secret, self.lax, self.status = SECRET, False, 204
        self.received.clear()
        self.arrived.clear()

    def notifications(self) -> list[Got]:
        return [got for got in self.received if json.loads(got.body) != {"type": "verification"}]

    async def webhook(self, request: Request) -> Response:
        body = await request.body()
        self.received.append(Got(dict(request.headers), body))
        if json.loads(body) == {"type": "verification"}:
            if self.lax:
                return Response(status_code=200)
            given = request.headers.get("authorization", "")
            right = hmac.compare_digest(given.encode(), self.secret.encode())
            return Response(status_code=201 if right else 401)
        self.arrived.set()
        return Response(status_code=self.status)


def _varint(buf: bytes, i: int) -> tuple[int, int]:
    shift = value = 0
    while True:
        byte = buf[i]
        i += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, i
        shift += 7


def public_key(value_b64: str) -> ec.EllipticCurvePublicKey:
    """An EcdsaPublicKey protobuf (Tink) as a `cryptography` key."""
    proto, fields, i = base64.b64decode(value_b64), {}, 0
    while i < len(proto):
        tag, i = _varint(proto, i)
        number, wire = tag >> 3, tag & 7
        assert wire == 2, "EcdsaPublicKey has only length-delimited fields"
        size, i = _varint(proto, i)
        fields[number], i = proto[i : i + size], i + size
    assert fields[2] == bytes([0x08, 0x03, 0x10, 0x02, 0x18, 0x02])  # SHA256, P-256, DER
    x, y = int.from_bytes(fields[3], "big"), int.from_bytes(fields[4], "big")
    return ec.EllipticCurvePublicNumbers(x, y, ec.SECP256R1()).public_key()


def key_id(header: str) -> int:
    return int.from_bytes(base64.b64decode(header)[1:5], "big")


def verifies(body: bytes, header: str, keyset: dict[str, Any]) -> bool:
    raw = base64.b64decode(header, validate=True)
    if raw[0] != 0x01:
        return False
    wanted = int.from_bytes(raw[1:5], "big")
    for key in keyset["key"]:
        if key["keyId"] == wanted and key["outputPrefixType"] == "TINK":
            try:
                public_key(key["keyData"]["value"]).verify(raw[5:], body, ec.ECDSA(hashes.SHA256()))
            except InvalidSignature:
                return False
            return True
    return False
