"""Pure pieces against Fitbit's documented vectors and the protocols' own rules."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json

import pytest

from service.emulator import oauth
from service.emulator.clock import Clock
from service.emulator.config import EmulatorConfig
from service.emulator.ratelimit import RateLimiter
from service.emulator.signature import sign
from tests.emulator.emulator_support import EXAMPLES

FITBIT_VERIFIER = "01234567890123456789012345678901234567890123456789"
FITBIT_CHALLENGE = "-4cf-Mzo_qg9-uq0F4QwWhRh4AjcAqNx7SbYVsdmyQM"


def test_pkce_s256_matches_fitbits_documented_vector() -> None:
    assert oauth.s256_challenge(FITBIT_VERIFIER) == FITBIT_CHALLENGE
    assert oauth.pkce_matches(FITBIT_VERIFIER, FITBIT_CHALLENGE, "S256")


@pytest.mark.parametrize(
    ("verifier", "challenge", "method"),
    [
        (FITBIT_VERIFIER[:-1] + "0", FITBIT_CHALLENGE, "S256"),  # another verifier
        (FITBIT_VERIFIER, FITBIT_VERIFIER, "S256"),  # plain challenge, S256 claimed
        ("short", "short", "plain"),  # under RFC 7636's 43 characters
    ],
)
def test_pkce_rejects(verifier: str, challenge: str, method: str) -> None:
    assert not oauth.pkce_matches(verifier, challenge, method)


def test_pkce_plain_compares_the_verifier_itself() -> None:
    assert oauth.pkce_matches(FITBIT_VERIFIER, FITBIT_VERIFIER, "plain")


def test_basic_credentials_match_fitbits_documented_vector() -> None:
    assert oauth.basic_credentials("ABC123", "DEF456") == "QUJDMTIzOkRFRjQ1Ng=="
    assert oauth.parse_basic("Basic QUJDMTIzOkRFRjQ1Ng==") == ("ABC123", "DEF456")
    assert oauth.parse_basic("Basic not-base64!") is None
    assert oauth.parse_basic("Bearer QUJDMTIzOkRFRjQ1Ng==") is None


def test_signature_matches_the_recorded_vector_and_an_independent_hmac() -> None:
    vector = json.loads((EXAMPLES / "strict" / "x-fitbit-signature-vector.json").read_text())
    body = (EXAMPLES / "strict" / vector["body_file"]).read_bytes()
    assert len(body) == vector["body_length"]
    assert hashlib.sha256(body).hexdigest() == vector["body_sha256"]
    key = (vector["client_secret"] + "&").encode()
    independent = base64.b64encode(hmac.new(key, body, "sha1").digest()).decode()
    assert independent == vector["expected_x_fitbit_signature"]
    assert sign(body, vector["client_secret"]) == vector["expected_x_fitbit_signature"]
    assert sign(body + b" ", vector["client_secret"]) != vector["expected_x_fitbit_signature"]


def test_access_tokens_are_jwts_with_fitbits_claims_and_fit_in_1024_bytes() -> None:
    issued = dt.datetime(2024, 3, 10, tzinfo=dt.UTC)
    token = oauth.mint_access_token(
        b"k" * 32,
        subject="ABCDEF",
        client_id="23TEST",
        scopes=oauth.SCOPES,
        issued=issued,
        expires=issued + dt.timedelta(hours=8),
    )
    head, body, _ = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    assert json.loads(base64.urlsafe_b64decode(head + "==="))["alg"] == "HS256"
    assert claims["sub"] == "ABCDEF"
    assert claims["aud"] == "23TEST"
    assert claims["exp"] - claims["iat"] == 8 * 3600
    assert {"wact", "wsle", "wwei", "wnut"} <= set(claims["scopes"].split())
    assert len(token.encode()) <= 1024


def test_config_reads_the_services_variables_and_keeps_defaults_for_the_rest() -> None:
    config = EmulatorConfig.from_env(
        {
            "FITBIT_CLIENT_ID": "22ABCD",
            "FITBIT_CLIENT_SECRET": "s3cret",
            "FITBIT_VERIFICATION_CODE": "",
            "EMULATOR_SUBSCRIBER_URL": "http://127.0.0.1:9/hook",
            "EMULATOR_RATE_LIMIT_PER_HOUR": "10",
            "EMULATOR_BATCH_WINDOW_MS": "manual",
        }
    )
    assert (config.client_id, config.client_secret) == ("22ABCD", "s3cret")
    assert config.verification_code == EmulatorConfig().verification_code
    assert config.subscriber_url == "http://127.0.0.1:9/hook"
    assert config.rate_limit_per_hour == 10
    assert config.batch_window_ms is None
    assert EmulatorConfig.from_env({}).access_token_ttl_seconds == 8 * 3600


def test_clock_advances_frozen_or_running_and_jumps() -> None:
    clock = Clock()
    start = dt.datetime(2024, 1, 1, 12, tzinfo=dt.UTC)
    clock.set(start, frozen=True)
    assert clock.advance(90) == start + dt.timedelta(seconds=90)
    clock.set(frozen=False)
    assert clock.now() >= start + dt.timedelta(seconds=90)
    assert not clock.frozen


def test_rate_limit_spends_the_hour_and_resets_at_the_top_of_it() -> None:
    limiter, user = RateLimiter(), "U1"
    at = dt.datetime(2024, 3, 10, 10, 59, 30, tzinfo=dt.UTC)
    statuses = [limiter.spend(user, at, 3) for _ in range(4)]
    assert [s.allowed for s in statuses] == [True, True, True, False]
    assert [s.remaining for s in statuses] == [2, 1, 0, 0]
    assert statuses[0].headers()["Fitbit-Rate-Limit-Reset"] == "30"
    after_reset = limiter.spend(user, at + dt.timedelta(seconds=30), 3)
    assert after_reset.allowed
    assert after_reset.remaining == 2
    assert limiter.spend("U2", at, 3).remaining == 2
