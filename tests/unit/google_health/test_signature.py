"""Google Health webhook signatures, from a Tink keyset generated here."""

from __future__ import annotations

import base64
import json

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from service.providers.google_health import keyset, signature
from service.providers.google_health.signature import Refusal

BODY = json.dumps({"data": {"healthUserId": "u1", "dataType": "steps"}}).encode()


def _key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _keys(**by_id: ec.EllipticCurvePrivateKey) -> keyset.Keys:
    public = {int(key_id[1:]): key.public_key() for key_id, key in by_id.items()}
    return keyset.parse_keyset(keyset.keyset_document(public))


def test_a_signature_by_a_key_of_the_keyset_is_accepted() -> None:
    key = _key()
    header = signature.sign(BODY, 7, key)
    assert signature.check(BODY, header, _keys(k7=key)) is None


def test_a_tampered_body_is_refused() -> None:
    key = _key()
    header = signature.sign(BODY, 7, key)
    assert signature.check(BODY + b" ", header, _keys(k7=key)) is Refusal.BAD_SIGNATURE
    assert signature.check(BODY.replace(b"u1", b"u2"), header, _keys(k7=key)) is (
        Refusal.BAD_SIGNATURE
    )


def test_a_key_id_the_keyset_lacks_is_unknown() -> None:
    key = _key()
    header = signature.sign(BODY, 8, key)
    assert signature.check(BODY, header, _keys(k7=key)) is Refusal.UNKNOWN_KEY


def test_a_signature_by_another_key_under_a_known_id_is_refused() -> None:
    header = signature.sign(BODY, 7, _key())
    assert signature.check(BODY, header, _keys(k7=_key())) is Refusal.BAD_SIGNATURE


def test_a_rotated_keyset_accepts_old_and_new_keys() -> None:
    old, new = _key(), _key()
    keys = _keys(k2=new, k1=old)
    assert signature.check(BODY, signature.sign(BODY, 1, old), keys) is None
    assert signature.check(BODY, signature.sign(BODY, 2, new), keys) is None


@pytest.mark.parametrize(
    ("header", "refusal"),
    [
        (None, Refusal.SIGNATURE_MISSING),
        ("", Refusal.SIGNATURE_MISSING),
        ("not base64!", Refusal.SIGNATURE_MALFORMED),
        (base64.b64encode(b"\x01\x00\x00\x00\x07").decode(), Refusal.SIGNATURE_MALFORMED),
        (base64.b64encode(b"\x00\x00\x00\x00\x07sig").decode(), Refusal.SIGNATURE_MALFORMED),
    ],
)
def test_malformed_headers_are_named(header: str | None, refusal: Refusal) -> None:
    assert signature.check(BODY, header, _keys(k7=_key())) is refusal


def test_the_header_carries_the_tink_prefix_and_a_der_signature() -> None:
    key = _key()
    raw = base64.b64decode(signature.sign(BODY, 0x01020304, key))
    assert raw[:5] == b"\x01\x01\x02\x03\x04"
    r, s = decode_dss_signature(raw[5:])  # parses as ASN.1 DER
    assert min(r, s) > 0


def test_an_unpadded_header_is_read() -> None:
    key = _key()
    header = signature.sign(BODY, 7, key).rstrip("=")
    assert signature.check(BODY, header, _keys(k7=key)) is None


def test_both_header_names_are_read_in_any_case() -> None:
    assert signature.signature_header({"X-HEALTHAPI-SIGNATURE": "a"}) == "a"
    assert signature.signature_header({"x-healthapi-signature": "b"}) == "b"
    assert signature.signature_header({"Google-Health-Api-Signature": "c"}) == "c"
    assert signature.signature_header({"X-Fitbit-Signature": "d"}) is None


def test_the_secret_is_compared_whole() -> None:
    assert signature.secret_refusal("Bearer s3cret", "Bearer s3cret") is None
    assert signature.secret_refusal(None, "Bearer s3cret") is Refusal.SECRET_MISSING
    assert signature.secret_refusal("", "Bearer s3cret") is Refusal.SECRET_MISSING
    assert signature.secret_refusal("Bearer s3cre", "Bearer s3cret") is Refusal.SECRET_MISMATCH
    assert signature.secret_refusal("s3cret", "Bearer s3cret") is Refusal.SECRET_MISMATCH
    assert signature.secret_refusal("x", "") is Refusal.SECRET_MISMATCH


def test_the_proto_carries_the_params_google_publishes() -> None:
    # FACTS §4.2: a real key's params decode to 08 03 10 02 18 02 (SHA256, NIST_P256, DER).
    value = keyset.encode_public_key(_key().public_key())
    assert bytes.fromhex("1206080310021802") in base64.b64decode(value)
    public_key, encoding = keyset.ecdsa_public_key(value)
    assert encoding is keyset.Encoding.DER
    assert public_key.curve.name == "secp256r1"


def test_an_ieee_p1363_key_verifies_raw_signatures() -> None:
    key = _key()
    proto = bytearray(base64.b64decode(keyset.encode_public_key(key.public_key())))
    assert proto[4:10] == bytes.fromhex("080310021802")  # version 0, then the params
    proto[9] = keyset.Encoding.IEEE_P1363
    document = keyset.keyset_document({5: key.public_key()})
    document["key"][0]["keyData"]["value"] = base64.b64encode(bytes(proto)).decode()
    keys = keyset.parse_keyset(document)
    r, s = decode_dss_signature(base64.b64decode(signature.sign(BODY, 5, key))[5:])
    raw = b"\x01" + (5).to_bytes(4, "big") + r.to_bytes(32, "big") + s.to_bytes(32, "big")
    assert signature.check(BODY, base64.b64encode(raw).decode(), keys) is None


def test_only_enabled_tink_ecdsa_keys_are_kept() -> None:
    document = keyset.keyset_document({1: _key().public_key(), 2: _key().public_key()})
    document["key"][1]["status"] = "DISABLED"
    document["key"].append({"keyId": 3, "status": "ENABLED", "outputPrefixType": "TINK"})
    document["key"].append({**document["key"][0], "keyId": 4, "outputPrefixType": "LEGACY"})
    assert set(keyset.parse_keyset(document)) == {1}


def test_a_key_off_the_curve_is_skipped() -> None:
    document = keyset.keyset_document({1: _key().public_key()})
    proto = bytearray(base64.b64decode(document["key"][0]["keyData"]["value"]))
    proto[-1] ^= 0x01  # y no longer matches x
    document["key"][0]["keyData"]["value"] = base64.b64encode(bytes(proto)).decode()
    assert keyset.parse_keyset(document) == {}


@pytest.mark.parametrize("document", [None, [], {}, {"key": "x"}])
def test_a_document_that_is_no_keyset_is_refused(document: object) -> None:
    with pytest.raises(keyset.InvalidKeyset):
        keyset.parse_keyset(document)


def test_a_key_whose_point_is_a_varint_is_refused_not_a_crash() -> None:
    params = bytes([0x08, 0x03, 0x10, 0x02, 0x18, 0x02])  # SHA256, NIST_P256, DER
    proto = bytes([0x12, len(params)]) + params + bytes([0x18, 0x05, 0x20, 0x07])  # x, y varints
    with pytest.raises(keyset.InvalidKeyset):
        keyset.ecdsa_public_key(base64.b64encode(proto).decode())
