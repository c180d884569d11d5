"""Fitbit's HMAC-SHA1 signature, from the published vector and independent computation."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json

from hypothesis import given
from hypothesis import strategies as st

from service.providers.fitbit import signature
from service.providers.fitbit.signature import SignatureProblem
from tests.conftest import SHARED

VECTOR = json.loads((SHARED / "fitbit/examples/strict/x-fitbit-signature-vector.json").read_text())
BODY = (SHARED / "fitbit/examples/strict" / VECTOR["body_file"]).read_bytes()
SECRET = VECTOR["client_secret"]


def independent(body: bytes, secret: str) -> str:
    mac = hmac.new(secret.encode() + b"&", body, hashlib.sha1)
    return base64.b64encode(mac.digest()).decode()


def test_published_vector() -> None:
    assert len(BODY) == VECTOR["body_length"]
    assert signature.sign(BODY, SECRET) == VECTOR["expected_x_fitbit_signature"]
    assert signature.check(BODY, VECTOR["expected_x_fitbit_signature"], SECRET) is None


def test_problems_are_named() -> None:
    good = independent(BODY, SECRET)
    assert signature.check(BODY, None, SECRET) is SignatureProblem.MISSING
    assert signature.check(BODY, "", SECRET) is SignatureProblem.MISSING
    assert signature.check(BODY, "%%%", SECRET) is SignatureProblem.MALFORMED
    assert signature.check(BODY + b" ", good, SECRET) is SignatureProblem.MISMATCH
    assert signature.check(BODY, good, SECRET + "x") is SignatureProblem.MISMATCH


@given(body=st.binary(max_size=2048), secret=st.text(min_size=1, max_size=64))
def test_valid_signatures_are_accepted(body: bytes, secret: str) -> None:
    assert signature.check(body, independent(body, secret), secret) is None


@given(
    body=st.binary(min_size=1, max_size=512),
    position=st.integers(min_value=0),
    flip=st.integers(min_value=1, max_value=255),
)
def test_any_body_mutation_is_rejected(body: bytes, position: int, flip: int) -> None:
    good = independent(body, SECRET)
    index = position % len(body)
    mutated = body[:index] + bytes([body[index] ^ flip]) + body[index + 1 :]
    assert signature.check(mutated, good, SECRET) is SignatureProblem.MISMATCH


@given(
    position=st.integers(min_value=0, max_value=19), flip=st.integers(min_value=1, max_value=255)
)
def test_any_signature_mutation_is_rejected(position: int, flip: int) -> None:
    digest = bytearray(base64.b64decode(independent(BODY, SECRET)))
    digest[position] ^= flip
    assert signature.check(BODY, base64.b64encode(digest).decode(), SECRET) is not None
