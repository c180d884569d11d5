"""Pure pieces of Google's OAuth 2.0 dialect: the Google Health scopes, and token shapes.

Access tokens are opaque `ya29.` strings of 2048 characters (Google documents 2048 bytes, so a
column sized for Fitbit's 1024 fails here first); refresh tokens look like Google's `1//0…`.
"""

from __future__ import annotations

import secrets

PREFIX = "https://www.googleapis.com/auth/googlehealth."
_NAMES = (
    "activity_and_fitness",
    "ecg",
    "health_metrics_and_measurements",
    "irn",
    "location",
    "nutrition",
    "profile",
    "settings",
    "sleep",
)
READ_SCOPES = frozenset(f"{PREFIX}{name}.readonly" for name in _NAMES)
WRITE_SCOPES = frozenset(
    f"{PREFIX}{name}.writeonly"
    for name in (
        "activity_and_fitness",
        "health_metrics_and_measurements",
        "nutrition",
        "profile",
        "settings",
        "sleep",
    )
)
CLOUD_PLATFORM = "https://www.googleapis.com/auth/cloud-platform"
BASIC = frozenset({"openid", "email", "profile"})
SCOPES = READ_SCOPES | WRITE_SCOPES
GRANTABLE = SCOPES | BASIC | {CLOUD_PLATFORM}

ACTIVITY = f"{PREFIX}activity_and_fitness.readonly"
METRICS = f"{PREFIX}health_metrics_and_measurements.readonly"
NUTRITION = f"{PREFIX}nutrition.readonly"
SLEEP = f"{PREFIX}sleep.readonly"
SETTINGS = f"{PREFIX}settings.readonly"

ACCESS_TOKEN_LENGTH = 2048


def expand(scope: str) -> str:
    """Short names (`sleep.readonly`) as full scope URLs; full names pass unchanged."""
    return scope if ":" in scope or scope in BASIC else PREFIX + scope


def parse_scope(text: str) -> frozenset[str]:
    return frozenset(text.split())


def scope_text(scopes: frozenset[str]) -> str:
    return " ".join(sorted(scopes))


def mint_access_token() -> str:
    head = "ya29.a0"
    return head + secrets.token_urlsafe(ACCESS_TOKEN_LENGTH)[: ACCESS_TOKEN_LENGTH - len(head)]


def mint_refresh_token() -> str:
    return "1//0" + secrets.token_urlsafe(75)[:99]


def mint_code() -> str:
    return "4/0" + secrets.token_urlsafe(54)[:70]
