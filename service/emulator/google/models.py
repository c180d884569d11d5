"""JSON documents of the Google control API (`/_emulator/google/...`), shared by its routes
and by `GoogleControl`, so both sides agree on one typed shape."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator

from service.emulator.google import oauth
from service.emulator.google.config import GoogleConfig, SignatureHeader
from service.emulator.google.keyset import KeysetMode
from service.emulator.models import CountersView, TimeZone

JSONObject = dict[str, Any]


def _scopes(values: list[str] | None) -> list[str] | None:
    if values is None:
        return None
    full = [oauth.expand(value) for value in values]
    unknown = set(full) - oauth.GRANTABLE
    if unknown:
        raise ValueError(f"unknown Google scopes: {sorted(unknown)}")
    return full


class Check(BaseModel):
    """One verification POST: with the secret or without it, and what came back."""

    authorization: bool
    expected: list[int]
    status: int | None
    error: str | None = None
    ok: bool


class Verification(BaseModel):
    url: str
    verified: bool
    authorized: Check
    unauthorized: Check


class GoogleAppView(BaseModel):
    config: GoogleConfig


class GoogleAppPatch(BaseModel):
    """Any subset of the configuration but the keyset path (its route is fixed at start)."""

    model_config = ConfigDict(extra="forbid")

    client_id: str | None = None
    client_secret: str | None = None
    redirect_uri: str | None = None
    project_number: str | None = None
    cloud_token: str | None = None
    webhook_secret: str | None = None
    consent_user: str | None = None
    signature_header: SignatureHeader | None = None
    batching: Literal["single", "array"] | None = None
    batch_window_ms: int | None = None
    batch_max_items: int | None = None
    rate_limit_per_minute: int | None = None
    access_token_ttl_seconds: int | None = None
    retry_failed: bool | None = None
    notification_timeout_seconds: float | None = None
    require_https: bool | None = None


class GoogleUserPatch(BaseModel):
    """Create or change an emulated Google account; fields left out keep their value."""

    model_config = ConfigDict(extra="forbid")

    legacy_user_id: str | None = Field(default=None, pattern=r"^[A-Za-z0-9-]{1,63}$")
    timezone: TimeZone = None
    member_since: dt.date | None = None
    # Scopes the user grants when asked (full URLs or short `sleep.readonly`); null: all asked.
    grant_scopes: list[str] | None = None
    deny_consent: bool | None = None

    @field_validator("grant_scopes")
    @classmethod
    def _known_scopes(cls, value: list[str] | None) -> list[str] | None:
        return _scopes(value)


class GoogleUserView(BaseModel):
    health_user_id: str
    legacy_user_id: str | None
    timezone: str
    utc_offset_seconds: int
    member_since: dt.date
    grant_scopes: list[str] | None
    deny_consent: bool
    granted_scopes: list[str]
    revoked: bool


class GoogleTokenRequest(BaseModel):
    """Tokens without the browser: scopes default to every read scope."""

    model_config = ConfigDict(extra="forbid")

    scopes: list[str] | None = None

    @field_validator("scopes")
    @classmethod
    def _known_scopes(cls, value: list[str] | None) -> list[str] | None:
        return _scopes(value)


class GoogleTokenAnswer(BaseModel):
    """The token endpoint's answer; a refresh leaves `refresh_token` out."""

    access_token: str
    expires_in: int
    scope: str
    token_type: str = "Bearer"  # noqa: S105 - the scheme's name, not a secret
    refresh_token: str | None = None


class SubscriberRegistration(BaseModel):
    """A subscriber put in place by the control API (no Cloud credential needed)."""

    model_config = ConfigDict(extra="forbid")

    endpoint_uri: str
    secret: str = Field(min_length=1)
    # Google's SubscriberConfig JSON; null: AUTOMATIC for every data type.
    subscriber_configs: list[JSONObject] | None = None
    verify: bool = False


class SubscriberView(BaseModel):
    subscriber: JSONObject
    subscriptions: list[JSONObject]
    verification: Verification | None = None


class PointChange(BaseModel):
    """A data point to add or change: times (UTC instants) and the type's own fields in
    Google's JSON shape (`{"count": "1234"}`, `{"weightGrams": 71000.0}`, …)."""

    model_config = ConfigDict(extra="forbid")

    start: AwareDatetime | None = None
    end: AwareDatetime | None = None
    values: JSONObject | None = None


class NotifyRequest(BaseModel):
    """A notification with no change behind it."""

    model_config = ConfigDict(extra="forbid")

    data_type: str
    operation: str = "UPSERT"
    start: AwareDatetime
    end: AwareDatetime | None = None


class GoogleDelivery(BaseModel):
    """One POST to a subscriber endpoint and how it answered."""

    at: dt.datetime
    subscriber: str
    url: str
    items: list[JSONObject]
    body: str
    key_id: int
    attempt: int
    status: int | None
    error: str | None = None
    elapsed_ms: float


class PendingView(BaseModel):
    subscriber: str
    item: JSONObject
    attempts: int
    due: dt.datetime


class GoogleNotificationsView(BaseModel):
    pending: list[PendingView]
    deliveries: list[GoogleDelivery]


class KeyView(BaseModel):
    key_id: int
    primary: bool


class KeysetView(BaseModel):
    mode: KeysetMode
    fail_status: int
    keys: list[KeyView]
    published: JSONObject


class KeysetChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    mode: KeysetMode | None = None
    fail_status: int | None = Field(default=None, ge=400, le=599)


class GoogleCountersView(CountersView):
    """Fitbit's counters, plus the handshakes run and the keyset fetches served."""

    verifications: dict[str, int]
    keyset_fetches: int
