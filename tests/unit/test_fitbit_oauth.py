"""Fitbit OAuth 2.0 pieces, checked against Fitbit's documented vectors."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

from service.providers import pkce
from service.providers.fitbit import oauth


def test_pkce_vector_from_fitbit_docs() -> None:
    verifier = "01234567890123456789012345678901234567890123456789"
    assert pkce.code_challenge(verifier) == "-4cf-Mzo_qg9-uq0F4QwWhRh4AjcAqNx7SbYVsdmyQM"


def test_verifier_is_long_and_unreserved() -> None:
    verifier = pkce.code_verifier()
    assert 43 <= len(verifier) <= 128
    assert re.fullmatch(r"[A-Za-z0-9\-._~]+", verifier)
    assert pkce.code_verifier() != verifier


def test_basic_credentials_vector_from_fitbit_docs() -> None:
    assert oauth.basic_credentials("ABC123", "DEF456") == "QUJDMTIzOkRFRjQ1Ng=="


def test_authorization_url_carries_everything() -> None:
    url = oauth.authorization_url(
        "https://www.fitbit.com/oauth2/authorize",
        client_id="23ABCD",
        redirect_uri="https://example.org/fitbit/callback?x=1",
        scopes=["activity", "sleep"],
        state="st4te",
        challenge="ch4llenge",
    )
    parts = urlsplit(url)
    assert parts.netloc == "www.fitbit.com"
    assert parse_qs(parts.query) == {
        "client_id": ["23ABCD"],
        "response_type": ["code"],
        "scope": ["activity sleep"],
        "redirect_uri": ["https://example.org/fitbit/callback?x=1"],
        "state": ["st4te"],
        "code_challenge": ["ch4llenge"],
        "code_challenge_method": ["S256"],
    }
