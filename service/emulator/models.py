"""JSON documents of the control API (`/_emulator/...`), shared by its routes and by
`testing.EmulatorControl`, so both sides agree on one typed shape.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field

from service.emulator.config import EmulatorConfig
from service.emulator.oauth import SCOPES

JSONObject = dict[str, Any]
Notification = dict[str, str]


def _known_scopes(scopes: list[str] | None) -> list[str] | None:
    unknown = set(scopes or ()) - SCOPES
    if unknown:
        raise ValueError(f"unknown Fitbit scopes: {sorted(unknown)}")
    return scopes


ScopeList = Annotated[list[str] | None, AfterValidator(_known_scopes)]


def _known_zone(value: str | None) -> str | None:
    try:
        return None if value is None else ZoneInfo(value).key
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {value!r}") from exc


# An IANA time zone name, or None; an unknown name is refused.
TimeZone = Annotated[str | None, AfterValidator(_known_zone)]


class Check(BaseModel):
    """One verification request: what the subscriber answered and what Fitbit expects."""

    code: str
    expected: int
    status: int | None
    error: str | None = None
    ok: bool


class VerificationResult(BaseModel):
    url: str
    verified: bool
    right: Check
    wrong: Check


class AppView(BaseModel):
    config: EmulatorConfig
    verification: VerificationResult | None = None


class AppPatch(BaseModel):
    """Any subset of the configuration; `verify` runs the handshake after the change."""

    model_config = ConfigDict(extra="forbid")

    client_id: str | None = None
    client_secret: str | None = None
    verification_code: str | None = None
    subscriber_id: str | None = None
    redirect_uri: str | None = None
    subscriber_url: str | None = None
    consent_user: str | None = None
    access_token_ttl_seconds: int | None = None
    rate_limit_per_hour: int | None = None
    batch_window_ms: int | None = None
    batch_max_items: int | None = None
    notification_timeout_seconds: float | None = None
    seed: int | None = None
    verify: bool = False


class UserPatch(BaseModel):
    """Create or change an emulated user; fields left out keep their value."""

    model_config = ConfigDict(extra="forbid")

    timezone: TimeZone = None
    # Overrides the zone's offset (profile's offsetFromUTCMillis, local dates); null: the zone's.
    offset_from_utc_millis: int | None = Field(default=None, ge=-14 * 3600_000, le=14 * 3600_000)
    display_name: str | None = None
    member_since: dt.date | None = None
    # Scopes the user grants when asked; null grants whatever the app asks for.
    grant_scopes: ScopeList = None
    deny_consent: bool | None = None


class SubscriptionView(BaseModel):
    subscription_id: str
    owner_id: str
    # None: every collection (Fitbit lists it as collectionType "user").
    collection: str | None
    subscriber_id: str


class UserView(BaseModel):
    user_id: str
    timezone: str
    offset_from_utc_millis: int
    display_name: str
    member_since: dt.date
    grant_scopes: list[str] | None
    deny_consent: bool
    granted_scopes: list[str]
    revoked: bool
    deleted: bool
    subscriptions: list[SubscriptionView]


class TokenRequest(BaseModel):
    """Mint tokens without the browser dance; scopes default to every Fitbit scope."""

    model_config = ConfigDict(extra="forbid")

    scopes: ScopeList = None


class TokenAnswer(BaseModel):
    """The token endpoint's answer, as in Fitbit's documentation."""

    access_token: str
    expires_in: int
    refresh_token: str
    scope: str
    token_type: str = "Bearer"  # noqa: S105 - the scheme's name, not a secret
    user_id: str


class RawLoad(BaseModel):
    """A recorded Fitbit response to serve verbatim for one (user, endpoint, date)."""

    body: Any
    status: int = Field(default=200, ge=100, le=599)


class DayView(BaseModel):
    logs: list[JSONObject]
    summary: JSONObject
    goals: JSONObject
    raw: RawLoad | None = None


class NotifyRequest(BaseModel):
    collection: Literal["activities", "body", "foods", "sleep", "userRevokedAccess", "deleteUser"]
    date: dt.date


class ClockChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    advance_seconds: float | None = Field(default=None, ge=0)
    set: AwareDatetime | None = None
    frozen: bool | None = None


class ClockView(BaseModel):
    now: dt.datetime
    frozen: bool


class FaultPlan(BaseModel):
    """Faults injected into Fitbit-facing calls (never into the control API)."""

    model_config = ConfigDict(extra="forbid")

    latency_ms: float = Field(default=0, ge=0)
    error_rate: float = Field(default=0, ge=0, le=1)
    error_status: int = Field(default=503, ge=500, le=599)
    fail_next: int = Field(default=0, ge=0)
    timeout_rate: float = Field(default=0, ge=0, le=1)
    timeout_next: int = Field(default=0, ge=0)
    # A timeout hangs this long (or until the client gives up) and then answers 504.
    hang_seconds: float = Field(default=30, gt=0)
    # Only paths starting with this, e.g. "/oauth2/token" or "/1.2/user"; None: all.
    path_prefix: str | None = None
    seed: int = 0


class Delivery(BaseModel):
    """One notification POST to the subscriber and how it answered."""

    at: dt.datetime
    url: str
    notifications: list[Notification]
    status: int | None
    error: str | None = None
    elapsed_ms: float


class NotificationsView(BaseModel):
    pending: list[Notification]
    deliveries: list[Delivery]


class CountersView(BaseModel):
    calls_total: int
    calls_by_endpoint: dict[str, int]
    calls_by_user: dict[str, int]
    rate_limited_total: int
    rate_limited_by_user: dict[str, int]
    notification_posts: int
    notification_items: int
    notification_responses: dict[str, int]
    tokens_issued: int
    token_refreshes: int
    faults: dict[str, int]
