"""Helpers shared by the ledger's store tests."""

from sqlalchemy import inspect, select

from linewise.ledger.store.tables import metadata


def snapshot(engine):
    """Every row of every table, to compare before and after.

    Of an older schema, the tables and columns it has (a table it lacks: no rows).
    """
    with engine.connect() as conn:
        inspector = inspect(conn)
        present = set(inspector.get_table_names())
        out = {}
        for table in metadata.sorted_tables:
            if table.name not in present:
                out[table.name] = []
                continue
            held = {column["name"] for column in inspector.get_columns(table.name)}
            query = select(*(column for column in table.columns if column.name in held))
            out[table.name] = sorted(map(tuple, conn.execute(query).all()), key=repr)
        return out
