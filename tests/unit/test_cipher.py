"""Tokens at rest: Fernet with rotation."""

from __future__ import annotations

import pytest

from service.connect.cipher import TokenCipher, UndecryptableToken
from service.errors import ConfigError


def test_round_trip_and_ciphertext_hides_the_token() -> None:
    cipher = TokenCipher([TokenCipher.generate_key()])
    stored = cipher.encrypt("eyJhbGciOi-access-token")
    assert "access-token" not in stored
    assert cipher.decrypt(stored) == "eyJhbGciOi-access-token"


def test_first_key_encrypts_all_keys_decrypt() -> None:
    old, new = TokenCipher.generate_key(), TokenCipher.generate_key()
    stored_under_old = TokenCipher([old]).encrypt("token")
    both = TokenCipher.from_setting(f"{new}, {old}")
    assert both.decrypt(stored_under_old) == "token"
    rotated = both.rotate(stored_under_old)
    assert TokenCipher([new]).decrypt(rotated) == "token"
    with pytest.raises(UndecryptableToken):
        TokenCipher([old]).decrypt(rotated)


def test_unknown_key_is_a_clear_error() -> None:
    stored = TokenCipher([TokenCipher.generate_key()]).encrypt("token")
    with pytest.raises(UndecryptableToken, match="configured keys"):
        TokenCipher([TokenCipher.generate_key()]).decrypt(stored)


@pytest.mark.parametrize("setting", ["", " , ", "not-a-fernet-key"])
def test_bad_key_setting_names_the_variable(setting: str) -> None:
    with pytest.raises(ConfigError, match="TOKEN_ENCRYPTION_KEYS"):
        TokenCipher.from_setting(setting)
