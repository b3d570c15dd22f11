"""The decision log: strategies, decision runs and decisions with their features.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer, "sqlite")


def upgrade() -> None:
    op.create_table(
        "strategies",
        sa.Column("ref", sa.String(128), primary_key=True),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("stored_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "decision_runs",
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        sa.Column("as_of", sa.Date, nullable=False),
        sa.Column("trigger", sa.String(16), nullable=False),
        sa.Column("strategy_ref", sa.String(128), sa.ForeignKey("strategies.ref"), nullable=False),
        sa.Column("model_ref", sa.String(128), nullable=False),
        sa.Column("with_recourse", sa.Boolean, nullable=False),
        sa.Column("accounts", sa.Integer, nullable=False),
        sa.Column("stored_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "decisions",
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        sa.Column("run_id", _ID, sa.ForeignKey("decision_runs.id"), nullable=False),
        sa.Column("account_id", sa.String(64), nullable=False),
        sa.Column("as_of", sa.Date, nullable=False),
        sa.Column("trigger", sa.String(16), nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("current_limit", sa.BigInteger, nullable=False),
        sa.Column("new_limit", sa.BigInteger, nullable=False),
        sa.Column("pd", sa.Double, nullable=False),
        sa.Column("score", sa.Double, nullable=False),
        sa.Column("risk_grade", sa.String(32), nullable=False),
        sa.Column("segment", sa.String(64), nullable=False),
        sa.Column("reasons", sa.Text, nullable=False),
        sa.Column("recourse", sa.Text, nullable=False),
        sa.Column("recourse_limit", sa.BigInteger),
        sa.Column("recourse_on", sa.Date),
        sa.Column("strategy_ref", sa.String(128), nullable=False),
        sa.Column("model_ref", sa.String(128), nullable=False),
        sa.Column("arm", sa.String(64), nullable=False),
        sa.Column("features", sa.Text, nullable=False),
        sa.Column("context", sa.Text, nullable=False),
    )
    op.create_index("ix_decisions_run_id", "decisions", ["run_id"])
    op.create_index("ix_decisions_account", "decisions", ["account_id", "as_of"])


def downgrade() -> None:
    for table in ("decisions", "decision_runs", "strategies"):
        op.drop_table(table)
