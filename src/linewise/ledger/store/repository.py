"""Maps rows to the ledger's dataclasses and writes a posting's changes."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import asdict
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pandas as pd
from sqlalchemy import Connection, delete, insert, select, update

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
    "insert_event",
    "load_account_events",
    "load_frames",
    "load_state",
    "rebuild_projections",
    "save_posting",
]

_INSTALMENT_FIELDS = [
    "principal_due", "interest_due", "principal_paid", "interest_paid",
    "penalty_accrued", "penalty_paid", "penalty_accrued_to", "settled_on", "due_on",
]


class StoredEvent:
    """An event as stored: the event itself and the result first returned for it."""

    def __init__(self, event: Event, result: dict[str, Any]) -> None:
        self.event = event
        self.result = result


def load_state(conn: Connection, account_id: str, *, for_update: bool) -> LineState | None:
    """The line's state, its row locked for this transaction when ``for_update``."""
    query = select(lines).where(lines.c.account_id == account_id)
    if for_update and conn.dialect.name == "postgresql":
        query = query.with_for_update()
    row = conn.execute(query).mappings().first()
    if row is None:
        return None
    line = CreditLine(row["account_id"], row["customer_id"], row["currency"],
                      row["credit_limit"], LineStatus(row["status"]), row["opened_on"])
    by_drawdown: dict[int, list[Instalment]] = defaultdict(list)
    inst_rows = conn.execute(
        select(instalments).where(instalments.c.account_id == account_id)
        .order_by(instalments.c.drawdown_seq, instalments.c.number)
    ).mappings()
    for r in inst_rows:
        by_drawdown[r["drawdown_seq"]].append(Instalment(
            number=r["number"], due_on=r["due_on"], principal_due=r["principal_due"],
            interest_due=r["interest_due"], principal_paid=r["principal_paid"],
            interest_paid=r["interest_paid"], penalty_accrued=r["penalty_accrued"],
            penalty_paid=r["penalty_paid"], penalty_accrued_to=r["penalty_accrued_to"],
            settled_on=r["settled_on"],
        ))
    dd_rows = conn.execute(
        select(drawdowns).where(drawdowns.c.account_id == account_id).order_by(drawdowns.c.seq)
    ).mappings()
    draws = tuple(
        Drawdown(
            seq=r["seq"], drawn_on=r["drawn_on"], principal=r["principal"],
            term_months=r["term_months"], method=Method(r["method"]), purpose=r["purpose"],
            terms=DrawdownTerms(Decimal(r["annual_rate"]), DayCount(r["day_count"]),
                                r["grace_days"], Decimal(r["penalty_rate"]),
                                Prepayment(r["prepayment"])),
            instalments=tuple(by_drawdown[r["seq"]]),
        )
        for r in dd_rows
    )
    return LineState(line=line, drawdowns=draws, last_event_on=row["last_event_on"])


def _line_values(state: LineState) -> dict[str, Any]:
    line = state.line
    return {
        "customer_id": line.customer_id, "currency": line.currency,
        "credit_limit": line.credit_limit, "status": line.status.value,
        "opened_on": line.opened_on, "last_event_on": state.last_event_on,
    }


def _drawdown_row(account_id: str, d: Drawdown) -> dict[str, Any]:
    return {
        "account_id": account_id, "seq": d.seq, "drawn_on": d.drawn_on,
        "principal": d.principal, "term_months": d.term_months, "method": d.method.value,
        "purpose": d.purpose, "annual_rate": str(d.terms.annual_rate),
        "day_count": d.terms.day_count.value, "grace_days": d.terms.grace_days,
        "penalty_rate": str(d.terms.penalty_rate), "prepayment": d.terms.prepayment.value,
    }


def _instalment_row(account_id: str, seq: int, i: Instalment) -> dict[str, Any]:
    return {"account_id": account_id, "drawdown_seq": seq, **asdict(i)}


def _allocation_rows(account_id: str, allocs: Sequence[Allocation]) -> list[dict[str, Any]]:
    return [{"account_id": account_id, **asdict(a)} for a in allocs]


def save_posting(conn: Connection, before: LineState | None, posted: Posted, event: Event) -> None:
    """Write what ``event`` changed between ``before`` and ``posted.state``."""
    after = posted.state
    account_id = after.line.account_id
    if before is None:
        conn.execute(insert(lines).values(account_id=account_id, version=1, **_line_values(after)))
    else:
        conn.execute(
            update(lines).where(lines.c.account_id == account_id)
            .values(version=lines.c.version + 1, **_line_values(after))
        )
    if isinstance(event, LineOpened | LimitChanged):
        conn.execute(insert(limit_history).values(
            account_id=account_id, effective_on=event.occurred_on,
            credit_limit=after.line.credit_limit, event_key=event.idempotency_key))
    _save_instalment_changes(conn, before, after)
    if posted.allocations:
        conn.execute(insert(allocations), _allocation_rows(account_id, posted.allocations))


def _save_instalment_changes(conn: Connection, before: LineState | None, after: LineState) -> None:
    account_id = after.line.account_id
    old = {(d.seq, i.number): i for d in (before.drawdowns if before else ()) for i in d.instalments}
    old_seqs = {d.seq for d in before.drawdowns} if before else set()
    new_keys: set[tuple[int, int]] = set()
    inserts: list[dict[str, Any]] = []
    for d in after.drawdowns:
        if d.seq not in old_seqs:
            conn.execute(insert(drawdowns).values(**_drawdown_row(account_id, d)))
        for i in d.instalments:
            new_keys.add((d.seq, i.number))
            previous = old.get((d.seq, i.number))
            if previous is None:
                inserts.append(_instalment_row(account_id, d.seq, i))
            elif previous != i:
                conn.execute(
                    update(instalments).where(
                        instalments.c.account_id == account_id,
                        instalments.c.drawdown_seq == d.seq,
                        instalments.c.number == i.number,
                    ).values({f: getattr(i, f) for f in _INSTALMENT_FIELDS})
                )
    for seq, number in set(old) - new_keys:
        conn.execute(delete(instalments).where(
            instalments.c.account_id == account_id, instalments.c.drawdown_seq == seq,
            instalments.c.number == number))
    if inserts:
        conn.execute(insert(instalments), inserts)


def rebuild_projections(conn: Connection, posted: Posted, limits: Sequence[tuple[Any, int, str]]) -> None:
    """Replace an account's projections with a full replay (after a reversal)."""
    state = posted.state
    account_id = state.line.account_id
    for table in PROJECTIONS:
        conn.execute(delete(table).where(table.c.account_id == account_id))
    conn.execute(update(lines).where(lines.c.account_id == account_id)
                 .values(version=lines.c.version + 1, **_line_values(state)))
    for d in state.drawdowns:
        conn.execute(insert(drawdowns).values(**_drawdown_row(account_id, d)))
        conn.execute(insert(instalments), [_instalment_row(account_id, d.seq, i) for i in d.instalments])
    if posted.allocations:
        conn.execute(insert(allocations), _allocation_rows(account_id, posted.allocations))
    for effective_on, credit_limit, key in limits:
        conn.execute(insert(limit_history).values(
            account_id=account_id, effective_on=effective_on, credit_limit=credit_limit,
            event_key=key))


def insert_event(conn: Connection, event: Event, result: dict[str, Any]) -> None:
    """Append ``event`` to the event log with the result returned to the caller."""
    conn.execute(insert(events).values(
        account_id=event.account_id, kind=event.kind, occurred_on=event.occurred_on,
        idempotency_key=event.idempotency_key,
        reason_code=getattr(event, "reason_code", None),
        decision_ref=getattr(event, "decision_ref", None),
        payload=json.dumps(event_payload(event), sort_keys=True),
        result=json.dumps(result, sort_keys=True),
        posted_at=datetime.now(UTC),
    ))


def find_event(conn: Connection, key: str) -> StoredEvent | None:
    """The event posted with idempotency key ``key``, if any."""
    row = conn.execute(
        select(events.c.payload, events.c.result).where(events.c.idempotency_key == key)
    ).first()
    if row is None:
        return None
    return StoredEvent(event_from_payload(json.loads(row.payload)), json.loads(row.result))


def load_account_events(conn: Connection, account_id: str) -> list[Event]:
    """Every event of the account, in posting order."""
    rows = conn.execute(
        select(events.c.payload).where(events.c.account_id == account_id).order_by(events.c.id)
    ).scalars()
    return [event_from_payload(json.loads(p)) for p in rows]


def load_frames(
    conn: Connection, account_id: str | None = None, up_to: date | None = None
) -> dict[str, pd.DataFrame]:
    """The projection tables as frames (one account's rows when ``account_id`` is given).

    With ``up_to``, instalments due and allocations posted after it are left out:
    a month-end snapshot up to that day never reads them.
    """
    date_limits = {"instalments": instalments.c.due_on, "allocations": allocations.c.posted_on}
    frames: dict[str, pd.DataFrame] = {}
    for name, table in (("lines", lines), ("limit_history", limit_history),
                        ("drawdowns", drawdowns), ("instalments", instalments),
                        ("allocations", allocations)):
        query = select(table)
        if account_id is not None:
            query = query.where(table.c.account_id == account_id)
        if up_to is not None and name in date_limits:
            query = query.where(date_limits[name] <= up_to)
        result = conn.execute(query)
        frames[name] = pd.DataFrame(result.fetchall(), columns=list(result.keys()))
    return frames
