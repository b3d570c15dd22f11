"""Helpers shared by the ledger's store tests."""

from sqlalchemy import inspect, select

from linewise.ledger.store.tables import metadata


def snapshot(engine):
    """Every row of every table, to compare before and after (a table an older schema lacks: no rows)."""
    present = set(inspect(engine).get_table_names())
    with engine.connect() as conn:
        return {
            t.name: sorted(map(tuple, conn.execute(select(t)).all()), key=repr) if t.name in present else []
            for t in metadata.sorted_tables
        }
