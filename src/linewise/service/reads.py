"""Reads the service pages through: a line's events, the size of a logged run.

Read-only queries of the ledger's own tables, each in one snapshot and bounded by
the page asked for. (They belong beside the ledger's repository; they live here
until the store has a paged read of its own.)
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, func, select

from linewise.errors import InputError
from linewise.ledger.store import read_snapshot
from linewise.ledger.store.tables import decision_runs, events

__all__ = ["EventRow", "events_page", "run_size"]


@dataclass(frozen=True)
class EventRow:
    """One posted event: its place among the line's events (from 1), its columns and payload."""

    seq: int
    kind: str
    occurred_on: str
    idempotency_key: str
    reason_code: str | None
    decision_ref: str | None
    posted_at: datetime
    payload: dict[str, Any]


def events_page(engine: Engine, account_id: str, *, limit: int, offset: int) -> tuple[list[EventRow], int]:
    """Events ``offset`` to ``offset + limit`` of the line, in posting order, and how many it has."""
    with read_snapshot(engine) as conn:
        total = conn.execute(select(func.count()).select_from(events).where(events.c.account_id == account_id))
        count = int(total.scalar_one())
        rows = conn.execute(
            select(
                events.c.kind,
                events.c.occurred_on,
                events.c.idempotency_key,
                events.c.reason_code,
                events.c.decision_ref,
                events.c.posted_at,
                events.c.payload,
            )
            .where(events.c.account_id == account_id)
            .order_by(events.c.id)
            .limit(limit)
            .offset(offset)
        ).all()
    page = [
        EventRow(
            seq=offset + i + 1,
            kind=row.kind,
            occurred_on=row.occurred_on.isoformat(),
            idempotency_key=row.idempotency_key,
            reason_code=row.reason_code,
            decision_ref=row.decision_ref,
            posted_at=row.posted_at,
            payload=json.loads(row.payload),
        )
        for i, row in enumerate(rows)
    ]
    return page, count


def run_size(engine: Engine, run_id: int) -> int | None:
    """How many accounts logged run ``run_id`` decided; None when there is no such run."""
    found = _run_row(engine, run_id)
    return None if found is None else int(found.accounts)


def run_model_ref(engine: Engine, run_id: int) -> str | None:
    """The model logged run ``run_id`` was decided with; None when there is no such run."""
    found = _run_row(engine, run_id)
    return None if found is None else str(found.model_ref)


def _run_row(engine: Engine, run_id: int) -> Any:
    with read_snapshot(engine) as conn:
        return conn.execute(
            select(decision_runs.c.accounts, decision_runs.c.model_ref).where(decision_runs.c.id == run_id)
        ).first()


def checked_run_size(engine: Engine, run_id: int, *, most: int, use: str) -> int:
    """How many accounts logged run ``run_id`` decided, when a request may read it whole.

    Raises InputError ``run_not_found`` for no such run and ``run_too_large`` for a run
    of more than ``most`` accounts (``use`` says what for; the command line is named).
    """
    size = run_size(engine, run_id)
    if size is None:
        raise InputError.for_field(
            "run_not_found", where="decision log", field="run", rule="a stored run", value=run_id
        )
    if size > most:
        raise InputError.for_field(
            "run_too_large",
            where=f"run {run_id}",
            field="accounts",
            rule=f"at most {most:,} to {use} (use `linewise decisions replay --run {run_id}`)",
            value=size,
        )
    return size


def position_in_run(account_ids: Iterable[Any], run_id: int, account_id: str) -> int:
    """Where ``account_id`` is among a run's decided ``account_ids``; ``account_not_found`` when it is not."""
    for position, decided in enumerate(account_ids):
        if str(decided) == account_id:
            return position
    raise InputError.for_field(
        "account_not_found",
        where=f"run {run_id}",
        field="account_id",
        rule=f"an account decided in run {run_id}",
        value=account_id,
    )
