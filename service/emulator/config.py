"""The emulator's app registration and knobs, read from the environment.

The app registration uses the same variables as the service (`FITBIT_CLIENT_ID`,
`FITBIT_CLIENT_SECRET`, `FITBIT_VERIFICATION_CODE`, `FITBIT_SUBSCRIBER_ID`,
`FITBIT_REDIRECT_URI`), so a service pointed at the emulator needs no further set-up; the rest
are `EMULATOR_*` variables. Every value has a development default and can be changed at run
time through the control API (`PATCH /_emulator/app`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, NonNegativeInt

ENVIRONMENT = {
    "client_id": "FITBIT_CLIENT_ID",
    "client_secret": "FITBIT_CLIENT_SECRET",
    "verification_code": "FITBIT_VERIFICATION_CODE",
    "subscriber_id": "FITBIT_SUBSCRIBER_ID",
    "redirect_uri": "FITBIT_REDIRECT_URI",
    "subscriber_url": "EMULATOR_SUBSCRIBER_URL",
    "consent_user": "EMULATOR_CONSENT_USER",
    "access_token_ttl_seconds": "EMULATOR_ACCESS_TOKEN_TTL_SECONDS",
    "rate_limit_per_hour": "EMULATOR_RATE_LIMIT_PER_HOUR",
    "batch_window_ms": "EMULATOR_BATCH_WINDOW_MS",
    "batch_max_items": "EMULATOR_BATCH_MAX_ITEMS",
    "notification_timeout_seconds": "EMULATOR_NOTIFICATION_TIMEOUT_SECONDS",
    "seed": "EMULATOR_SEED",
}

# Words that turn the batching window off: items then wait for an explicit flush.
_MANUAL = frozenset({"manual", "none", "off"})


def _manual_window(value: object) -> object:
    if isinstance(value, str) and value.strip().lower() in _MANUAL:
        return None
    return value


# How long a notification waits for others to share its POST; None waits for a flush.
BatchWindow = Annotated[NonNegativeInt | None, BeforeValidator(_manual_window)]


def environment(names: Mapping[str, str], environ: Mapping[str, str]) -> dict[str, str]:
    """The fields `environ` sets through the variables `names` maps them to; unset or empty
    variables are left out, so the fields keep their defaults."""
    return {field: environ[name] for field, name in names.items() if environ.get(name)}


class EmulatorConfig(BaseModel):
    """One registered Fitbit app, its subscriber endpoint, and the emulator's knobs."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    client_id: str = Field(default="23EMUL", min_length=1)
    client_secret: str = Field(default="emulator-client-secret", min_length=1)
    verification_code: str = Field(default="emulator-verification-code", min_length=1)
    subscriber_id: str = Field(default="1", min_length=1)
    # None accepts any redirect_uri; Fitbit itself requires the registered one, exactly.
    redirect_uri: str | None = None
    subscriber_url: str = "http://127.0.0.1:8000/fitbit/webhook"
    # The user who consents when /oauth2/authorize names none; None shows a sign-in form.
    consent_user: str | None = None
    access_token_ttl_seconds: int = Field(default=8 * 3600, gt=0)
    rate_limit_per_hour: int = Field(default=150, ge=0)
    batch_window_ms: BatchWindow = 100
    batch_max_items: int = Field(default=100, gt=0)
    # Fitbit gives a subscriber 5 seconds to answer.
    notification_timeout_seconds: float = Field(default=5.0, gt=0)
    seed: int = 0

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> EmulatorConfig:
        """The configuration the environment gives; unset or empty variables keep defaults."""
        return cls.model_validate(environment(ENVIRONMENT, environ))
