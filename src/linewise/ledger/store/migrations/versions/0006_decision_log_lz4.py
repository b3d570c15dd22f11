"""The decision log's JSON columns compressed with LZ4 on PostgreSQL.

A decision's features and context (with the history its recourse was lived on) make
a row of about 2.5 KB, which PostgreSQL compresses on the way in. Its default, pglz,
took more of a 100,000-line review's logging than anything else; LZ4 stores the same
text in about the same room at a fraction of the time. Rows already stored keep
their compression. A server built without LZ4 (or older than PostgreSQL 14) keeps
pglz: nothing else changes. SQLite has no such setting.

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

_COLUMNS = ("features", "context")


def _lz4_available() -> bool:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return False
    found = bind.execute(
        sa.text("SELECT 1 FROM pg_settings WHERE name = 'default_toast_compression' AND 'lz4' = ANY(enumvals)")
    ).first()
    return found is not None


def _compress(method: str) -> None:
    if _lz4_available():
        settings = ", ".join(f"ALTER COLUMN {column} SET COMPRESSION {method}" for column in _COLUMNS)
        op.execute(f"ALTER TABLE decisions {settings}")


def upgrade() -> None:
    _compress("lz4")


def downgrade() -> None:
    _compress("pglz")
