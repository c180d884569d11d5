"""Tokens at rest: Fernet with key rotation.

`TOKEN_ENCRYPTION_KEYS` is a comma-separated list of Fernet keys: the first encrypts, all
decrypt, so a new key is rolled out by putting it first and running `rotate-keys`.
"""

from __future__ import annotations

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from service.errors import ConfigError, ServiceError


class UndecryptableToken(ServiceError):
    """A stored token was encrypted with a key that is no longer configured."""


class TokenCipher:
    def __init__(self, keys: list[str]) -> None:
        if not keys:
            raise ConfigError("TOKEN_ENCRYPTION_KEYS is not set; it is required for this command")
        try:
            self._fernet = MultiFernet([Fernet(key.encode()) for key in keys])
        except ValueError:
            raise ConfigError(
                "TOKEN_ENCRYPTION_KEYS must be comma-separated Fernet keys "
                "(32 url-safe base64-encoded bytes each)"
            ) from None

    @classmethod
    def from_setting(cls, value: str) -> TokenCipher:
        return cls([key.strip() for key in value.split(",") if key.strip()])

    def encrypt(self, plaintext: str) -> str:
        return self._fernet.encrypt(plaintext.encode()).decode("ascii")

    def decrypt(self, ciphertext: str) -> str:
        try:
            return self._fernet.decrypt(ciphertext.encode("ascii")).decode()
        except InvalidToken:
            raise UndecryptableToken(
                "stored token cannot be decrypted with the configured keys"
            ) from None

    def rotate(self, ciphertext: str) -> str:
        """Re-encrypt under the first key (a no-op in meaning, new bytes on disk)."""
        try:
            return self._fernet.rotate(ciphertext.encode("ascii")).decode("ascii")
        except InvalidToken:
            raise UndecryptableToken(
                "stored token cannot be decrypted with the configured keys"
            ) from None

    @staticmethod
    def generate_key() -> str:
        return Fernet.generate_key().decode("ascii")
