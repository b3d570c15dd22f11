"""Stored model versions, activations of strategies and models, and who stored a strategy.

A model version is its directory's files as text, once per ``id@version``; the
strategies table (the decision log's) also takes strategies stored to be activated,
with who stored them. ``activations`` is append-only: the active version of a kind is
that of its latest row.

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer, "sqlite")


def upgrade() -> None:
    op.add_column("strategies", sa.Column("stored_by", sa.String(64)))
    op.create_table(
        "model_versions",
        sa.Column("ref", sa.String(128), primary_key=True),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("currency", sa.String(3)),
        sa.Column("files", sa.Text, nullable=False),
        sa.Column("stored_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("stored_by", sa.String(64), nullable=False),
    )
    op.create_table(
        "activations",
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("ref", sa.String(128), nullable=False),
        sa.Column("activated_by", sa.String(64), nullable=False),
        sa.Column("activated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("note", sa.Text),
        sa.CheckConstraint("kind IN ('strategy', 'model')", name="ck_activations_kind"),
    )
    op.create_index("ix_activations_kind", "activations", ["kind", "id"])


def downgrade() -> None:
    op.drop_table("activations")
    op.drop_table("model_versions")
    with op.batch_alter_table("strategies") as batch:
        batch.drop_column("stored_by")
