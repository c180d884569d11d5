"""`X-Fitbit-Signature` under mutation: for any body and secret the valid signature is accepted,
and any change to the body's bytes or to the signature's text (a flipped bit, a truncation, an
extension, another encoding of the same digest) is refused; a few of each through the real
webhook too. `tests/unit/test_fitbit_signature.py` holds the published vector and the
byte-flip properties; these add the other mutations and the HTTP path."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable

import httpx
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from service.providers.fitbit import signature
from tests.conftest import CLIENT_SECRET
from tests.fuzz.conftest import Served, at_least

PROPERTY = settings(max_examples=at_least(300), deadline=None, derandomize=True, database=None)

Mutation = Callable[[str], str]


def flip_bit(position: int, bit: int) -> Mutation:
    def mutate(text: str) -> str:
        data = bytearray(text.encode("latin-1"))
        data[position % len(data)] ^= 1 << bit
        return data.decode("latin-1")

    return mutate


def digest_of(text: str) -> bytes:
    return base64.b64decode(text)


# The same 20 digest bytes, written some other way than Fitbit writes them.
RE_ENCODINGS: dict[str, Mutation] = {
    "urlsafe": lambda s: base64.urlsafe_b64encode(digest_of(s)).decode(),
    "unpadded": lambda s: s.rstrip("="),
    "hex": lambda s: digest_of(s).hex(),
    "HEX": lambda s: digest_of(s).hex().upper(),
    "base32": lambda s: base64.b32encode(digest_of(s)).decode(),
    "with newline": lambda s: base64.encodebytes(digest_of(s)).decode(),
    "swapped case": lambda s: s.swapcase(),
    "padded twice": lambda s: s + "=",
    "quoted": lambda s: f'"{s}"',
    "with prefix": lambda s: "sha1=" + s,
    # The last base64 digit carries two bits beyond the digest; decoders ignore them.
    "spare bits set": lambda s: s[:26] + chr(ord(s[26]) + 1) + s[27:],
    "spare bits set, unpadded": lambda s: s[:26] + chr(ord(s[26]) + 3),
}


def signature_mutations() -> st.SearchStrategy[Mutation]:
    position = st.integers(min_value=0, max_value=27)
    return st.one_of(
        st.builds(flip_bit, position, st.integers(min_value=0, max_value=7)),
        position.map(lambda n: lambda s: s[:n]),
        st.text(min_size=1, max_size=8).map(lambda extra: lambda s: s + extra),
        st.text(min_size=1, max_size=8).map(lambda extra: lambda s: extra + s),
        st.sampled_from(list(RE_ENCODINGS.values())),
    )


def body_mutations(body: bytes) -> st.SearchStrategy[bytes]:
    position = st.integers(min_value=0, max_value=max(len(body) - 1, 0))
    flipped = st.builds(
        lambda i, bit: body[:i] + bytes([body[i] ^ (1 << bit)]) + body[i + 1 :],
        position,
        st.integers(min_value=0, max_value=7),
    )
    return st.one_of(
        *([flipped] if body else []),
        st.integers(min_value=0, max_value=max(len(body) - 1, 0)).map(lambda n: body[:n]),
        st.binary(min_size=1, max_size=16).map(lambda extra: body + extra),
        st.binary(min_size=1, max_size=16).map(lambda extra: extra + body),
        st.just(body.decode("latin-1").encode("utf-8")),  # re-encoded text
        st.just(body.replace(b",", b", ")),  # re-serialised JSON
    )


secrets = st.text(min_size=1, max_size=64)


@PROPERTY
@given(body=st.binary(max_size=2048), secret=secrets)
def test_the_signature_of_any_body_is_accepted(body: bytes, secret: str) -> None:
    assert signature.check(body, signature.sign(body, secret), secret) is None


@PROPERTY
@given(data=st.data(), body=st.binary(max_size=512), secret=secrets)
def test_any_change_to_the_body_is_refused(data: st.DataObject, body: bytes, secret: str) -> None:
    good = signature.sign(body, secret)
    mutated = data.draw(body_mutations(body))
    assume(mutated != body)
    assert signature.check(mutated, good, secret) is signature.SignatureProblem.MISMATCH


@PROPERTY
@given(mutate=signature_mutations(), body=st.binary(max_size=512), secret=secrets)
def test_any_change_to_the_signature_is_refused(mutate: Mutation, body: bytes, secret: str) -> None:
    good = signature.sign(body, secret)
    mutated = mutate(good)
    assume(mutated != good)
    assert signature.check(body, mutated, secret) is not None


@PROPERTY
@given(body=st.binary(max_size=512), secret=secrets, other=secrets)
def test_another_secret_signs_differently(body: bytes, secret: str, other: str) -> None:
    assume(other != secret)
    assert signature.check(body, signature.sign(body, other), secret) is not None


@pytest.mark.parametrize("encoding", sorted(RE_ENCODINGS))
def test_every_re_encoding_of_the_digest_is_refused(encoding: str) -> None:
    good = signature.sign(b"[]", CLIENT_SECRET)
    mutated = RE_ENCODINGS[encoding](good)
    assert mutated != good
    assert signature.check(b"[]", mutated, CLIENT_SECRET) is not None


# -- through the webhook ---------------------------------------------------------------------

OWNER = "SIGFUZ"
NOTIFICATION = json.dumps(
    [
        {
            "collectionType": "activities",
            "date": "2026-11-20",
            "ownerId": OWNER,
            "ownerType": "user",
            "subscriptionId": f"{OWNER}-activities",
        }
    ]
).encode()


def recorded(client: httpx.Client) -> int:
    page = client.get("/v1/notifications", params={"filter[owner]": OWNER, "page[size]": "0"})
    assert page.status_code == 200, page.text
    count = page.json()["meta"]["count"]
    assert isinstance(count, int)
    return count


def post(client: httpx.Client, body: bytes, signed: str) -> httpx.Response:
    headers = {"Content-Type": "application/json", "X-Fitbit-Signature": signed}
    return client.post("/fitbit/webhook", content=body, headers=headers)


@settings(
    max_examples=at_least(15),
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(data=st.data())
def test_the_webhook_records_only_what_is_signed(served: Served, data: st.DataObject) -> None:
    """A mutated body or signature is a 404 and records nothing; the original is recorded."""
    bearer = {"Authorization": f"Bearer {served.token}"}
    good = signature.sign(NOTIFICATION, CLIENT_SECRET)
    with httpx.Client(base_url=served.url, headers=bearer) as client:
        before = recorded(client)
        if data.draw(st.booleans(), label="mutate the body"):
            body, signed = data.draw(body_mutations(NOTIFICATION), label="body"), good
        else:
            body, signed = NOTIFICATION, data.draw(signature_mutations(), label="signature")(good)
        assume((body, signed) != (NOTIFICATION, good))
        # A header value is printable ASCII, and HTTP drops the whitespace around it.
        assume(signed.isascii() and signed.isprintable() and signed == signed.strip())
        assert post(client, body, signed).status_code == 404
        assert recorded(client) == before
        assert post(client, NOTIFICATION, good).status_code == 204
        assert recorded(client) == before + 1
