"""The ledger as a feature source: the panel and customer table of lines as of a date.

What :func:`book_as_of` gives is what the decision core takes: ``compute_features(
book.panel, book.customers, as_of=book.features_as_of)``, for one account, a set or
the whole book, read from one snapshot of the database.

Real time: when ``as_of`` is not a month end, each line's last panel row is its month
so far, computed at ``as_of`` (what fell due, was paid and drawn by then, days past
due on ``as_of``) and labelled with that month's end. Features are then computed *as
of that month end* (``features_as_of``), so that a repayment made today that clears the
arrears is seen today, not at the month's close. Customer attributes are those dated
on or before ``as_of`` itself. On a month end the panel is exactly
:func:`~linewise.ledger.service.export_panel`'s.

What fell due: an instalment has fallen due by ``as_of`` when it was settled by then
or its deadline (due date plus its drawdown's grace days) is before ``as_of``. One
neither is *pending*, its outcome not known yet: it is in no row's ``amount_due`` and
not judged by its ``on_time`` (an instalment due today and unpaid is not missed; paid
today, it is on time). Pending or not, an unpaid instalment makes days past due from
its due date.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Connection, Engine

from linewise.calendar import month_end
from linewise.errors import InputError, UnknownAccountError
from linewise.inputs import parse_id
from linewise.ledger.panel import BookArrays, panel_as_of
from linewise.ledger.store import read_snapshot
from linewise.ledger.store.book_reads import LINE_COLUMNS, book_array_reads, read_book_arrays, read_lines
from linewise.ledger.store.customers import customers_as_of
from linewise.ledger.store.unit_of_work import read_in_snapshot

__all__ = ["LedgerBook", "book_as_of"]

_OPENED_ON, _CURRENCY = LINE_COLUMNS.index("opened_on"), LINE_COLUMNS.index("currency")


@dataclass(frozen=True)
class LedgerBook:
    """Lines as of a date, ready for ``compute_features(panel, customers, as_of=features_as_of)``.

    ``panel`` and ``customers`` are in the portfolio's canonical types (see
    :class:`linewise.data.Portfolio`); ``lines`` is each line's row as read (``status``,
    ``credit_limit``, ``version`` ... now, not as of ``as_of``: what a decision applied to
    the line is checked against), indexed by account. ``currency`` is the lines'
    currency (None when no line was read).
    """

    as_of: date
    features_as_of: date
    panel: pd.DataFrame
    customers: pd.DataFrame
    lines: pd.DataFrame
    currency: str | None


def _check_accounts(accounts: str | Sequence[str] | None) -> list[str] | None:
    if accounts is None:
        return None
    ids = [accounts] if isinstance(accounts, str) else list(accounts)
    return [parse_id(account, "account_id") for account in ids]


@contextmanager
def _reading(source: Engine | Connection) -> Iterator[Connection]:
    """A connection to read a book on: ``source`` itself, or a new snapshot of the engine."""
    if isinstance(source, Connection):
        yield source
        return
    with read_snapshot(source) as conn:
        yield conn


def book_as_of(source: Engine | Connection, as_of: date, accounts: str | Sequence[str] | None = None) -> LedgerBook:
    """The panel, customers and lines of ``accounts`` (one id, several, or every line) as of ``as_of``.

    Lines opened after ``as_of`` are left out (a named one too). A named account that is not in the
    ledger raises :class:`UnknownAccountError`; lines in more than one currency raise
    ``currencies_mixed`` (a decision's amounts are in one currency). Everything is
    read in one snapshot, so a posting committing meanwhile is seen whole or not at all;
    given a connection instead of an engine, it is read there (in its transaction, its
    own writes seen).
    """
    ids = _check_accounts(accounts)
    with _reading(source) as conn:
        if ids is None:
            arrays, customers, line_rows = _read_book(conn, as_of)
        else:
            line_rows = read_lines(conn, ids)
            if len(line_rows) < len(set(ids)):
                found = {row[0] for row in line_rows}
                raise UnknownAccountError(next(account for account in ids if account not in found))
            arrays = read_book_arrays(conn, as_of, ids)
            customers = customers_as_of(conn, as_of, ids)
    opened = [row for row in line_rows if row[_OPENED_ON] <= as_of]
    book_lines = _lines_frame(opened)
    currencies = sorted({row[_CURRENCY] for row in opened})
    if len(currencies) > 1:
        raise InputError.for_field(
            "currencies_mixed",
            where="ledger",
            field="currency",
            rule="one currency for the lines decided together",
            value=currencies,
        )
    return LedgerBook(
        as_of=as_of,
        features_as_of=month_end(as_of),
        panel=panel_as_of(arrays, as_of),
        customers=customers,
        lines=book_lines,
        currency=currencies[0] if currencies else None,
    )


def _read_book(conn: Connection, as_of: date) -> tuple[BookArrays, pd.DataFrame, list[tuple[Any, ...]]]:
    """Every line's arrays, customers and rows, read at once in ``conn``'s snapshot (see read_in_snapshot)."""
    array_reads = book_array_reads(conn.dialect.name, as_of)
    reads: dict[str, Callable[[Connection], Any]] = {f"arrays{k}": read for k, read in enumerate(array_reads)}
    reads["customers"] = functools.partial(customers_as_of, as_of=as_of)
    reads["lines"] = read_lines
    # The slowest first: the sums of allocations and of instalments, then the customers.
    slowest = ["arrays3", "arrays4", "customers"]
    names = [*slowest, *(name for name in reads if name not in slowest)]
    results = dict(zip(names, read_in_snapshot(conn, [reads[name] for name in names]), strict=True))
    arrays = BookArrays(*(column for k in range(len(array_reads)) for column in results[f"arrays{k}"]))
    return arrays, results["customers"], results["lines"]


def _lines_frame(rows: list[tuple[Any, ...]]) -> pd.DataFrame:
    """The lines' rows by account; built from arrays, as pandas' type inference cost milliseconds."""
    columns = list(zip(*rows, strict=True)) if rows else [()] * len(LINE_COLUMNS)
    data = {
        name: np.array(values, dtype="int64" if name in ("credit_limit", "version") else object)
        for name, values in zip(LINE_COLUMNS, columns, strict=True)
    }
    index = pd.Index(data.pop("account_id"), dtype=object, name="account_id")
    return pd.DataFrame(data, index=index)
