"""Idempotency keys scoped to their account: unique on (account_id, idempotency_key).

Every key stored so far was unique across the ledger, so it stays unique within its
account: the rows are kept as they are and only the constraint moves. SQLite cannot
drop a constraint in place, so the table is copied (Alembic's batch mode); its
unnamed unique constraint is found by a naming convention.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

_CONVENTION = {"uq": "uq_%(table_name)s_%(column_0_name)s"}
_NEW = "uq_events_account_key"


def _unique_on(columns: list[str]) -> str:
    """The name of the events table's unique constraint on exactly ``columns``."""
    for constraint in sa.inspect(op.get_bind()).get_unique_constraints("events"):
        if constraint["column_names"] == columns:
            # SQLite reflects an unnamed constraint with no name: batch mode names it so.
            return constraint["name"] or f"uq_events_{columns[0]}"
    raise RuntimeError(f"events has no unique constraint on {columns}")  # pragma: no cover


def upgrade() -> None:
    old = _unique_on(["idempotency_key"])
    with op.batch_alter_table("events", naming_convention=_CONVENTION) as batch:
        batch.drop_constraint(old, type_="unique")
        batch.create_unique_constraint(_NEW, ["account_id", "idempotency_key"])


def downgrade() -> None:
    # Fails (and changes nothing) once two accounts have used the same key.
    with op.batch_alter_table("events", naming_convention=_CONVENTION) as batch:
        batch.drop_constraint(_NEW, type_="unique")
        batch.create_unique_constraint("uq_events_idempotency_key", ["idempotency_key"])
