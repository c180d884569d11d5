"""Client secrets (scrypt) and tokens (SHA-256) of the internal API, and its scopes."""

from __future__ import annotations

import hashlib

import pytest

from service.api import credentials, scopes


def test_a_secret_verifies_against_its_own_hash_only() -> None:
    stored = credentials.hash_secret("s3cret")
    assert credentials.verify_secret("s3cret", stored)
    assert not credentials.verify_secret("s3cret ", stored)
    assert not credentials.verify_secret("s3cret", credentials.hash_secret("other"))


def test_hashes_are_salted_and_name_their_parameters() -> None:
    first, second = credentials.hash_secret("same"), credentials.hash_secret("same")
    assert first != second
    scheme, n, r, p, salt, key = first.split("$")
    assert (scheme, n, r, p) == ("scrypt", "16384", "8", "1")
    assert (len(salt), len(key)) == (24, 44)  # 16 and 32 bytes, base64
    assert "same" not in first


@pytest.mark.parametrize("stored", [None, "", "scrypt$1$2", "bcrypt$16384$8$1$AA==$AA==", "x$y"])
def test_nothing_or_a_malformed_hash_never_verifies(stored: str | None) -> None:
    assert not credentials.verify_secret("anything", stored)


def test_tokens_are_random_and_stored_as_sha256() -> None:
    token = credentials.new_token()
    assert len(token) >= 43
    assert token != credentials.new_token()
    assert credentials.token_digest(token) == hashlib.sha256(token.encode()).hexdigest()


def test_client_ids_can_travel_in_http_basic() -> None:
    assert ":" not in credentials.new_client_id()


def test_scopes_parse_from_words_and_render_in_order() -> None:
    parsed = scopes.parse(["subscriptions:write read", "read,"])
    assert parsed == {"read", "subscriptions:write"}
    assert scopes.render(parsed) == "read subscriptions:write"
    assert scopes.parse([""]) == frozenset()
    with pytest.raises(scopes.UnknownScope, match="'admin'"):
        scopes.parse(["read admin"])
