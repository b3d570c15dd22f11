"""PostgreSQL databases for tests, reused: a database a test is done with is put back as its template was.

Creating a database from a template copies the system catalogues too (several MB) and
costs PostgreSQL 0.3-0.5 s; a suite of some 700 PostgreSQL tests spent minutes on it.
A database a test is done with is instead emptied and refilled with its template's
rows (``COPY`` out of the template once, in for each reuse), its sequences set back
to the template's, in a few tens of milliseconds. One whose schema the test changed
(a migration run down, a table made) is dropped and never reused.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import psycopg
from psycopg import sql

from linewise.ledger.store.tables import metadata

# What a test may change besides rows: tables, columns, indexes and the migration.
_SCHEMA = """
SELECT
  (SELECT string_agg(table_name || '.' || column_name || ':' || data_type || ':' || is_nullable, ','
                     ORDER BY table_name, ordinal_position)
     FROM information_schema.columns WHERE table_schema = 'public'),
  (SELECT string_agg(indexname, ',' ORDER BY indexname) FROM pg_indexes WHERE schemaname = 'public'),
  (SELECT string_agg(version_num, ',') FROM alembic_version)
"""
_SEQUENCES = "SELECT sequencename, last_value FROM pg_sequences WHERE schemaname = 'public' ORDER BY sequencename"
_OTHERS = "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"


@dataclass
class Contents:
    """A template's rows (``COPY`` text, per table in the order foreign keys allow), sequences and schema."""

    tables: list[tuple[str, bytes]]
    sequences: list[tuple[str, int | None]]
    schema: tuple[str | None, ...]
    idle: list[str] = field(default_factory=list)


def read_contents(conninfo: str) -> Contents | None:
    """What a copy of the database at ``conninfo`` must hold; ``None`` when it has tables linewise does not know."""
    order = [table.name for table in metadata.sorted_tables]
    with psycopg.connect(conninfo, autocommit=True) as conn:
        present = {row[0] for row in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")}
        if present - set(order) - {"alembic_version"}:
            return None
        tables = []
        for name in (table for table in order if table in present):
            with conn.cursor().copy(sql.SQL("COPY {} TO STDOUT").format(sql.Identifier(name))) as copy:
                tables.append((name, b"".join(bytes(chunk) for chunk in copy)))
        sequences = [(str(name), last) for name, last in conn.execute(_SEQUENCES)]
        schema = tuple(conn.execute(_SCHEMA).fetchone() or ())
    return Contents(tables, sequences, schema)


def put_back(conninfo: str, contents: Contents) -> bool:
    """Make the database at ``conninfo`` hold ``contents`` again; ``False`` (nothing done) when its schema changed."""
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(_OTHERS)
        if tuple(conn.execute(_SCHEMA).fetchone() or ()) != contents.schema:
            return False
        with conn.transaction():
            # DELETE, not TRUNCATE: the tables are small, and TRUNCATE makes new files for each.
            for name, _ in reversed(contents.tables):
                conn.execute(sql.SQL("DELETE FROM {}").format(sql.Identifier(name)))
            for name, rows in contents.tables:
                if rows:
                    with conn.cursor().copy(sql.SQL("COPY {} FROM STDIN").format(sql.Identifier(name))) as copy:
                        copy.write(rows)
            for name, last in contents.sequences:
                value, called = (1, False) if last is None else (last, True)
                conn.execute(
                    "SELECT setval(%s::regclass, %s, %s)", (sql.Identifier(name).as_string(conn), value, called)
                )
    return True
