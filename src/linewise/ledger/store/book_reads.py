"""Reads of the projections for a panel as of a date, as arrays: one account, some, or the book.

Each table is read once, with only the columns a panel needs and only the rows dated
on or before ``as_of``; drawdowns, allocations and instalments summed per account and
month by the database, so what crosses to the client grows with accounts x months,
not with events. Dates come back as day or month numbers computed by the database,
so the client turns no date objects into arrays. One account's reads use the
``account_id`` indexes (primary keys, and the indexes on allocations and limit history).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from datetime import date
from typing import Any

import numpy as np
import psycopg
from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Connection,
    Date,
    Dialect,
    Integer,
    and_,
    bindparam,
    case,
    cast,
    func,
    literal_column,
    or_,
    select,
    type_coerce,
)
from sqlalchemy.exc import DBAPIError

from linewise.ledger.panel import NEVER_DAY, BookArrays
from linewise.ledger.store.tables import (
    allocations,
    drawdowns,
    instalments,
    limit_history,
    lines,
)

__all__ = ["LINE_COLUMNS", "ArrayRead", "book_array_reads", "read_book_arrays", "read_lines"]

LINE_COLUMNS = (
    "account_id",
    "customer_id",
    "currency",
    "status",
    "credit_limit",
    "version",
    "opened_on",
    "last_event_on",
)


def _days(column: Any, dialect: str) -> ColumnElement[int]:
    """``column`` (a date) as days since 1970-01-01, computed by the database."""
    if dialect == "postgresql":
        return type_coerce(column - literal_column("DATE '1970-01-01'"), Integer)
    # SQLite stores dates as ISO text; julianday() reads it exactly, 2440587.5 is 1970-01-01.
    return cast(func.julianday(column) - 2440587.5, Integer)


def _month(column: Any, dialect: str) -> ColumnElement[int]:
    """``column`` (a date) as months since 1970-01, computed by the database."""
    year: Any
    month: Any
    if dialect == "postgresql":
        # date_part, a float, not EXTRACT: PostgreSQL 14 made EXTRACT's result numeric, which
        # cost a tenth to a fifth more to group a whole book's allocations by month.
        year = func.date_part(literal_column("'year'"), column)
        month = func.date_part(literal_column("'month'"), column)
    else:
        year, month = func.strftime("%Y", column), func.strftime("%m", column)
    # Literal numbers, not parameters: PostgreSQL matches a GROUP BY expression to the
    # selected one by its text, and two parameters are two different expressions.
    twelve, epoch = literal_column("12", Integer), literal_column(str(1970 * 12 + 1), Integer)
    return cast(year, Integer) * twelve + cast(month, Integer) - epoch


def _sum(value: Any) -> ColumnElement[int]:
    # PostgreSQL sums bigints as numeric: cast back, so the driver gives ints, not Decimals.
    return cast(func.sum(value), BigInteger)


def _where_accounts(query: Any, column: Any, *, some: bool) -> Any:
    return query.where(column.in_(bindparam("accounts", expanding=True))) if some else query


_AS_OF = bindparam("as_of", type_=Date)
# One read of the book: some of BookArrays' columns, from a connection.
ArrayRead = Callable[[Connection], list[np.ndarray]]


@functools.cache
def _statements(dialect: str, *, some: bool) -> list[tuple[Any, str]]:
    """The six reads, built once per dialect (and whether some accounts or all are read)."""

    def days(column: Any) -> ColumnElement[int]:
        return _days(column, dialect)

    def month(column: Any) -> ColumnElement[int]:
        return _month(column, dialect)

    def read(columns: list[Any], table: Any, dated: Any, *, grouped: bool) -> Any:
        query = _where_accounts(select(*columns).where(dated <= _AS_OF), table.c.account_id, some=some)
        return query.group_by(*columns[:2]) if grouped else query

    i, dd, a, lh = instalments, drawdowns, allocations, limit_history
    # Instalments are read with their drawdown's grace days.
    with_grace = i.join(dd, and_(dd.c.account_id == i.c.account_id, dd.c.seq == i.c.drawdown_seq))
    in_time = case((days(i.c.settled_on) <= days(i.c.due_on) + dd.c.grace_days, 1), else_=0)
    # Fallen due by as_of: settled by then, or past its deadline (due date plus grace). One
    # neither is pending: its outcome unknown, it is not yet due in a panel row.
    fallen_due = or_(i.c.settled_on <= _AS_OF, days(i.c.due_on) + dd.c.grace_days < days(_AS_OF))
    late = or_(i.c.settled_on.is_(None), i.c.settled_on > i.c.due_on)
    return [
        (read([lines.c.account_id, days(lines.c.opened_on)], lines, lines.c.opened_on, grouped=False), "si"),
        (
            read(
                [lh.c.account_id, days(lh.c.effective_on), lh.c.id, lh.c.credit_limit],
                lh,
                lh.c.effective_on,
                grouped=False,
            ),
            "siii",
        ),
        (read([dd.c.account_id, month(dd.c.drawn_on), _sum(dd.c.principal)], dd, dd.c.drawn_on, grouped=True), "sii"),
        (
            read(
                [
                    a.c.account_id,
                    month(a.c.posted_on),
                    _sum(a.c.amount),
                    _sum(case((a.c.component == literal_column("'principal'"), a.c.amount), else_=0)),
                ],
                a,
                a.c.posted_on,
                grouped=True,
            ),
            "siii",
        ),
        (
            _where_accounts(
                select(
                    i.c.account_id,
                    month(i.c.due_on),
                    _sum(i.c.principal_due + i.c.interest_due),
                    _sum(literal_column("1")),
                    _sum(in_time),
                )
                .select_from(with_grace)
                .where(i.c.due_on <= _AS_OF, fallen_due)
                .group_by(i.c.account_id, month(i.c.due_on)),
                i.c.account_id,
                some=some,
            ),
            "siiii",
        ),
        (
            read(
                [i.c.account_id, days(i.c.due_on), func.coalesce(days(i.c.settled_on), NEVER_DAY)],
                i,
                i.c.due_on,
                grouped=False,
            ).where(late),
            "sii",
        ),
    ]


def _columns(conn: Connection, *, query: Any, params: dict[str, Any], kinds: str) -> list[np.ndarray]:
    """The query's columns as arrays: ``s`` as objects (ids), ``i`` as int64."""
    rows: Sequence[Sequence[Any]]
    if conn.dialect.driver == "psycopg" and "accounts" not in params:
        rows = _driver_rows(conn, query, params)
    else:
        rows = conn.execute(query, params).all()
    # fromiter per column: a fifth of the cost of numpy taking in zip(*rows)'s tuples.
    return [
        np.fromiter((row[k] for row in rows), dtype=object if kind == "s" else "int64", count=len(rows))
        for k, kind in enumerate(kinds)
    ]


def _driver_rows(conn: Connection, query: Any, params: dict[str, Any]) -> list[tuple[Any, ...]]:
    """The rows of a whole-book read, straight from psycopg (its C tuples, not SQLAlchemy's rows).

    A whole book is millions of rows: making each a SQLAlchemy ``Row`` cost more than
    the database took to aggregate them.
    """
    sql, constants = _driver_sql(conn.dialect, query)
    driver = conn.connection.driver_connection
    assert isinstance(driver, psycopg.Connection)
    try:
        with driver.cursor(binary=True) as cursor:
            return cursor.execute(sql, {**constants, **params}).fetchall()
    except psycopg.Error as exc:
        raise DBAPIError.instance(None, None, exc, psycopg.Error, dialect=conn.dialect) from exc


_DRIVER_SQL: dict[int, tuple[str, dict[str, Any]]] = {}


def _driver_sql(dialect: Dialect, query: Any) -> tuple[str, dict[str, Any]]:
    """The query's SQL for psycopg and its constant parameters, compiled once per statement."""
    found = _DRIVER_SQL.get(id(query))
    if found is None:
        compiled = query.compile(dialect=dialect)
        found = _DRIVER_SQL[id(query)] = (str(compiled), dict(compiled.params))
    return found


def book_array_reads(dialect: str, as_of: date, accounts: Sequence[str] | None = None) -> list[ArrayRead]:
    """The reads of :func:`read_book_arrays`, each giving its columns (of ``BookArrays``, in order)."""
    params: dict[str, Any] = {"as_of": as_of}
    if accounts is not None:
        params["accounts"] = list(accounts)
    return [
        functools.partial(_columns, query=query, params=params, kinds=kinds)
        for query, kinds in _statements(dialect, some=accounts is not None)
    ]


def read_book_arrays(conn: Connection, as_of: date, accounts: Sequence[str] | None = None) -> BookArrays:
    """What :func:`linewise.ledger.panel.panel_as_of` needs of the lines opened by ``as_of``.

    Only ``accounts`` when given (ids not in the ledger are simply absent). Limits,
    drawdowns and allocations dated after ``as_of`` and instalments due after it are
    not read; drawdowns, allocations and instalments come summed per account and month.
    The sums of instalments due (``due_*``) leave out those pending on ``as_of``: not
    settled by then and their deadline (due date plus grace days) not before it.
    """
    return BookArrays(
        *(column for read in book_array_reads(conn.dialect.name, as_of, accounts) for column in read(conn))
    )


_READ_LINES = {
    some: _where_accounts(select(*(lines.c[c] for c in LINE_COLUMNS)), lines.c.account_id, some=some).order_by(
        lines.c.account_id
    )
    for some in (False, True)
}


def read_lines(conn: Connection, accounts: Sequence[str] | None = None) -> list[tuple[Any, ...]]:
    """The ``lines`` rows (:data:`LINE_COLUMNS`) of ``accounts`` (every line when None), as they are now."""
    params = {} if accounts is None else {"accounts": list(accounts)}
    return [tuple(row) for row in conn.execute(_READ_LINES[accounts is not None], params).all()]
