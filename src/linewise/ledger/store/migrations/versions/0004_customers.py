"""Customers: verified income, bureau reports, verified assets and consent per source.

Append-only tables keyed by ``lines.customer_id``; nothing already stored changes.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer, "sqlite")


def _common(*columns: sa.Column) -> list[sa.Column]:  # type: ignore[type-arg]
    return [
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        sa.Column("customer_id", sa.String(64), nullable=False),
        *columns,
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "customer_incomes",
        *_common(
            sa.Column("currency", sa.String(3), nullable=False),
            sa.Column("income_monthly", sa.BigInteger, nullable=False),
            sa.Column("verified_on", sa.Date, nullable=False),
            sa.Column("source", sa.String(16), nullable=False),
            sa.Column("evidence", sa.String(128), nullable=False),
        ),
    )
    op.create_index("ix_customer_incomes_customer", "customer_incomes", ["customer_id", "verified_on"])
    op.create_table(
        "customer_bureau_reports",
        *_common(
            sa.Column("currency", sa.String(3), nullable=False),
            sa.Column("as_of", sa.Date, nullable=False),
            sa.Column("enquiries_6m", sa.Integer, nullable=False),
            sa.Column("external_debt", sa.BigInteger, nullable=False),
            sa.Column("external_dpd_max_12m", sa.Integer, nullable=False),
            sa.Column("bureau_score", sa.Double),
        ),
    )
    op.create_index("ix_customer_bureau_reports_customer", "customer_bureau_reports", ["customer_id", "as_of"])
    op.create_table(
        "customer_assets",
        *_common(
            sa.Column("currency", sa.String(3), nullable=False),
            sa.Column("amount", sa.BigInteger, nullable=False),
            sa.Column("verified_on", sa.Date, nullable=False),
            sa.Column("evidence", sa.String(128), nullable=False),
        ),
    )
    op.create_index("ix_customer_assets_customer", "customer_assets", ["customer_id", "verified_on"])
    op.create_table(
        "customer_consents",
        *_common(
            sa.Column("source", sa.String(16), nullable=False),
            sa.Column("granted", sa.Boolean, nullable=False),
            sa.Column("effective_on", sa.Date, nullable=False),
        ),
    )
    op.create_index("ix_customer_consents_customer", "customer_consents", ["customer_id", "source", "effective_on"])


def downgrade() -> None:
    for table in ("customer_consents", "customer_assets", "customer_bureau_reports", "customer_incomes"):
        op.drop_table(table)
