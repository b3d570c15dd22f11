"""The ledger's SQL store: tables, migrations, repository and unit of work."""

from linewise.ledger.store.engine import (
    check_connection,
    create_store_engine,
    is_at_head,
    upgrade,
)
from linewise.ledger.store.unit_of_work import UnitOfWork, read_snapshot

__all__ = ["UnitOfWork", "check_connection", "create_store_engine", "is_at_head", "read_snapshot", "upgrade"]
