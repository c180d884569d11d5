"""health data: activity, sleep, body, food and water tables

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-21
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Column = sa.Column[object]


def _int(name: str) -> Column:
    return sa.Column(name, sa.Integer(), nullable=True)


def _bigint(name: str) -> Column:
    return sa.Column(name, sa.BigInteger(), nullable=True)


def _float(name: str) -> Column:
    return sa.Column(name, sa.Double(), nullable=True)


def _text(name: str) -> Column:
    return sa.Column(name, sa.Text(), nullable=True)


def _json(name: str) -> Column:
    return sa.Column(name, postgresql.JSONB(), nullable=True)


def _create(table: str, key: list[str], *columns: Column) -> None:
    """A table of health data: who, which provider, which local day, its columns, raw JSON."""
    op.create_table(
        table,
        sa.Column("id", sa.BigInteger(), sa.Identity(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("provider", sa.Text(), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("utc_offset_ms", sa.Integer(), nullable=True),
        *columns,
        sa.Column("raw", postgresql.JSONB(), nullable=False),
        sa.Column(
            "synced_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user.id"], name=f"fk_{table}_user_id_user", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=f"pk_{table}"),
        sa.UniqueConstraint(
            "user_id", "provider", *key, name=f"uq_{table}_user_id_provider_{'_'.join(key)}"
        ),
    )
    if key != ["date"]:
        op.create_index(f"ix_{table}_user_id", table, ["user_id", "date"])


def _log_id() -> Column:
    return sa.Column("log_id", sa.Numeric(precision=20, scale=0), nullable=False)


def _local(name: str, *, nullable: bool) -> Column:
    return sa.Column(name, sa.DateTime(timezone=False), nullable=nullable)


def upgrade() -> None:
    _create(
        "activity_summary",
        ["date"],
        *map(_int, ["steps", "calories_out", "activity_calories", "calories_bmr"]),
        _float("distance_km"),
        _int("floors"),
        _float("elevation_m"),
        *map(_int, ["sedentary_minutes", "lightly_active_minutes", "fairly_active_minutes"]),
        *map(_int, ["very_active_minutes", "resting_heart_rate"]),
        _json("heart_rate_zones"),
    )
    _create(
        "activity_log",
        ["log_id"],
        _log_id(),
        _local("start_time", nullable=False),
        *map(_bigint, ["duration_ms", "active_duration_ms"]),
        _text("name"),
        _bigint("activity_type_id"),
        _text("log_type"),
        *map(_int, ["calories", "steps"]),
        _float("distance_km"),
        _int("average_heart_rate"),
        _float("elevation_gain_m"),
        _json("heart_rate_zones"),
    )
    _create(
        "sleep_log",
        ["log_id"],
        _log_id(),
        _local("start_time", nullable=False),
        _local("end_time", nullable=True),
        _bigint("duration_ms"),
        *map(_int, ["efficiency", "minutes_asleep", "minutes_awake", "minutes_to_fall_asleep"]),
        _int("time_in_bed"),
        sa.Column("is_main_sleep", sa.Boolean(), nullable=True),
        _text("sleep_type"),
        *map(_json, ["stage_summary", "stages", "short_wakes"]),
    )
    _create(
        "weight_log",
        ["log_id", "source"],
        _log_id(),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("time", sa.Time(), nullable=True),
        *map(_float, ["weight_kg", "bmi", "fat_percent"]),
    )
    _create(
        "body_fat_log",
        ["log_id", "source"],
        _log_id(),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("time", sa.Time(), nullable=True),
        _float("fat_percent"),
    )
    nutrients = ["calories", "carbs_g", "fat_g", "fiber_g", "protein_g", "sodium_mg"]
    _create(
        "food_log",
        ["log_id"],
        _log_id(),
        _bigint("food_id"),
        *map(_text, ["name", "brand"]),
        _int("meal_type_id"),
        _float("amount"),
        _text("unit"),
        *map(_float, nutrients),
    )
    _create("nutrition_summary", ["date"], *map(_float, nutrients))
    _create("water_log", ["log_id"], _log_id(), _float("amount_ml"))
    _create("water_summary", ["date"], _float("water_ml"))


TABLES = [
    "water_summary",
    "water_log",
    "nutrition_summary",
    "food_log",
    "body_fat_log",
    "weight_log",
    "sleep_log",
    "activity_log",
    "activity_summary",
]


def downgrade() -> None:
    for table in TABLES:
        op.drop_table(table)
