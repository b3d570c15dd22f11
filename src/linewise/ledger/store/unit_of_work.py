"""A unit of work: one transaction that rolls back unless ``commit()`` was called."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from types import TracebackType
from typing import TypeVar

from sqlalchemy import Connection, Engine

__all__ = ["UnitOfWork", "read_in_snapshot", "read_snapshot"]

_T = TypeVar("_T")
# Reads run at once on PostgreSQL: the server aggregates on every core it has, and
# while it does the client turns the rows already come into arrays.
_READERS = 3
_SNAPSHOT_ID = re.compile(r"[0-9A-F]+-[0-9A-F]+(-[0-9]+)?")


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


def read_in_snapshot(conn: Connection, reads: Sequence[Callable[[Connection], _T]]) -> list[_T]:
    """Each read's result, every read seeing ``conn``'s snapshot (open it with :func:`read_snapshot`).

    On PostgreSQL the reads run at once, each on a connection of its own that imports
    the snapshot ``conn`` exports (``SET TRANSACTION SNAPSHOT``), so they see exactly
    what ``conn`` sees: a posting committing meanwhile is seen by none of them. Elsewhere
    they run one after another on ``conn``. Reads are started in the order given: put
    the slowest first.
    """
    if conn.dialect.name != "postgresql" or len(reads) < 2:
        return [read(conn) for read in reads]
    snapshot = str(conn.exec_driver_sql("SELECT pg_export_snapshot()").scalar_one())
    # SET takes no parameters; the id is the server's own, and checked before it is quoted.
    assert _SNAPSHOT_ID.fullmatch(snapshot), snapshot
    engine = conn.engine

    def run(read: Callable[[Connection], _T]) -> _T:
        with engine.connect() as other:
            shared = other.execution_options(isolation_level="REPEATABLE READ")
            with shared.begin():
                shared.exec_driver_sql(f"SET TRANSACTION SNAPSHOT '{snapshot}'")
                return read(shared)

    with ThreadPoolExecutor(max_workers=min(_READERS, len(reads))) as pool:
        return list(pool.map(run, reads))
