"""notification audit log and sync_request

Revision ID: 0001
Revises:
Create Date: 2026-11-21
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

sync_status = postgresql.ENUM("pending", "synced", "failed", name="sync_status", create_type=False)


def upgrade() -> None:
    sync_status.create(op.get_bind(), checkfirst=False)
    op.create_table(
        "notification",
        sa.Column("id", sa.BigInteger(), sa.Identity(), nullable=False),
        sa.Column(
            "received_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column("provider", sa.Text(), nullable=False),
        sa.Column("owner_id", sa.Text(), nullable=False),
        sa.Column("owner_type", sa.Text(), nullable=True),
        sa.Column("collection_type", sa.Text(), nullable=False),
        sa.Column("date", sa.Date(), nullable=True),
        sa.Column("subscription_id", sa.Text(), nullable=True),
        sa.Column("raw", postgresql.JSONB(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_notification"),
    )
    op.create_index("ix_notification_owner_id", "notification", ["owner_id", "received_at"])
    op.create_index("ix_notification_received_at", "notification", ["received_at"])
    op.create_table(
        "sync_request",
        sa.Column("id", sa.BigInteger(), sa.Identity(), nullable=False),
        sa.Column("provider", sa.Text(), nullable=False),
        sa.Column("owner_id", sa.Text(), nullable=False),
        sa.Column("collection", sa.Text(), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("generation", sa.BigInteger(), server_default=sa.text("1"), nullable=False),
        sa.Column(
            "synced_generation", sa.BigInteger(), server_default=sa.text("0"), nullable=False
        ),
        sa.Column("status", sync_status, server_default="pending", nullable=False),
        sa.Column("attempts", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column(
            "pending_since", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=True
        ),
        sa.Column("synced_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_sync_request"),
        sa.UniqueConstraint(
            "provider",
            "owner_id",
            "collection",
            "date",
            name="uq_sync_request_provider_owner_id_collection_date",
        ),
    )
    op.create_index(
        "ix_sync_request_pending_since",
        "sync_request",
        ["pending_since"],
        postgresql_where=sa.text("status = 'pending'"),
    )
    op.create_index("ix_sync_request_owner_id", "sync_request", ["owner_id", "date"])


def downgrade() -> None:
    op.drop_table("sync_request")
    op.drop_table("notification")
    sync_status.drop(op.get_bind(), checkfirst=False)
