"""The revolving-credit ledger: lines, events and their projections.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer, "sqlite")


def upgrade() -> None:
    op.create_table(
        "lines",
        sa.Column("account_id", sa.String(64), primary_key=True),
        sa.Column("customer_id", sa.String(64), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("credit_limit", sa.BigInteger, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("opened_on", sa.Date, nullable=False),
        sa.Column("last_event_on", sa.Date, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
    )
    op.create_index("ix_lines_customer_id", "lines", ["customer_id"])
    op.create_table(
        "events",
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        sa.Column("account_id", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("occurred_on", sa.Date, nullable=False),
        sa.Column("idempotency_key", sa.String(128), nullable=False, unique=True),
        sa.Column("reason_code", sa.String(64)),
        sa.Column("decision_ref", sa.String(128)),
        sa.Column("payload", sa.Text, nullable=False),
        sa.Column("result", sa.Text, nullable=False),
        sa.Column("posted_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_events_account_id", "events", ["account_id"])
    op.create_table(
        "drawdowns",
        sa.Column("account_id", sa.String(64), sa.ForeignKey("lines.account_id"), primary_key=True),
        sa.Column("seq", sa.Integer, primary_key=True),
        sa.Column("drawn_on", sa.Date, nullable=False),
        sa.Column("principal", sa.BigInteger, nullable=False),
        sa.Column("term_months", sa.Integer, nullable=False),
        sa.Column("method", sa.String(32), nullable=False),
        sa.Column("purpose", sa.String(64), nullable=False),
        sa.Column("annual_rate", sa.String(16), nullable=False),
        sa.Column("day_count", sa.String(8), nullable=False),
        sa.Column("grace_days", sa.Integer, nullable=False),
        sa.Column("penalty_rate", sa.String(16), nullable=False),
        sa.Column("prepayment", sa.String(32), nullable=False),
    )
    op.create_table(
        "instalments",
        sa.Column("account_id", sa.String(64), primary_key=True),
        sa.Column("drawdown_seq", sa.Integer, primary_key=True),
        sa.Column("number", sa.Integer, primary_key=True),
        sa.Column("due_on", sa.Date, nullable=False),
        sa.Column("principal_due", sa.BigInteger, nullable=False),
        sa.Column("interest_due", sa.BigInteger, nullable=False),
        sa.Column("principal_paid", sa.BigInteger, nullable=False),
        sa.Column("interest_paid", sa.BigInteger, nullable=False),
        sa.Column("penalty_accrued", sa.BigInteger, nullable=False),
        sa.Column("penalty_paid", sa.BigInteger, nullable=False),
        sa.Column("penalty_accrued_to", sa.Date),
        sa.Column("settled_on", sa.Date),
    )
    op.create_table(
        "allocations",
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        sa.Column("account_id", sa.String(64), nullable=False),
        sa.Column("event_key", sa.String(128), nullable=False),
        sa.Column("drawdown_seq", sa.Integer, nullable=False),
        sa.Column("instalment_number", sa.Integer, nullable=False),
        sa.Column("component", sa.String(16), nullable=False),
        sa.Column("amount", sa.BigInteger, nullable=False),
        sa.Column("posted_on", sa.Date, nullable=False),
    )
    op.create_index("ix_allocations_account_id", "allocations", ["account_id"])
    op.create_table(
        "limit_history",
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        sa.Column("account_id", sa.String(64), nullable=False),
        sa.Column("effective_on", sa.Date, nullable=False),
        sa.Column("credit_limit", sa.BigInteger, nullable=False),
        sa.Column("event_key", sa.String(128), nullable=False),
    )
    op.create_index("ix_limit_history_account", "limit_history", ["account_id", "effective_on"])


def downgrade() -> None:
    for table in ("limit_history", "allocations", "instalments", "drawdowns", "events", "lines"):
        op.drop_table(table)
