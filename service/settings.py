"""Process configuration, read from the environment and an optional `.env` file.

`get_settings()` is the only process-wide object; everything else (engines, Redis pools,
HTTP clients) is built from a `Settings` by the app lifespan or the worker's startup.
"""

from __future__ import annotations

import os
from functools import lru_cache
from typing import Annotated, Literal

from pydantic import Field, SecretStr, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from service.errors import ConfigError

_ASYNC_DRIVER = "postgresql+asyncpg"
_POSTGRES_SCHEMES = ("postgresql+asyncpg", "postgresql", "postgres", "postgresql+psycopg")

PositiveFloat = Annotated[float, Field(gt=0)]


def async_database_url(url: str) -> str:
    """Map the `postgresql://user@host:port/db` form operators are given to our driver's."""
    scheme, sep, rest = url.partition("://")
    if not sep or scheme not in _POSTGRES_SCHEMES:
        raise ValueError("DATABASE_URL must be a postgresql://user@host:port/db URL")
    return f"{_ASYNC_DRIVER}://{rest}"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore", frozen=True)

    database_url: str | None = None
    redis_url: str = "redis://127.0.0.1:6379/0"

    # The providers this deployment serves, comma- or space-separated; the first is the one
    # people connect to when a request names none. Each needs its own settings below.
    enabled_providers: str = "fitbit"

    fitbit_client_id: str | None = None
    fitbit_client_secret: SecretStr | None = None
    fitbit_verification_code: SecretStr | None = None
    fitbit_subscriber_id: str | None = None
    fitbit_api_url: str = "https://api.fitbit.com"
    fitbit_authorize_url: str = "https://www.fitbit.com/oauth2/authorize"
    fitbit_redirect_uri: str | None = None
    # Space-separated; the person may grant fewer, and every part copes with that.
    fitbit_scopes: str = "activity heartrate nutrition profile sleep weight"

    # The Google Health API (Fitbit's successor). Its webhook secret is the whole `Authorization`
    # header value the project's subscriber was registered with (e.g. "Bearer <random>").
    google_health_client_id: str | None = None
    google_health_client_secret: SecretStr | None = None
    google_health_redirect_uri: str | None = None
    google_health_webhook_secret: SecretStr | None = None
    google_health_api_url: str = "https://health.googleapis.com"
    google_health_authorize_url: str = "https://accounts.google.com/o/oauth2/v2/auth"
    google_health_token_url: str = "https://oauth2.googleapis.com/token"  # noqa: S105
    google_health_revoke_url: str = "https://oauth2.googleapis.com/revoke"
    google_health_keyset_url: str = (
        "https://www.gstatic.com/googlehealthapi/webhooks/webhooks_public_keyset.json"
    )
    # A push naming a key we do not hold refetches the keyset, at most once in this many
    # seconds (Google rotates keys; forged key ids must not make us hammer gstatic).
    google_health_keyset_refetch_seconds: float = Field(default=60.0, ge=0)
    google_health_project_number: str | None = None
    # Only for `google-health subscriber`: an access token of the project's service account
    # with the cloud-platform scope (`gcloud auth print-access-token`); it lives an hour.
    google_health_cloud_token: SecretStr | None = None
    # AUTOMATIC, the only policy supported: Google subscribes every consenting person (no
    # per-user calls). MANUAL (one subscription per person) is refused at start.
    google_health_subscription_policy: Literal["automatic", "manual"] = "automatic"

    # Connecting people
    token_encryption_keys: SecretStr | None = None
    connect_success_url: str | None = None

    # Front door
    max_body_bytes: int = Field(default=1024 * 1024, gt=0)
    # Fitbit gives up after 5 s; answer 503 before then so it retries rather than disables us.
    ingest_timeout_seconds: PositiveFloat = 4.0
    web_concurrency: int = Field(default_factory=lambda: os.cpu_count() or 1, gt=0)
    db_pool_size: int = Field(default=10, gt=0)

    # Seconds the API waits for in-flight requests after SIGTERM; below Kubernetes'
    # terminationGracePeriodSeconds minus the preStop pause (deploy/base/api.yaml).
    api_shutdown_grace_seconds: int = Field(default=20, ge=0)

    # Queue
    sweep_pending_after_seconds: PositiveFloat = 60.0
    sweep_interval_seconds: int = Field(default=30, ge=1, le=60)

    # Sync: fetch a key this long after it became pending, so every notification within the
    # window shares one fetch and no change waits longer than this (plus the fetch).
    sync_debounce_seconds: float = Field(default=5.0, ge=0)
    # Transient failures (5xx, timeouts) back off from this, doubling, up to the attempt limit.
    sync_backoff_seconds: float = Field(default=5.0, gt=0)
    sync_max_attempts: int = Field(default=8, gt=0)
    # On disconnect (and revoke/delete notifications): also delete the person's health rows.
    purge_data_on_disconnect: bool = False

    # Worker (arq). A worker polls: throughput ≈ max_jobs / poll_delay while jobs are short.
    poll_delay: PositiveFloat = 0.05
    max_jobs: int = Field(default=50, gt=0)
    # Seconds a job may run. (A SIGKILLed worker's job is released by the others' lease check
    # within seconds, not after arq's job_timeout + 10 s: service/sync/leases.py.)
    job_timeout: int = Field(default=30, gt=0)
    # On SIGTERM running jobs get this long to finish; the rest stay queued.
    worker_shutdown_grace_seconds: int = Field(default=30, ge=0)
    worker_metrics_host: str = "0.0.0.0"  # noqa: S104 - scraped from outside the container
    worker_metrics_port: int = Field(default=9100, ge=0, le=65535)  # 0: no metrics server

    # Retention of the notification audit log and finished sync history.
    retention_days: int = Field(default=30, gt=0)

    # Rate budget: calls per user per window kept back from backfill for live notifications,
    # and the spread of the jobs deferred to one window's reset.
    rate_budget_reserve: int = Field(default=30, ge=0)
    rate_defer_jitter_seconds: float = Field(default=30.0, ge=0)

    # Internal API
    api_access_token_seconds: int = Field(default=3600, gt=0)
    api_refresh_token_seconds: int = Field(default=30 * 24 * 3600, gt=0)
    api_page_size_default: int = Field(default=50, gt=0)
    api_page_size_max: int = Field(default=500, gt=0)

    log_level: str = "INFO"
    # JSON lines for collectors; "text" for a person reading a terminal.
    log_format: Literal["json", "text"] = "json"

    @field_validator("api_page_size_max")
    @classmethod
    def _max_covers_default(cls, value: int, info: ValidationInfo) -> int:
        if value < info.data.get("api_page_size_default", 0):
            raise ValueError("must be at least API_PAGE_SIZE_DEFAULT")
        return value

    @field_validator("log_level")
    @classmethod
    def _known_level(cls, value: str) -> str:
        level = value.upper()
        if level not in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
            raise ValueError("must be DEBUG, INFO, WARNING, ERROR or CRITICAL")
        return level

    @field_validator("database_url")
    @classmethod
    def _check_database_url(cls, value: str | None) -> str | None:
        return async_database_url(value) if value else None

    @field_validator("fitbit_api_url", "google_health_api_url")
    @classmethod
    def _strip_slash(cls, value: str) -> str:
        return value.rstrip("/")

    def require(self, *names: str) -> None:
        """Refuse to go on when a value this command needs is missing or empty."""
        for name in names:
            value = getattr(self, name)
            text = value.get_secret_value() if isinstance(value, SecretStr) else value
            if not text:
                raise ConfigError(f"{name.upper()} is not set; it is required for this command")

    @property
    def database(self) -> str:
        if not self.database_url:
            raise ConfigError("DATABASE_URL is not set; it is required for this command")
        return self.database_url

    def secret(self, name: str) -> str:
        self.require(name)
        value = getattr(self, name)
        return value.get_secret_value() if isinstance(value, SecretStr) else str(value)


@lru_cache
def get_settings() -> Settings:
    return Settings()
