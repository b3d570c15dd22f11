"""Helpers shared by the ledger's store tests."""

from sqlalchemy import select

from linewise.ledger.store.tables import metadata


def snapshot(engine):
    """Every row of every table, to compare before and after."""
    with engine.connect() as conn:
        return {t.name: sorted(map(tuple, conn.execute(select(t)).all()), key=repr)
                for t in metadata.sorted_tables}
