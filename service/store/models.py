"""Tables of the service. Singular names, `_at` for timestamptz, deterministic constraint names."""

from __future__ import annotations

import datetime as dt
import enum
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    Date,
    DateTime,
    Enum,
    ForeignKey,
    Identity,
    Index,
    MetaData,
    Numeric,
    Text,
    TypeDecorator,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {  # noqa: RUF012 - SQLAlchemy reads this class attribute
        dt.datetime: DateTime(timezone=True),
        dict[str, Any]: JSONB,
    }


class SyncStatus(enum.StrEnum):
    PENDING = "pending"
    SYNCED = "synced"
    FAILED = "failed"


class Notification(Base):
    """Audit log: every item a provider pushed to us, as received."""

    __tablename__ = "notification"
    __table_args__ = (
        Index(None, "owner_id", "received_at"),
        Index(None, "received_at"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    received_at: Mapped[dt.datetime] = mapped_column(server_default=func.now())
    provider: Mapped[str] = mapped_column(Text)
    owner_id: Mapped[str] = mapped_column(Text)
    owner_type: Mapped[str | None] = mapped_column(Text)
    collection_type: Mapped[str] = mapped_column(Text)
    date: Mapped[dt.date | None] = mapped_column(Date)
    subscription_id: Mapped[str | None] = mapped_column(Text)
    raw: Mapped[dict[str, Any]]


class SyncRequest(Base):
    """One row per (provider, owner, collection, date) that must be fetched.

    Every notification bumps `generation`; a sync that read generation G marks
    `synced_generation = G` when done, so a change that arrived during the fetch stays pending.
    """

    __tablename__ = "sync_request"
    __table_args__ = (
        UniqueConstraint("provider", "owner_id", "collection", "date"),
        # The sweeper's scan: only pending rows, oldest first.
        Index(None, "pending_since", postgresql_where=text("status = 'pending'")),
        Index(None, "owner_id", "date"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    provider: Mapped[str] = mapped_column(Text)
    owner_id: Mapped[str] = mapped_column(Text)
    collection: Mapped[str] = mapped_column(Text)
    date: Mapped[dt.date] = mapped_column(Date)
    generation: Mapped[int] = mapped_column(BigInteger, server_default=text("1"))
    synced_generation: Mapped[int] = mapped_column(BigInteger, server_default=text("0"))
    status: Mapped[SyncStatus] = mapped_column(
        Enum(SyncStatus, name="sync_status", values_callable=lambda e: [m.value for m in e]),
        server_default=SyncStatus.PENDING.value,
    )
    attempts: Mapped[int] = mapped_column(server_default=text("0"))
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(server_default=func.now())
    pending_since: Mapped[dt.datetime | None] = mapped_column(server_default=func.now())
    # The last notification: a job waits until the key has been quiet for the debounce.
    synced_at: Mapped[dt.datetime | None]


class UserStatus(enum.StrEnum):
    ACTIVE = "active"
    REAUTH_REQUIRED = "reauth_required"  # the provider refused our refresh token
    DISCONNECTED = "disconnected"  # the person left, or revoked us at the provider


class User(Base):
    """A person whose data we keep; one user may hold accounts at several providers."""

    __tablename__ = "user"
    __table_args__ = (
        Index(None, "user_ref", unique=True, postgresql_where=text("user_ref IS NOT NULL")),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    user_ref: Mapped[str | None] = mapped_column(Text)  # the downstream service's own id
    status: Mapped[UserStatus] = mapped_column(
        Enum(UserStatus, name="user_status", values_callable=lambda e: [m.value for m in e]),
        server_default=UserStatus.ACTIVE.value,
    )
    timezone: Mapped[str | None] = mapped_column(Text)
    utc_offset_ms: Mapped[int | None]
    created_at: Mapped[dt.datetime] = mapped_column(server_default=func.now())
    updated_at: Mapped[dt.datetime] = mapped_column(server_default=func.now(), onupdate=func.now())


class ProviderAccount(Base):
    """A user's account at one provider, with its tokens (Fernet-encrypted, never plain)."""

    __tablename__ = "provider_account"
    __table_args__ = (UniqueConstraint("provider", "external_id"),)

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    provider: Mapped[str] = mapped_column(Text)
    external_id: Mapped[str] = mapped_column(Text)  # the provider's user id (Fitbit: ownerId)
    scopes: Mapped[list[str]] = mapped_column(ARRAY(Text), server_default="{}")
    # Collections a downstream service unsubscribed through the API: not re-subscribed by the
    # reconciler or a reconnect until it subscribes them again.
    unsubscribed: Mapped[list[str]] = mapped_column(ARRAY(Text), server_default="{}")
    access_token: Mapped[str | None] = mapped_column(Text)
    refresh_token: Mapped[str | None] = mapped_column(Text)
    access_expires_at: Mapped[dt.datetime | None]
    created_at: Mapped[dt.datetime] = mapped_column(server_default=func.now())
    updated_at: Mapped[dt.datetime] = mapped_column(server_default=func.now(), onupdate=func.now())


class Subscription(Base):
    """A provider subscription we registered for an account's collection."""

    __tablename__ = "subscription"
    __table_args__ = (UniqueConstraint("account_id", "collection"),)

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    account_id: Mapped[int] = mapped_column(
        ForeignKey("provider_account.id", ondelete="CASCADE"), index=True
    )
    collection: Mapped[str] = mapped_column(Text)
    subscription_id: Mapped[str] = mapped_column(Text, unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(server_default=func.now())


# -- connecting people ------------------------------------------------------------------------


class ConnectState(Base):
    """An onboarding in progress: the OAuth `state` (hashed) bound to a user_ref and verifier."""

    __tablename__ = "connect_state"

    state_hash: Mapped[str] = mapped_column(Text, primary_key=True)
    provider: Mapped[str] = mapped_column(Text)
    user_ref: Mapped[str] = mapped_column(Text)
    code_verifier: Mapped[str] = mapped_column(Text)  # Fernet-encrypted
    scopes: Mapped[list[str]] = mapped_column(ARRAY(Text))
    created_at: Mapped[dt.datetime] = mapped_column(server_default=func.now())
    expires_at: Mapped[dt.datetime] = mapped_column(index=True)


class AccountEvent(Base):
    """What happened to a person's connection, for downstream services to see."""

    __tablename__ = "account_event"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("user.id", ondelete="CASCADE"), index=True
    )
    user_ref: Mapped[str | None] = mapped_column(Text)
    provider: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(Text)
    detail: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(server_default=func.now())


# -- internal API clients ----------------------------------------------------------------------


class ApiClient(Base):
    """A machine client of the internal API (OAuth 2.0 client credentials).

    The secret is kept only as a salted scrypt hash; `client_id` is public.
    """

    __tablename__ = "api_client"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    client_id: Mapped[str] = mapped_column(Text, unique=True)
    name: Mapped[str] = mapped_column(Text)
    secret_hash: Mapped[str] = mapped_column(Text)
    scopes: Mapped[list[str]] = mapped_column(ARRAY(Text))
    created_at: Mapped[dt.datetime] = mapped_column(server_default=func.now())
    revoked_at: Mapped[dt.datetime | None]


class ApiToken(Base):
    """An access and refresh token pair issued to a client, kept only as SHA-256 digests.

    Pairs that descend from one client_credentials grant by refreshing share a `family`, so a
    replayed refresh token can revoke every token of its line.
    """

    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    api_client_id: Mapped[int] = mapped_column(
        ForeignKey("api_client.id", ondelete="CASCADE"), index=True
    )
    family: Mapped[str] = mapped_column(Text, index=True)
    access_hash: Mapped[str] = mapped_column(Text, unique=True)
    refresh_hash: Mapped[str] = mapped_column(Text, unique=True)
    scopes: Mapped[list[str]] = mapped_column(ARRAY(Text))  # of the access token
    grant_scopes: Mapped[list[str]] = mapped_column(ARRAY(Text))  # a refresh may ask for these
    access_expires_at: Mapped[dt.datetime]
    refresh_expires_at: Mapped[dt.datetime]
    created_at: Mapped[dt.datetime] = mapped_column(server_default=func.now())
    refreshed_at: Mapped[dt.datetime | None]  # the refresh token was spent
    revoked_at: Mapped[dt.datetime | None]


# -- health data -------------------------------------------------------------------------------
# One table per kind of provider-neutral row (`service.providers.rows`), written by
# `service.store.data`. Each table has exactly one unique constraint, its natural key, which the
# store upserts on. Dates and times are the user's local ones as the provider gave them.


class LogId(TypeDecorator[int]):
    """A provider's unsigned 64-bit log id: BIGINT is signed and overflows above 2**63 - 1."""

    impl = Numeric(20, 0)
    cache_ok = True

    def process_bind_param(self, value: int | None, dialect: Dialect) -> Decimal | None:
        return None if value is None else Decimal(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> int | None:
        return None if value is None else int(value)


NullableJSON = JSONB(none_as_null=True)
LocalDateTime = DateTime(timezone=False)


class DayRowMixin:
    """Whose row it is, from which provider, for which local day, and as the provider sent it."""

    # sort_order: these lead the table; a kind's own columns follow, then raw and synced_at.
    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True, sort_order=-1)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), sort_order=-1)
    provider: Mapped[str] = mapped_column(Text, sort_order=-1)
    date: Mapped[dt.date] = mapped_column(Date, sort_order=-1)
    # The user's offset from UTC when the row was synced: UTC = local time - offset.
    utc_offset_ms: Mapped[int | None] = mapped_column(sort_order=-1)
    raw: Mapped[dict[str, Any]] = mapped_column(sort_order=1)
    synced_at: Mapped[dt.datetime] = mapped_column(server_default=func.now(), sort_order=1)


def _logs(*key: str) -> tuple[UniqueConstraint, Index]:
    """A log's natural key, and the (user, date) index that day replacement and reads use."""
    return UniqueConstraint("user_id", "provider", *key), Index(None, "user_id", "date")


class ActivitySummary(DayRowMixin, Base):
    __tablename__ = "activity_summary"
    __table_args__ = (UniqueConstraint("user_id", "provider", "date"),)

    steps: Mapped[int | None]
    calories_out: Mapped[int | None]
    activity_calories: Mapped[int | None]
    calories_bmr: Mapped[int | None]
    distance_km: Mapped[float | None]
    floors: Mapped[int | None]
    elevation_m: Mapped[float | None]
    sedentary_minutes: Mapped[int | None]
    lightly_active_minutes: Mapped[int | None]
    fairly_active_minutes: Mapped[int | None]
    very_active_minutes: Mapped[int | None]
    resting_heart_rate: Mapped[int | None]
    heart_rate_zones: Mapped[list[dict[str, Any]] | None] = mapped_column(NullableJSON)


class ActivityLog(DayRowMixin, Base):
    __tablename__ = "activity_log"
    __table_args__ = _logs("log_id")

    log_id: Mapped[int] = mapped_column(LogId)
    start_time: Mapped[dt.datetime] = mapped_column(LocalDateTime)
    duration_ms: Mapped[int | None] = mapped_column(BigInteger)
    active_duration_ms: Mapped[int | None] = mapped_column(BigInteger)
    name: Mapped[str | None] = mapped_column(Text)
    activity_type_id: Mapped[int | None] = mapped_column(BigInteger)
    log_type: Mapped[str | None] = mapped_column(Text)
    calories: Mapped[int | None]
    steps: Mapped[int | None]
    distance_km: Mapped[float | None]
    average_heart_rate: Mapped[int | None]
    elevation_gain_m: Mapped[float | None]
    heart_rate_zones: Mapped[list[dict[str, Any]] | None] = mapped_column(NullableJSON)


class SleepLog(DayRowMixin, Base):
    """A sleep (or nap); `date` is the day it ended."""

    __tablename__ = "sleep_log"
    __table_args__ = _logs("log_id")

    log_id: Mapped[int] = mapped_column(LogId)
    start_time: Mapped[dt.datetime] = mapped_column(LocalDateTime)
    end_time: Mapped[dt.datetime | None] = mapped_column(LocalDateTime)
    duration_ms: Mapped[int | None] = mapped_column(BigInteger)
    efficiency: Mapped[int | None]
    minutes_asleep: Mapped[int | None]
    minutes_awake: Mapped[int | None]
    minutes_to_fall_asleep: Mapped[int | None]
    time_in_bed: Mapped[int | None]
    is_main_sleep: Mapped[bool | None]
    sleep_type: Mapped[str | None] = mapped_column(Text)
    stage_summary: Mapped[dict[str, Any] | None] = mapped_column(NullableJSON)
    stages: Mapped[list[dict[str, Any]] | None] = mapped_column(NullableJSON)
    short_wakes: Mapped[list[dict[str, Any]] | None] = mapped_column(NullableJSON)


class WeightLog(DayRowMixin, Base):
    # Fitbit can answer two entries with one logId from different sources (a scale and a manual
    # entry, say); keyed on the id alone, the second would overwrite the first. `source` is ''
    # when the provider names none, so the key never holds a NULL (NULLs never conflict).
    __tablename__ = "weight_log"
    __table_args__ = _logs("log_id", "source")

    log_id: Mapped[int] = mapped_column(LogId)
    source: Mapped[str] = mapped_column(Text)
    time: Mapped[dt.time | None]
    weight_kg: Mapped[float | None]
    bmi: Mapped[float | None]
    fat_percent: Mapped[float | None]


class BodyFatLog(DayRowMixin, Base):
    # Keyed like weight_log, for the same reason.
    __tablename__ = "body_fat_log"
    __table_args__ = _logs("log_id", "source")

    log_id: Mapped[int] = mapped_column(LogId)
    source: Mapped[str] = mapped_column(Text)
    time: Mapped[dt.time | None]
    fat_percent: Mapped[float | None]


class FoodLog(DayRowMixin, Base):
    __tablename__ = "food_log"
    __table_args__ = _logs("log_id")

    log_id: Mapped[int] = mapped_column(LogId)
    food_id: Mapped[int | None] = mapped_column(BigInteger)
    name: Mapped[str | None] = mapped_column(Text)
    brand: Mapped[str | None] = mapped_column(Text)
    meal_type_id: Mapped[int | None]
    amount: Mapped[float | None]
    unit: Mapped[str | None] = mapped_column(Text)
    calories: Mapped[float | None]
    carbs_g: Mapped[float | None]
    fat_g: Mapped[float | None]
    fiber_g: Mapped[float | None]
    protein_g: Mapped[float | None]
    sodium_mg: Mapped[float | None]


class NutritionSummary(DayRowMixin, Base):
    __tablename__ = "nutrition_summary"
    __table_args__ = (UniqueConstraint("user_id", "provider", "date"),)

    calories: Mapped[float | None]
    carbs_g: Mapped[float | None]
    fat_g: Mapped[float | None]
    fiber_g: Mapped[float | None]
    protein_g: Mapped[float | None]
    sodium_mg: Mapped[float | None]


class WaterLog(DayRowMixin, Base):
    __tablename__ = "water_log"
    __table_args__ = _logs("log_id")

    log_id: Mapped[int] = mapped_column(LogId)
    amount_ml: Mapped[float | None]


class WaterSummary(DayRowMixin, Base):
    __tablename__ = "water_summary"
    __table_args__ = (UniqueConstraint("user_id", "provider", "date"),)

    water_ml: Mapped[float | None]


# -- backfills ---------------------------------------------------------------------------------


class Backfill(Base):
    """A request to fetch a person's history: every (collection, date) of a range.

    Its keys are ordinary sync requests; progress is read from them (`service.backfills`), so
    nothing here is updated while the workers run. A key counts as done once synced after
    `created_at`; running the same backfill again resumes it and skips those keys.
    """

    __tablename__ = "backfill"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    provider: Mapped[str] = mapped_column(Text)
    owner_id: Mapped[str] = mapped_column(Text)  # the provider's user id, as sync keys name it
    collections: Mapped[list[str]] = mapped_column(ARRAY(Text))
    from_date: Mapped[dt.date] = mapped_column(Date)
    to_date: Mapped[dt.date] = mapped_column(Date)
    total_keys: Mapped[int]
    calls: Mapped[int]  # provider calls every key needs, at the least
    calls_per_hour: Mapped[int]  # what the rate budget allows backfill when it was created
    created_at: Mapped[dt.datetime] = mapped_column(server_default=func.now())
    finished_at: Mapped[dt.datetime | None]  # when it was first seen with nothing pending
