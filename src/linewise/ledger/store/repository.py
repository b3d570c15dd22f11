"""Maps rows to the ledger's dataclasses and writes a posting's changes.

Each statement is built once, below, and compiled once per dialect. Posting is
the hot path: on PostgreSQL with psycopg its statements go to the driver
directly (see :class:`_Statement`), and the writes of one posting are sent in
one round trip (psycopg's pipeline mode).
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import fields
from datetime import UTC, date, datetime
from decimal import Decimal
from operator import itemgetter
from typing import Any

import pandas as pd
import psycopg
from sqlalchemy import (
    ColumnElement,
    Connection,
    Delete,
    Dialect,
    Insert,
    Select,
    String,
    Table,
    Update,
    and_,
    any_,
    bindparam,
    delete,
    insert,
    literal_column,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.exc import DBAPIError

from linewise.calendar import DayCount
from linewise.ledger.events import (
    Event,
    LimitChanged,
    LineOpened,
    event_from_payload,
    event_payload,
)
from linewise.ledger.model import (
    CreditLine,
    Drawdown,
    DrawdownTerms,
    Instalment,
    LineState,
    LineStatus,
)
from linewise.ledger.posting import Allocation, Posted
from linewise.ledger.product import Prepayment
from linewise.ledger.schedule import Method
from linewise.ledger.store.tables import (
    PROJECTIONS,
    allocations,
    drawdowns,
    events,
    instalments,
    limit_history,
    lines,
)

__all__ = [
    "StoredEvent",
    "find_event",
    "find_events",
    "insert_rows",
    "load_account_events",
    "load_events_of_kinds",
    "load_for_posting",
    "load_frames",
    "load_line_versions",
    "load_lines_for_update",
    "load_state",
    "rebuild_projections",
    "save_line_postings",
    "save_posting",
]

Row = Sequence[Any]
Params = Mapping[str, Any]


class StoredEvent:
    """An event as stored: the event itself and the result first returned for it."""

    def __init__(self, event: Event, result: dict[str, Any]) -> None:
        self.event = event
        self.result = result


# --- statements -------------------------------------------------------------------


class _Statement:
    """A Core statement and, compiled on first use, its SQL for psycopg.

    The ledger's columns are strings, integers and dates, which psycopg converts
    itself (SQLAlchemy has no bind or result processors for them there), so
    running the compiled SQL on the driver gives the same rows as
    ``conn.execute`` without SQLAlchemy's per-execution work.
    """

    def __init__(self, statement: Select[Any] | Insert | Update | Delete) -> None:
        self.statement = statement
        self._sql: str | None = None

    def sql(self, dialect: Dialect) -> str:
        if self._sql is None:
            compiled = self.statement.compile(dialect=dialect)
            assert all(v is None for v in compiled.params.values()), "values must be bound per call"
            self._sql = str(compiled)
        return self._sql


_LINE_FIELDS = ("customer_id", "currency", "credit_limit", "status", "opened_on", "last_event_on")
_DRAWDOWN_FIELDS = (
    "seq",
    "drawn_on",
    "principal",
    "term_months",
    "method",
    "purpose",
    "annual_rate",
    "day_count",
    "grace_days",
    "penalty_rate",
    "prepayment",
)
# In Instalment's field order, so that a row's tail is Instalment(*tail).
_INSTALMENT_FIELDS = tuple(f.name for f in fields(Instalment))
_ALLOCATION_FIELDS = tuple(f.name for f in fields(Allocation))
_EVENT_FIELDS = (
    "account_id",
    "kind",
    "occurred_on",
    "idempotency_key",
    "reason_code",
    "decision_ref",
    "payload",
    "result",
    "posted_at",
)


def _binds(*names: str) -> dict[str, Any]:
    return {name: bindparam(name) for name in names}


_SELECT_LINE = select(lines.c.account_id, *(lines.c[f] for f in _LINE_FIELDS)).where(
    lines.c.account_id == bindparam("account_id")
)
_LOCK_LINE = _Statement(_SELECT_LINE.with_for_update())
_READ_LINE = _Statement(_SELECT_LINE)
# What a posting reads after the lock, in one statement and so one snapshot (a drawdown
# is never read without its instalments): on the first row the event already posted
# to the account under the key, if any (keys are scoped to their account); on every row one instalment of the schedule, if any.
_ONE_ROW = select(literal_column("1").label("one")).subquery("one_row")
_SELECT_KEY_AND_SCHEDULE = _Statement(
    select(
        events.c.payload,
        events.c.result,
        *(drawdowns.c[f] for f in _DRAWDOWN_FIELDS),
        *(instalments.c[f] for f in _INSTALMENT_FIELDS),
    )
    .select_from(
        _ONE_ROW.outerjoin(
            events,
            and_(
                events.c.account_id == bindparam("account_id"), events.c.idempotency_key == bindparam("idempotency_key")
            ),
        )
        .outerjoin(drawdowns, drawdowns.c.account_id == bindparam("account_id"))
        .outerjoin(
            instalments,
            and_(instalments.c.account_id == drawdowns.c.account_id, instalments.c.drawdown_seq == drawdowns.c.seq),
        )
    )
    .order_by(drawdowns.c.seq, instalments.c.number)
)
_SELECT_EVENT = _Statement(
    select(events.c.payload, events.c.result).where(
        events.c.account_id == bindparam("account_id"), events.c.idempotency_key == bindparam("idempotency_key")
    )
)

_INSERT_LINE = _Statement(insert(lines).values(version=literal_column("1"), **_binds("account_id", *_LINE_FIELDS)))
_UPDATE_LINE = _Statement(
    update(lines)
    .where(lines.c.account_id == bindparam("where_account_id"))
    .values(version=lines.c.version + literal_column("1"), **_binds(*_LINE_FIELDS))
)
_INSERT_LIMIT = _Statement(
    insert(limit_history).values(**_binds("account_id", "effective_on", "credit_limit", "event_key"))
)
_INSERT_DRAWDOWN = _Statement(insert(drawdowns).values(**_binds("account_id", *_DRAWDOWN_FIELDS)))
_INSERT_INSTALMENT = _Statement(insert(instalments).values(**_binds("account_id", "drawdown_seq", *_INSTALMENT_FIELDS)))
_INSTALMENT_KEY = and_(
    instalments.c.account_id == bindparam("where_account_id"),
    instalments.c.drawdown_seq == bindparam("where_seq"),
    instalments.c.number == bindparam("where_number"),
)
_UPDATE_INSTALMENT = _Statement(update(instalments).where(_INSTALMENT_KEY).values(**_binds(*_INSTALMENT_FIELDS)))
_DELETE_INSTALMENT = _Statement(delete(instalments).where(_INSTALMENT_KEY))
_INSERT_ALLOCATION = _Statement(insert(allocations).values(**_binds("account_id", *_ALLOCATION_FIELDS)))
_INSERT_EVENT = _Statement(insert(events).values(**_binds(*_EVENT_FIELDS)))
_DELETE_PROJECTIONS = [_Statement(delete(t).where(t.c.account_id == bindparam("account_id"))) for t in PROJECTIONS]


# --- running statements -----------------------------------------------------------


def _psycopg(conn: Connection) -> psycopg.Connection[Any] | None:
    """The psycopg connection under ``conn``, or None on any other driver."""
    if conn.dialect.driver != "psycopg":
        return None
    driver = conn.connection.driver_connection
    assert isinstance(driver, psycopg.Connection)
    return driver


@contextmanager
def _driver_errors(conn: Connection) -> Iterator[None]:
    """Raise the driver's errors as SQLAlchemy's, as ``conn.execute`` would."""
    try:
        yield
    except psycopg.Error as exc:
        raise DBAPIError.instance(None, None, exc, psycopg.Error, dialect=conn.dialect) from exc


# A COPY costs a round trip more than an INSERT: worth it from a few rows on.
_INSERT_UP_TO = 4


def insert_rows(conn: Connection, table: Table, columns: Sequence[str], rows: Iterable[tuple[Any, ...]]) -> None:
    """Insert ``rows`` (values in ``columns``' order) into ``table``, in order.

    ``COPY`` on psycopg for more than a few rows, in one statement where an INSERT a row
    would cost a parse and a round trip each; elsewhere one executemany through SQLAlchemy, so
    that dates and times are stored as every other write stores them.
    """
    pg = _psycopg(conn)
    remaining = iter(rows)
    first = list(itertools.islice(remaining, _INSERT_UP_TO + 1))
    if pg is None or len(first) <= _INSERT_UP_TO:
        params = [dict(zip(columns, row, strict=True)) for row in itertools.chain(first, remaining)]
        if params:
            conn.execute(insert(table), params)
        return
    sql = f"COPY {table.name} ({', '.join(columns)}) FROM STDIN"
    with _driver_errors(conn), pg.cursor() as cursor, cursor.copy(sql) as copy:
        for row in itertools.chain(first, remaining):
            copy.write_row(row)


def _fetch(conn: Connection, queries: Sequence[tuple[_Statement, Params]]) -> list[list[Row]]:
    """The rows of each query, run in order."""
    pg = _psycopg(conn)
    if pg is None:
        return [list(conn.execute(s.statement, dict(p)).all()) for s, p in queries]
    # Not pipelined: for a few small reads psycopg's pipeline costs more CPU than it saves.
    with _driver_errors(conn), pg.cursor() as cursor:
        return [cursor.execute(s.sql(conn.dialect), p).fetchall() for s, p in queries]


def _run_writes(
    conn: Connection, writes: Sequence[tuple[_Statement, Sequence[Params]]], *, independent: bool = False
) -> None:
    """Run each statement once per row, in order; in one round trip on psycopg.

    ``independent`` promises that no row is written twice and that no write depends
    on another having run first (foreign keys aside: PostgreSQL checks them at the end
    of the statement). Such writes go to PostgreSQL as one statement, see
    :func:`_as_one_statement`.
    """
    writes = [(statement, rows) for statement, rows in writes if rows]
    pg = _psycopg(conn)
    if pg is None:
        for statement, rows in writes:
            conn.execute(statement.statement, [dict(r) for r in rows])
        return
    with _driver_errors(conn):
        if independent:
            sql, params = _as_one_statement(conn.dialect, writes)
            pg.execute(sql, params)
            return
        with pg.pipeline():
            cursor = pg.cursor()
            for statement, rows in writes:
                cursor.executemany(statement.sql(conn.dialect), rows)


_PARAMETER = re.compile(r"%\((\w+)\)s")
_ONE_STATEMENT_SQL: dict[tuple[tuple[int, int], ...], str] = {}
_MAX_SHAPES = 512


def _as_one_statement(
    dialect: Dialect, writes: Sequence[tuple[_Statement, Sequence[Params]]]
) -> tuple[str, dict[str, Any]]:
    """Every write as a data-modifying CTE of one ``WITH ... SELECT 1`` statement.

    A posting's 5-8 small writes cost the server one executor start instead of one
    each, and the client one plain execute instead of psycopg's pipeline, whose
    bookkeeping was the largest part of a posting's client CPU. The CTEs run in no
    set order, hence the promise in :func:`_run_writes`. The SQL of each shape (which
    statements, how many rows) is built once, so psycopg prepares it like any other.
    """
    shape = tuple((id(statement), len(rows)) for statement, rows in writes)
    sql = _ONE_STATEMENT_SQL.get(shape)
    if sql is None:
        ctes = []
        for s, (statement, rows) in enumerate(writes):
            text = statement.sql(dialect)
            for r in range(len(rows)):
                renamed = _PARAMETER.sub(f"%(\\1_{s}_{r})s", text)
                ctes.append(f"w{s}_{r} AS ({renamed})")
        sql = f"WITH {', '.join(ctes)} SELECT 1"
        # Shapes are few (terms and allocations are bounded); the cap guards against surprises.
        if len(_ONE_STATEMENT_SQL) < _MAX_SHAPES:
            _ONE_STATEMENT_SQL[shape] = sql
    params = {
        f"{name}_{s}_{r}": value
        for s, (_, rows) in enumerate(writes)
        for r, row in enumerate(rows)
        for name, value in row.items()
    }
    return sql, params


# --- reading ----------------------------------------------------------------------


def _line_state(line_row: Row, schedule_rows: Sequence[Row]) -> LineState:
    account_id, customer_id, currency, credit_limit, status, opened_on, last_event_on = line_row
    line = CreditLine(account_id, customer_id, currency, credit_limit, LineStatus(status), opened_on)
    return LineState(line=line, drawdowns=_drawdowns(schedule_rows), last_event_on=last_event_on)


def _drawdowns(rows: Sequence[Row]) -> tuple[Drawdown, ...]:
    """Drawdowns from the schedule query's rows (one per instalment, in order)."""
    out: list[Drawdown] = []
    width = len(_DRAWDOWN_FIELDS)
    for _, group in itertools.groupby(rows, key=itemgetter(0)):
        group_rows = list(group)
        (
            seq,
            drawn_on,
            principal,
            term_months,
            method,
            purpose,
            annual_rate,
            day_count,
            grace_days,
            penalty_rate,
            prepayment,
        ) = group_rows[0][:width]
        terms = DrawdownTerms(
            Decimal(annual_rate), DayCount(day_count), grace_days, Decimal(penalty_rate), Prepayment(prepayment)
        )
        schedule = tuple(Instalment(*r[width:]) for r in group_rows if r[width] is not None)
        out.append(Drawdown(seq, drawn_on, principal, term_months, Method(method), purpose, terms, schedule))
    return tuple(out)


def _stored_event(row: Row) -> StoredEvent:
    payload, result = row
    return StoredEvent(event_from_payload(json.loads(payload)), json.loads(result))


def load_state(conn: Connection, account_id: str, *, for_update: bool) -> LineState | None:
    """The line's state, its row locked for this transaction when ``for_update``."""
    state, _ = _load(conn, account_id, None, lock=for_update)
    return state


def find_event(conn: Connection, account_id: str, key: str) -> StoredEvent | None:
    """The event posted to ``account_id`` with idempotency key ``key``, if any.

    Keys are scoped to their account: another account's event under the same key
    is never found.
    """
    [rows] = _fetch(conn, [(_SELECT_EVENT, {"account_id": account_id, "idempotency_key": key})])
    return _stored_event(rows[0]) if rows else None


def load_for_posting(conn: Connection, account_id: str, key: str) -> tuple[LineState | None, StoredEvent | None]:
    """The line's state, its row locked for this transaction, and its event already under ``key``.

    The lock (``SELECT ... FOR UPDATE``) comes first, so what is read after it is
    what the last posting to the line committed.
    """
    return _load(conn, account_id, key, lock=True)


def _load(
    conn: Connection, account_id: str, key: str | None, *, lock: bool
) -> tuple[LineState | None, StoredEvent | None]:
    # SQLite has no row locks: BEGIN IMMEDIATE (see create_store_engine) holds its write lock.
    line_query = _LOCK_LINE if lock and conn.dialect.name == "postgresql" else _READ_LINE
    line_rows, rows = _fetch(
        conn,
        [
            (line_query, {"account_id": account_id}),
            (_SELECT_KEY_AND_SCHEDULE, {"account_id": account_id, "idempotency_key": key}),
        ],
    )
    stored = _stored_event(rows[0][:2]) if rows[0][0] is not None else None
    schedule_rows = [row[2:] for row in rows if row[2] is not None]
    state = _line_state(line_rows[0], schedule_rows) if line_rows else None
    return state, stored


# --- writing ----------------------------------------------------------------------


def _line_row(state: LineState) -> dict[str, Any]:
    line = state.line
    return {
        "customer_id": line.customer_id,
        "currency": line.currency,
        "credit_limit": line.credit_limit,
        "status": line.status.value,
        "opened_on": line.opened_on,
        "last_event_on": state.last_event_on,
    }


def _drawdown_row(account_id: str, d: Drawdown) -> dict[str, Any]:
    return {
        "account_id": account_id,
        "seq": d.seq,
        "drawn_on": d.drawn_on,
        "principal": d.principal,
        "term_months": d.term_months,
        "method": d.method.value,
        "purpose": d.purpose,
        "annual_rate": str(d.terms.annual_rate),
        "day_count": d.terms.day_count.value,
        "grace_days": d.terms.grace_days,
        "penalty_rate": str(d.terms.penalty_rate),
        "prepayment": d.terms.prepayment.value,
    }


def _instalment_values(i: Instalment) -> dict[str, Any]:
    return {f: getattr(i, f) for f in _INSTALMENT_FIELDS}


def _instalment_row(account_id: str, seq: int, i: Instalment) -> dict[str, Any]:
    return {"account_id": account_id, "drawdown_seq": seq, **_instalment_values(i)}


def _allocation_rows(account_id: str, allocs: Sequence[Allocation]) -> list[dict[str, Any]]:
    return [{"account_id": account_id, **{f: getattr(a, f) for f in _ALLOCATION_FIELDS}} for a in allocs]


def _event_row(event: Event, result: dict[str, Any]) -> dict[str, Any]:
    return {
        "account_id": event.account_id,
        "kind": event.kind,
        "occurred_on": event.occurred_on,
        "idempotency_key": event.idempotency_key,
        "reason_code": getattr(event, "reason_code", None),
        "decision_ref": getattr(event, "decision_ref", None),
        "payload": json.dumps(event_payload(event), sort_keys=True),
        "result": json.dumps(result, sort_keys=True),
        "posted_at": datetime.now(UTC),
    }


def save_posting(
    conn: Connection, before: LineState | None, posted: Posted, event: Event, result: dict[str, Any]
) -> None:
    """Append ``event`` with its ``result``, and write what it changed since ``before``."""
    after = posted.state
    account_id = after.line.account_id
    if before is None:
        line = (_INSERT_LINE, [{"account_id": account_id, **_line_row(after)}])
    else:
        line = (_UPDATE_LINE, [{"where_account_id": account_id, **_line_row(after)}])
    limits = []
    if isinstance(event, LineOpened | LimitChanged):
        limits.append(
            {
                "account_id": account_id,
                "effective_on": event.occurred_on,
                "credit_limit": after.line.credit_limit,
                "event_key": event.idempotency_key,
            }
        )
    # Every row here is written once and the instalments deleted and inserted have
    # different numbers (see _schedule_writes), so the writes are independent.
    _run_writes(
        conn,
        [
            line,
            (_INSERT_LIMIT, limits),
            *_schedule_writes(before, after),
            (_INSERT_ALLOCATION, _allocation_rows(account_id, posted.allocations)),
            (_INSERT_EVENT, [_event_row(event, result)]),
        ],
        independent=True,
    )


def _schedule_writes(before: LineState | None, after: LineState) -> list[tuple[_Statement, list[dict[str, Any]]]]:
    """The drawdowns and instalments to insert, update and delete to go from ``before`` to ``after``."""
    account_id = after.line.account_id
    old_drawdowns = {d.seq: d for d in before.drawdowns} if before else {}
    new_drawdowns: list[dict[str, Any]] = []
    inserts: list[dict[str, Any]] = []
    updates: list[dict[str, Any]] = []
    deletes: list[dict[str, Any]] = []
    for d in after.drawdowns:
        previous = old_drawdowns.pop(d.seq, None)
        if previous is None:
            new_drawdowns.append(_drawdown_row(account_id, d))
        old = {i.number: i for i in previous.instalments} if previous else {}
        for i in d.instalments:
            was = old.pop(i.number, None)
            if was is None:
                inserts.append(_instalment_row(account_id, d.seq, i))
            elif was is not i and was != i:
                updates.append(
                    {
                        "where_account_id": account_id,
                        "where_seq": d.seq,
                        "where_number": i.number,
                        **_instalment_values(i),
                    }
                )
        # Instalments no longer in the schedule were cancelled (a payoff or a shorter term).
        deletes += [{"where_account_id": account_id, "where_seq": d.seq, "where_number": number} for number in old]
    assert not old_drawdowns, "a posting never removes a drawdown (a reversal rebuilds them)"
    return [
        (_INSERT_DRAWDOWN, new_drawdowns),
        (_DELETE_INSTALMENT, deletes),
        (_UPDATE_INSTALMENT, updates),
        (_INSERT_INSTALMENT, inserts),
    ]


def rebuild_projections(
    conn: Connection,
    event: Event,
    posted: Posted,
    limits: Sequence[tuple[date, int, str]],
    result: dict[str, Any],
) -> None:
    """Append ``event`` (a reversal) and replace the account's projections with a full replay."""
    state = posted.state
    account_id = state.line.account_id
    by_account = [{"account_id": account_id}]
    _run_writes(
        conn,
        [
            *((delete, by_account) for delete in _DELETE_PROJECTIONS),
            (_UPDATE_LINE, [{"where_account_id": account_id, **_line_row(state)}]),
            (_INSERT_DRAWDOWN, [_drawdown_row(account_id, d) for d in state.drawdowns]),
            (
                _INSERT_INSTALMENT,
                [_instalment_row(account_id, d.seq, i) for d in state.drawdowns for i in d.instalments],
            ),
            (_INSERT_ALLOCATION, _allocation_rows(account_id, posted.allocations)),
            (
                _INSERT_LIMIT,
                [
                    {
                        "account_id": account_id,
                        "effective_on": effective_on,
                        "credit_limit": credit_limit,
                        "event_key": key,
                    }
                    for effective_on, credit_limit, key in limits
                ],
            ),
            (_INSERT_EVENT, [_event_row(event, result)]),
        ],
    )


# --- whole accounts and tables ----------------------------------------------------


def load_account_events(conn: Connection, account_id: str) -> list[Event]:
    """Every event of the account, in posting order."""
    rows = conn.execute(
        select(events.c.payload).where(events.c.account_id == account_id).order_by(events.c.id)
    ).scalars()
    return [event_from_payload(json.loads(p)) for p in rows]


def load_frames(conn: Connection, account_id: str | None = None, up_to: date | None = None) -> dict[str, pd.DataFrame]:
    """The projection tables as frames (one account's rows when ``account_id`` is given).

    With ``up_to``, instalments due and allocations posted after it are left out:
    a month-end snapshot up to that day never reads them.
    """
    date_limits = {"instalments": instalments.c.due_on, "allocations": allocations.c.posted_on}
    frames: dict[str, pd.DataFrame] = {}
    for name, table in (
        ("lines", lines),
        ("limit_history", limit_history),
        ("drawdowns", drawdowns),
        ("instalments", instalments),
        ("allocations", allocations),
    ):
        query = select(table)
        if account_id is not None:
            query = query.where(table.c.account_id == account_id)
        if up_to is not None and name in date_limits:
            query = query.where(date_limits[name] <= up_to)
        result = conn.execute(query)
        frames[name] = pd.DataFrame(result.fetchall(), columns=list(result.keys()))
    return frames


# --- many lines at once -----------------------------------------------------------
# Applying decisions to thousands of lines reads and writes a chunk of lines in a
# few statements, not a few statements per line.


def _among(conn: Connection, column: ColumnElement[str], values: Sequence[str]) -> ColumnElement[bool]:
    """``column IN values``; on PostgreSQL ``= ANY`` of one array parameter.

    A thousand ids bind and plan as one array in a fraction of the time of a
    thousand parameters.
    """
    if conn.dialect.name == "postgresql":
        return column == any_(bindparam(None, list(values), type_=ARRAY(String)))
    return column.in_(values)


def load_lines_for_update(conn: Connection, account_ids: Collection[str]) -> dict[str, tuple[LineState, int]]:
    """Each line's state and ``version``, the rows locked for this transaction; unknown ids left out.

    On PostgreSQL the rows are locked in account order, so two transactions locking
    overlapping sets of lines wait for each other instead of deadlocking; SQLite's
    ``BEGIN IMMEDIATE`` holds the database's write lock already.
    """
    ids = sorted(set(account_ids))
    if not ids:
        return {}
    query = (
        select(lines.c.account_id, *(lines.c[f] for f in _LINE_FIELDS), lines.c.version)
        .where(_among(conn, lines.c.account_id, ids))
        .order_by(lines.c.account_id)
    )
    if conn.dialect.name == "postgresql":
        query = query.with_for_update()
    line_rows = conn.execute(query).all()
    schedule = (
        select(
            drawdowns.c.account_id,
            *(drawdowns.c[f] for f in _DRAWDOWN_FIELDS),
            *(instalments.c[f] for f in _INSTALMENT_FIELDS),
        )
        .select_from(
            drawdowns.outerjoin(
                instalments,
                and_(instalments.c.account_id == drawdowns.c.account_id, instalments.c.drawdown_seq == drawdowns.c.seq),
            )
        )
        .where(_among(conn, drawdowns.c.account_id, [row[0] for row in line_rows]))
        .order_by(drawdowns.c.account_id, drawdowns.c.seq, instalments.c.number)
    )
    by_account: dict[str, list[Row]] = {}
    if line_rows:
        for row in conn.execute(schedule):
            by_account.setdefault(row[0], []).append(row[1:])
    return {row[0]: (_line_state(row[:-1], by_account.get(row[0], [])), row[-1]) for row in line_rows}


def load_line_versions(conn: Connection, account_ids: Collection[str] | None = None) -> dict[str, int]:
    """The ``version`` of each line (every line when ``account_ids`` is None); unknown ids left out.

    A line's version counts the postings that changed it: a decision made from a
    line's state records it, and applying the decision checks the line is still there.
    """
    query = select(lines.c.account_id, lines.c.version)
    if account_ids is not None:
        query = query.where(_among(conn, lines.c.account_id, sorted(set(account_ids))))
    return {str(row[0]): int(row[1]) for row in conn.execute(query)}


# Pairs looked up per statement: SQLite binds two parameters a pair and allows 32,766.
_PAIRS_PER_LOOKUP = 1_000


def find_events(conn: Connection, keys: Collection[tuple[str, str]]) -> dict[tuple[str, str], StoredEvent]:
    """The events stored under each (account id, idempotency key) of ``keys`` that has one.

    Each pair is one probe of the events' unique index: the pairs are joined to the
    table (``IN`` on the two columns apart would probe every account with every key).
    """
    wanted = sorted(set(keys))
    found: dict[tuple[str, str], StoredEvent] = {}
    for start in range(0, len(wanted), _PAIRS_PER_LOOKUP):
        pairs = wanted[start : start + _PAIRS_PER_LOOKUP]
        if conn.dialect.name == "postgresql":
            rows = conn.exec_driver_sql(
                _FIND_PAIRS_PG, {"accounts": [a for a, _ in pairs], "keys": [k for _, k in pairs]}
            )
        else:
            values = ", ".join(["(?, ?)"] * len(pairs))
            rows = conn.exec_driver_sql(
                _FIND_PAIRS_SQLITE.format(values=values), tuple(v for pair in pairs for v in pair)
            )
        for account_id, key, payload, result in rows:
            found[(account_id, key)] = _stored_event((payload, result))
    return found


_FIND_PAIRS_SELECT = (
    "SELECT e.account_id, e.idempotency_key, e.payload, e.result FROM {source} "
    "JOIN events e ON e.account_id = w.account_id AND e.idempotency_key = w.idempotency_key"
)
_FIND_PAIRS_PG = _FIND_PAIRS_SELECT.format(
    source="unnest(%(accounts)s::text[], %(keys)s::text[]) AS w(account_id, idempotency_key)"
)
_FIND_PAIRS_SQLITE = "WITH w(account_id, idempotency_key) AS (VALUES {values}) " + _FIND_PAIRS_SELECT.format(source="w")


def load_events_of_kinds(
    conn: Connection, account_ids: Collection[str], kinds: Collection[str]
) -> dict[str, list[Event]]:
    """The events of these kinds of each account, in posting order."""
    out: dict[str, list[Event]] = {}
    if not account_ids:
        return out
    query = (
        select(events.c.account_id, events.c.payload)
        .where(_among(conn, events.c.account_id, sorted(set(account_ids))), events.c.kind.in_(sorted(set(kinds))))
        .order_by(events.c.id)
    )
    for account_id, payload in conn.execute(query):
        out.setdefault(account_id, []).append(event_from_payload(json.loads(payload)))
    return out


def save_line_postings(conn: Connection, postings: Sequence[tuple[LineState, Posted, Event, dict[str, Any]]]) -> None:
    """Append each posting's event with its result and write its line, in order.

    For events that change only the line row and its limit history (limit and status
    changes): each posting's ``posted`` state must keep ``before``'s drawdowns.
    Several postings may change one line; they are written in the order given, and
    the line's version rises by one for each, as if each were posted alone.
    """
    lines_after: dict[str, tuple[LineState, int]] = {}
    limits: list[dict[str, Any]] = []
    event_rows: list[dict[str, Any]] = []
    for before, posted, event, result in postings:
        after = posted.state
        assert after.drawdowns is before.drawdowns, "save_line_postings writes line changes only"
        assert not posted.allocations, "save_line_postings writes line changes only"
        account_id = after.line.account_id
        lines_after[account_id] = (after, lines_after.get(account_id, (after, 0))[1] + 1)
        if isinstance(event, LimitChanged):
            limits.append(
                {
                    "account_id": account_id,
                    "effective_on": event.occurred_on,
                    "credit_limit": after.line.credit_limit,
                    "event_key": event.idempotency_key,
                }
            )
        event_rows.append(_event_row(event, result))
    updates = [
        {
            "line_account_id": account_id,
            "line_credit_limit": state.line.credit_limit,
            "line_status": state.line.status.value,
            "line_last_event_on": state.last_event_on,
            "line_postings": count,
        }
        for account_id, (state, count) in lines_after.items()
    ]
    # In psycopg's pipeline: a thousand rows a statement cost one round trip, and
    # less than the same rows as arrays to unnest (whose text the client escapes).
    _run_writes(conn, [(_UPDATE_LINE_VERSIONS, updates), (_INSERT_LIMIT, limits), (_INSERT_EVENT, event_rows)])


_UPDATE_LINE_VERSIONS = _Statement(
    update(lines)
    .where(lines.c.account_id == bindparam("line_account_id"))
    .values(
        credit_limit=bindparam("line_credit_limit"),
        status=bindparam("line_status"),
        last_event_on=bindparam("line_last_event_on"),
        version=lines.c.version + bindparam("line_postings"),
    )
)
