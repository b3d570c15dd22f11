"""Writes of many new lines at once: the rows their postings leave, in a few statements.

Posting a line event by event writes its line row, then updates it once per event;
inserts each drawdown when it is drawn; inserts, updates and deletes instalments as
they are paid. What stays is the line as its last event left it (``version`` counting
its postings), each drawdown as first written, the last schedule, and every event,
allocation and limit change in posting order. :class:`NewLines` gathers exactly those
rows, posting by posting, and :meth:`NewLines.write` sends them: with ``COPY`` on
PostgreSQL, as one ``executemany`` per table on SQLite. Rows with an id (events,
allocations, limit history) are written in posting order, so their ids are in the
order posting one event at a time gives them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, Table

from linewise.ledger.events import Event, LimitChanged, LineOpened
from linewise.ledger.model import LineState
from linewise.ledger.posting import Posted
from linewise.ledger.store.repository import (
    _ALLOCATION_FIELDS,
    _EVENT_FIELDS,
    _INSTALMENT_FIELDS,
    _LINE_FIELDS,
    _drawdown_row,
    _event_row,
    insert_rows,
)
from linewise.ledger.store.tables import (
    allocations,
    drawdowns,
    events,
    instalments,
    limit_history,
    lines,
)

__all__ = ["NewLines"]

_LINE_COLUMNS = ("account_id", *_LINE_FIELDS, "version")
_DRAWDOWN_COLUMNS = tuple(c.name for c in drawdowns.columns)
_INSTALMENT_COLUMNS = ("account_id", "drawdown_seq", *_INSTALMENT_FIELDS)
_ALLOCATION_COLUMNS = ("account_id", *_ALLOCATION_FIELDS)
_LIMIT_COLUMNS = ("account_id", "effective_on", "credit_limit", "event_key")


class NewLines:
    """The rows of lines not yet in the store, gathered as their events are posted in memory."""

    def __init__(self) -> None:
        self._clear()

    def _clear(self) -> None:
        # account -> [state after its last posting, postings]; in the order lines were opened.
        self._lines: dict[str, list[Any]] = {}
        self._drawdowns: dict[tuple[str, int], tuple[Any, ...]] = {}
        self._limits: list[tuple[Any, ...]] = []
        self._allocations: list[tuple[Any, ...]] = []
        self._events: list[tuple[Any, ...]] = []

    def __contains__(self, account_id: str) -> bool:
        return account_id in self._lines

    def __len__(self) -> int:
        return len(self._lines)

    def accounts(self) -> list[str]:
        """The lines gathered, in the order they were opened."""
        return list(self._lines)

    def state(self, account_id: str) -> LineState:
        """The line's state after the last posting gathered."""
        state: LineState = self._lines[account_id][0]
        return state

    def add(self, posted: Posted, event: Event, result: dict[str, Any]) -> None:
        """Gather one posting: ``event`` took its line (new, or gathered here) to ``posted``."""
        after = posted.state
        account_id = after.line.account_id
        line = self._lines.get(account_id)
        if line is None:
            self._lines[account_id] = [after, 1]
        else:
            line[0] = after
            line[1] += 1
        if isinstance(event, LineOpened | LimitChanged):
            self._limits.append((account_id, event.occurred_on, after.line.credit_limit, event.idempotency_key))
        for drawdown in after.drawdowns:
            key = (account_id, drawdown.seq)
            if key not in self._drawdowns:
                row = _drawdown_row(account_id, drawdown)
                self._drawdowns[key] = tuple(row[c] for c in _DRAWDOWN_COLUMNS)
        self._allocations.extend((account_id, *(getattr(a, f) for f in _ALLOCATION_FIELDS)) for a in posted.allocations)
        row = _event_row(event, result)
        self._events.append(tuple(row[c] for c in _EVENT_FIELDS))

    def write(self, conn: Connection) -> None:
        """Insert every gathered row in ``conn``'s transaction, and forget them."""
        line_rows: list[tuple[Any, ...]] = []
        instalment_rows: list[tuple[Any, ...]] = []
        for account_id, (state, postings) in self._lines.items():
            line = state.line
            line_rows.append(
                (
                    account_id,
                    line.customer_id,
                    line.currency,
                    line.credit_limit,
                    line.status.value,
                    line.opened_on,
                    state.last_event_on,
                    postings,
                )
            )
            instalment_rows.extend(
                (account_id, d.seq, *(getattr(i, f) for f in _INSTALMENT_FIELDS))
                for d in state.drawdowns
                for i in d.instalments
            )
        # Lines first: drawdowns refer to them.
        _insert_if_any(conn, lines, _LINE_COLUMNS, line_rows)
        _insert_if_any(conn, drawdowns, _DRAWDOWN_COLUMNS, list(self._drawdowns.values()))
        _insert_if_any(conn, instalments, _INSTALMENT_COLUMNS, instalment_rows)
        _insert_if_any(conn, limit_history, _LIMIT_COLUMNS, self._limits)
        _insert_if_any(conn, allocations, _ALLOCATION_COLUMNS, self._allocations)
        _insert_if_any(conn, events, _EVENT_FIELDS, self._events)
        self._clear()


def _insert_if_any(conn: Connection, table: Table, columns: Sequence[str], rows: Sequence[tuple[Any, ...]]) -> None:
    if rows:
        insert_rows(conn, table, columns, rows)
