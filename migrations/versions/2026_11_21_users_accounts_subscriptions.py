"""users, their provider accounts and subscriptions

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

user_status = postgresql.ENUM(
    "active", "reauth_required", "disconnected", name="user_status", create_type=False
)


def _timestamps() -> list[sa.Column[object]]:
    return [
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
    ]


def upgrade() -> None:
    user_status.create(op.get_bind(), checkfirst=False)
    op.create_table(
        "user",
        sa.Column("id", sa.BigInteger(), sa.Identity(), nullable=False),
        sa.Column("user_ref", sa.Text(), nullable=True),
        sa.Column("status", user_status, server_default="active", nullable=False),
        sa.Column("timezone", sa.Text(), nullable=True),
        sa.Column("utc_offset_ms", sa.Integer(), nullable=True),
        *_timestamps(),
        sa.PrimaryKeyConstraint("id", name="pk_user"),
    )
    op.create_index(
        "ix_user_user_ref",
        "user",
        ["user_ref"],
        unique=True,
        postgresql_where=sa.text("user_ref IS NOT NULL"),
    )
    op.create_table(
        "provider_account",
        sa.Column("id", sa.BigInteger(), sa.Identity(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("provider", sa.Text(), nullable=False),
        sa.Column("external_id", sa.Text(), nullable=False),
        sa.Column("scopes", postgresql.ARRAY(sa.Text()), server_default="{}", nullable=False),
        sa.Column("access_token", sa.Text(), nullable=True),
        sa.Column("refresh_token", sa.Text(), nullable=True),
        sa.Column("access_expires_at", sa.DateTime(timezone=True), nullable=True),
        *_timestamps(),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user.id"], name="fk_provider_account_user_id_user", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_provider_account"),
        sa.UniqueConstraint(
            "provider", "external_id", name="uq_provider_account_provider_external_id"
        ),
    )
    op.create_index("ix_provider_account_user_id", "provider_account", ["user_id"])
    op.create_table(
        "subscription",
        sa.Column("id", sa.BigInteger(), sa.Identity(), nullable=False),
        sa.Column("account_id", sa.BigInteger(), nullable=False),
        sa.Column("collection", sa.Text(), nullable=False),
        sa.Column("subscription_id", sa.Text(), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["provider_account.id"],
            name="fk_subscription_account_id_provider_account",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_subscription"),
        sa.UniqueConstraint(
            "account_id", "collection", name="uq_subscription_account_id_collection"
        ),
        sa.UniqueConstraint("subscription_id", name="uq_subscription_subscription_id"),
    )
    op.create_index("ix_subscription_account_id", "subscription", ["account_id"])


def downgrade() -> None:
    op.drop_table("subscription")
    op.drop_table("provider_account")
    op.drop_table("user")
    user_status.drop(op.get_bind(), checkfirst=False)
