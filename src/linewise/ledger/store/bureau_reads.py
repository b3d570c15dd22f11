"""Reads for the bureau's records: accounts opened by a day, and their events up to it.

The book is read a chunk of accounts at a time (keyset pages of account ids), so a
monthly file over millions of lines holds one chunk's events in memory, not the book's.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date

from sqlalchemy import Connection, bindparam, select

from linewise.ledger.events import Event, event_from_payload
from linewise.ledger.store.tables import events, lines

__all__ = ["read_events_up_to", "read_opened_accounts"]


def read_opened_accounts(
    conn: Connection,
    opened_by: date,
    *,
    customer_id: str | None = None,
    after: str | None = None,
    limit: int | None = None,
) -> list[str]:
    """Ids of the lines opened on or before ``opened_by``, sorted.

    Only the customer's when ``customer_id`` is given; only ids after ``after`` and at
    most ``limit`` of them, to read the book page by page.
    """
    query = select(lines.c.account_id).where(lines.c.opened_on <= opened_by).order_by(lines.c.account_id)
    if customer_id is not None:
        query = query.where(lines.c.customer_id == customer_id)
    if after is not None:
        query = query.where(lines.c.account_id > after)
    if limit is not None:
        query = query.limit(limit)
    return list(conn.execute(query).scalars())


def read_events_up_to(conn: Connection, accounts: Sequence[str], up_to: date) -> dict[str, list[Event]]:
    """The events of each of ``accounts`` dated on or before ``up_to``, in posting order.

    An account with no such event (not in the ledger, or opened later) is absent.
    """
    out: dict[str, list[Event]] = {}
    if not accounts:
        return out
    query = (
        select(events.c.account_id, events.c.payload)
        .where(events.c.account_id.in_(bindparam("accounts", expanding=True)), events.c.occurred_on <= up_to)
        .order_by(events.c.account_id, events.c.id)
    )
    for account_id, payload in conn.execute(query, {"accounts": list(accounts)}):
        out.setdefault(account_id, []).append(event_from_payload(json.loads(payload)))
    return out
