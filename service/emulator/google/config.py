"""The Google Health side's configuration: the OAuth client, the Cloud project, the keyset
URL and the emulator's knobs, read from the environment.

The OAuth client and the webhook secret use the service's variable names
(`GOOGLE_HEALTH_CLIENT_ID`, `GOOGLE_HEALTH_CLIENT_SECRET`, `GOOGLE_HEALTH_REDIRECT_URI`,
`GOOGLE_HEALTH_WEBHOOK_SECRET`, `GOOGLE_HEALTH_PROJECT_NUMBER`), so a service pointed at the
emulator needs no further set-up; the rest are `EMULATOR_GOOGLE_*`. Everything but the keyset
path can be changed at run time (`PATCH /_emulator/google/app`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from service.emulator.config import BatchWindow, environment

ENVIRONMENT = {
    "client_id": "GOOGLE_HEALTH_CLIENT_ID",
    "client_secret": "GOOGLE_HEALTH_CLIENT_SECRET",
    "redirect_uri": "GOOGLE_HEALTH_REDIRECT_URI",
    "project_number": "GOOGLE_HEALTH_PROJECT_NUMBER",
    "webhook_secret": "GOOGLE_HEALTH_WEBHOOK_SECRET",
    "cloud_token": "EMULATOR_GOOGLE_CLOUD_TOKEN",
    "subscriber_url": "EMULATOR_GOOGLE_SUBSCRIBER_URL",
    "consent_user": "EMULATOR_GOOGLE_CONSENT_USER",
    "keyset_path": "EMULATOR_GOOGLE_KEYSET_PATH",
    "signature_header": "EMULATOR_GOOGLE_SIGNATURE_HEADER",
    "batching": "EMULATOR_GOOGLE_BATCHING",
    "batch_window_ms": "EMULATOR_GOOGLE_BATCH_WINDOW_MS",
    "batch_max_items": "EMULATOR_GOOGLE_BATCH_MAX_ITEMS",
    "rate_limit_per_minute": "EMULATOR_GOOGLE_RATE_LIMIT_PER_MINUTE",
    "access_token_ttl_seconds": "EMULATOR_GOOGLE_ACCESS_TOKEN_TTL_SECONDS",
    "retry_failed": "EMULATOR_GOOGLE_RETRY_FAILED",
    "notification_timeout_seconds": "EMULATOR_GOOGLE_NOTIFICATION_TIMEOUT_SECONDS",
}

SignatureHeader = Literal["X-HEALTHAPI-SIGNATURE", "GOOGLE-HEALTH-API-SIGNATURE"]


class GoogleConfig(BaseModel):
    """One Google Cloud project with one OAuth client, and the emulator's knobs."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    client_id: str = Field(default="emulator-client.apps.googleusercontent.com", min_length=1)
    client_secret: str = Field(default="emulator-google-client-secret", min_length=1)
    # None accepts any redirect_uri; Google requires a registered one, exactly.
    redirect_uri: str | None = None
    project_number: str = Field(default="123456789012", pattern=r"^[0-9]{1,20}$")
    # The bearer token that stands in for the service account's cloud-platform token.
    cloud_token: str = Field(default="emulator-cloud-platform-token", min_length=1)
    # When set, the emulator starts with an ACTIVE subscriber "emulator" at this URL, with the
    # webhook secret as its Authorization value and AUTOMATIC for every data type.
    subscriber_url: str | None = None
    webhook_secret: str = Field(default="Bearer emulator-webhook-secret", min_length=1)
    # Who consents when /o/oauth2/v2/auth names nobody (login_hint); None: 400.
    consent_user: str | None = None
    keyset_path: str = Field(
        default="/googlehealthapi/webhooks/webhooks_public_keyset.json", pattern=r"^/"
    )
    signature_header: SignatureHeader = "X-HEALTHAPI-SIGNATURE"
    # "single": one JSON object per POST (Google's example); "array": a JSON array of items.
    batching: Literal["single", "array"] = "single"
    batch_window_ms: BatchWindow = 100
    batch_max_items: int = Field(default=99, gt=0)
    rate_limit_per_minute: int = Field(default=300, ge=0)
    access_token_ttl_seconds: int = Field(default=3600, gt=0)
    # Google keeps failed notifications and retries them with backoff for up to 7 days.
    retry_failed: bool = True
    notification_timeout_seconds: float = Field(default=5.0, gt=0)
    # Subscriber endpoints must be HTTPS on Google; tests use plain HTTP on 127.0.0.1.
    require_https: bool = False

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> GoogleConfig:
        """The configuration the environment gives; unset or empty variables keep defaults."""
        return cls.model_validate(environment(ENVIRONMENT, environ))
