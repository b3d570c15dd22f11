"""A unit of work: one transaction that rolls back unless ``commit()`` was called."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from types import TracebackType

from sqlalchemy import Connection, Engine

__all__ = ["UnitOfWork", "read_snapshot"]


class UnitOfWork:
    """Open a transaction on enter; roll back on exit unless committed.

    On SQLite the transaction is ``BEGIN IMMEDIATE`` (see ``create_store_engine``):
    it holds the write lock from the start, as ``SELECT ... FOR UPDATE`` does for
    the line row on PostgreSQL.
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._conn: Connection | None = None
        self._committed = False

    @property
    def conn(self) -> Connection:
        """The connection of the open transaction."""
        if self._conn is None:
            raise RuntimeError("unit of work used outside its `with` block")
        return self._conn

    def __enter__(self) -> UnitOfWork:
        self._conn = self.engine.connect()
        self._conn.begin()
        self._committed = False
        return self

    def commit(self) -> None:
        """Make the transaction's writes permanent."""
        self.conn.commit()
        self._committed = True

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        conn = self.conn
        try:
            if not self._committed:
                conn.rollback()
        finally:
            conn.close()
            self._conn = None


@contextmanager
def read_snapshot(engine: Engine) -> Iterator[Connection]:
    """A read-only connection that sees one consistent snapshot for all its queries.

    On PostgreSQL the default READ COMMITTED would let a posting that commits
    between two SELECTs show a drawdown without its instalments; REPEATABLE READ
    reads every table as of the first query. SQLite's transactions are snapshots
    already.
    """
    conn = engine.connect()
    try:
        if engine.dialect.name == "postgresql":
            conn = conn.execution_options(isolation_level="REPEATABLE READ")
        with conn.begin():
            yield conn
    finally:
        conn.close()
