"""The credit-report view and the bureau file's records, read from the store.

Each function reads the accounts' events up to the month end in one snapshot and
hands them to :func:`linewise.ledger.bureau.account_records`: the command line and
the service call these, and hold no reporting logic of their own.
"""

from __future__ import annotations

from collections.abc import Generator
from datetime import date

from sqlalchemy import Engine

from linewise.calendar import month_end
from linewise.errors import InputError, UnknownAccountError
from linewise.inputs import parse_id
from linewise.ledger.bureau import BureauRecord, account_records, is_reported
from linewise.ledger.store import read_snapshot
from linewise.ledger.store.book_reads import read_lines
from linewise.ledger.store.bureau_reads import read_events_up_to, read_opened_accounts
from linewise.ledger.store.customers import customer_accounts

__all__ = ["BOOK_CHUNK_ACCOUNTS", "account_report", "book_report", "customer_report"]

# Accounts whose events are read and folded together when the whole book is reported:
# a few thousand events in memory at a time, one query per chunk.
BOOK_CHUNK_ACCOUNTS = 500


def account_report(engine: Engine, account_id: str, month: date) -> tuple[BureauRecord, ...]:
    """The line's record and every loan's (paid off ones too) at the end of ``month``'s month.

    Raises :class:`UnknownAccountError` for an account not in the ledger and
    ``as_of_before_line_opened`` for a month that ended before the line opened.
    """
    account_id = parse_id(account_id, "account_id")
    end = month_end(month)
    with read_snapshot(engine) as conn:
        known = read_lines(conn, [account_id])
        history = read_events_up_to(conn, [account_id], end).get(account_id, [])
    if not known:
        raise UnknownAccountError(account_id)
    if not history:
        raise InputError.for_field(
            "as_of_before_line_opened",
            where=account_id,
            field="month",
            rule="a month that ends on or after the day the line opened",
            value=f"{end:%Y-%m}",
        )
    return account_records(history, end)


def customer_report(engine: Engine, customer_id: str, month: date) -> tuple[BureauRecord, ...]:
    """The records of every line of the customer opened by the end of ``month``'s month, and of their loans.

    Raises ``customer_not_found`` for a customer with no line in the ledger.
    """
    customer_id = parse_id(customer_id, "customer_id")
    end = month_end(month)
    with read_snapshot(engine) as conn:
        customer_accounts(conn, customer_id)
        accounts = read_opened_accounts(conn, end, customer_id=customer_id)
        histories = read_events_up_to(conn, accounts, end)
    return tuple(record for account in accounts for record in account_records(histories[account], end))


def book_report(engine: Engine, month: date) -> Generator[BureauRecord, None, None]:
    """The month's file: the records :func:`~linewise.ledger.bureau.is_reported` keeps, of every line.

    Lines in account id order, each line's record before its loans'. Read
    :data:`BOOK_CHUNK_ACCOUNTS` accounts at a time in one snapshot, which stays open
    until the generator is used up or closed. Each account's events are replayed
    through the ledger's posting (about 7 ms for a line of three dozen events).
    """
    end = month_end(month)
    with read_snapshot(engine) as conn:
        after: str | None = None
        while accounts := read_opened_accounts(conn, end, after=after, limit=BOOK_CHUNK_ACCOUNTS):
            histories = read_events_up_to(conn, accounts, end)
            for account in accounts:
                yield from (record for record in account_records(histories[account], end) if is_reported(record))
            after = accounts[-1]
