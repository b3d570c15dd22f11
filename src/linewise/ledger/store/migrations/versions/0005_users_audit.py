"""Users of the service (role, argon2 hash, the customer a customer user is) and the audit log.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer, "sqlite")


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        sa.Column("username", sa.String(64), nullable=False, unique=True),
        sa.Column("password_hash", sa.String(256), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("customer_id", sa.String(64)),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("role IN ('customer', 'analyst', 'admin')", name="ck_users_role"),
        sa.CheckConstraint("(role = 'customer') = (customer_id IS NOT NULL)", name="ck_users_customer"),
    )
    op.create_table(
        "audit_log",
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("target", sa.String(128), nullable=False),
        sa.Column("ref", sa.String(128)),
        sa.Column("reason", sa.String(64)),
        sa.Column("detail", sa.Text, nullable=False),
        sa.UniqueConstraint("target", "ref", name="uq_audit_log_target_ref"),
    )
    op.create_index("ix_audit_log_target", "audit_log", ["target", "at"])


def downgrade() -> None:
    op.drop_table("audit_log")
    op.drop_table("users")
