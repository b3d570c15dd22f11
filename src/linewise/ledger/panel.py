"""The panel of many lines at once, up to any date: every account and month in one pass.

Pure: arrays in, frame out. It gives the rows :func:`linewise.ledger.snapshot.month_end_panel`
gives for each complete month (a test holds the two equal), but as a handful of numpy
operations over all (account, month) cells instead of a pass per month, so one account
costs about as little as its few rows and a whole book scales with its rows.

A month not yet over on ``as_of`` is a row too: the month so far, computed at
``as_of`` (what fell due, was paid and drawn by then, days past due on ``as_of``)
and labelled with its month end like every other row. An instalment pending on
``as_of`` (not settled by then, its deadline, due date plus grace days, not passed)
has not fallen due in any row: its outcome is not known yet.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

__all__ = ["NEVER_DAY", "BookArrays", "day_number", "panel_as_of"]

# Days are counted from 1970-01-01 (numpy's epoch). A date that is not there (an
# instalment not settled) is this day, far beyond any date linewise accepts (2199).
NEVER_DAY = 10**7
_PANEL_COLUMNS = [
    "account_id",
    "month",
    "credit_limit",
    "balance",
    "amount_due",
    "amount_paid",
    "drawn_amount",
    "dpd",
    "on_time",
]


def day_number(day: date) -> int:
    """``day`` as days since 1970-01-01."""
    return int(np.datetime64(day, "D").astype("int64"))


@dataclass(frozen=True)
class BookArrays:
    r"""What a panel needs of the ledger's projections, as parallel arrays.

    Days are :func:`day_number`\s, months are months since 1970-01 (numpy's
    ``datetime64[M]``). Sums are per account and month; ``*_account`` arrays hold
    account ids, and rows of accounts not in ``account_id`` are ignored.

    - limits: every change (day, the store's row id to order a day's changes, amount);
    - drawn: principal drawn per month; paid: all allocations and their principal per month;
    - due: per month of the due date, the amount due, how many instalments fell due and
      how many of those were settled by their due date plus grace; an instalment pending
      on ``as_of`` (not settled by then and its deadline not passed) is left out;
    - late: each instalment settled after its due date, or not at all (``NEVER_DAY``),
      with both days: the only ones that make days past due.
    """

    account_id: np.ndarray
    opened_day: np.ndarray
    limit_account: np.ndarray
    limit_day: np.ndarray
    limit_seq: np.ndarray
    limit_amount: np.ndarray
    drawn_account: np.ndarray
    drawn_month: np.ndarray
    drawn_principal: np.ndarray
    paid_account: np.ndarray
    paid_month: np.ndarray
    paid_amount: np.ndarray
    paid_principal: np.ndarray
    due_account: np.ndarray
    due_month: np.ndarray
    due_amount: np.ndarray
    due_count: np.ndarray
    due_in_time_count: np.ndarray
    late_account: np.ndarray
    late_due_day: np.ndarray
    late_settled_day: np.ndarray


def _month_of(days: np.ndarray) -> np.ndarray:
    """Months since 1970-01 of day numbers."""
    months: np.ndarray = days.astype("datetime64[D]").astype("datetime64[M]").astype("int64")
    return months


def _month_end_day(months: np.ndarray) -> np.ndarray:
    ends: np.ndarray = (months + 1).astype("datetime64[M]").astype("datetime64[D]").astype("int64") - 1
    return ends


@dataclass(frozen=True)
class _Grid:
    """One row per account and month, from the month it opened to ``as_of``'s."""

    first_month: np.ndarray  # per account
    start: np.ndarray  # per account: its first row
    count: np.ndarray  # per account: its rows
    account: np.ndarray  # per row: account code
    month: np.ndarray  # per row: months since 1970-01
    cutoff: np.ndarray  # per row: the day it is computed at (month end, or as_of)

    def rows(self, codes: np.ndarray, months: np.ndarray) -> np.ndarray:
        """The row of each (account code, month); a month before the account's first goes to it."""
        offset = np.maximum(months - self.first_month[codes], 0)
        rows: np.ndarray = self.start[codes] + offset
        return rows

    def per_row(self, codes: np.ndarray, months: np.ndarray, values: np.ndarray) -> np.ndarray:
        """``values`` summed per row, exactly (int64)."""
        total = np.zeros(len(self.account), dtype="int64")
        np.add.at(total, self.rows(codes, months), values.astype("int64"))
        return total

    def to_date(self, in_row: np.ndarray) -> np.ndarray:
        """A running total within each account of per-row amounts."""
        running = np.cumsum(in_row)
        before = np.r_[0, running][self.start]
        out: np.ndarray = running - before[self.account]
        return out


def _grid(opened_day: np.ndarray, as_of_day: int) -> _Grid:
    first_month = _month_of(opened_day)
    count = np.maximum(_month_of(np.asarray([as_of_day]))[0] - first_month + 1, 0)
    start = np.r_[0, np.cumsum(count)[:-1]].astype("int64")
    account = np.repeat(np.arange(len(count)), count)
    month = first_month[account] + (np.arange(len(account)) - start[account])
    cutoff = np.minimum(_month_end_day(month), as_of_day)
    return _Grid(first_month, start, count, account, month, cutoff)


class _Lookup:
    """Account codes (positions in ``ids``) of arrays of account ids, each array looked up once."""

    # Below this many ids a dict beats a pandas index: one account costs microseconds.
    _HASHED_FROM = 4_096

    def __init__(self, ids: np.ndarray) -> None:
        self._ids = ids
        self._dict: dict[str, int] | None = None
        self._index: pd.Index | None = None
        self._seen: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}

    def codes(self, accounts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The code of each of ``accounts`` (-1 when not among the ids), and which are there at all."""
        seen = self._seen.get(id(accounts))
        if seen is not None and seen[0] is accounts:
            return seen[1], seen[2]
        if len(accounts) < self._HASHED_FROM:
            if self._dict is None:
                self._dict = {account: code for code, account in enumerate(self._ids)}
            lookup = self._dict
            codes = np.fromiter((lookup.get(a, -1) for a in accounts), dtype="int64", count=len(accounts))
        else:
            if self._index is None:
                self._index = pd.Index(self._ids, dtype=object)
            codes = self._index.get_indexer(pd.Index(accounts, dtype=object)).astype("int64")
        keep = codes >= 0
        self._seen[id(accounts)] = (accounts, codes, keep)
        return codes, keep


def panel_as_of(book: BookArrays, as_of: date) -> pd.DataFrame:
    """Panel rows of every line of ``book`` opened by ``as_of``, from its first month to ``as_of``'s.

    ``book`` holds only what happened by ``as_of``: limits, drawdowns and allocations
    dated after it, and instalments due after it, are left out by the caller, and so are
    instalments pending on it from the sums of instalments due (see :class:`BookArrays`).
    Columns as the ledger's panel (``month`` the month end, ``datetime64[ns]``), sorted by account
    and month. Each complete month's row equals :func:`~linewise.ledger.snapshot.month_end_panel`'s;
    the last row of an account, when ``as_of`` is not a month end, is the month so far
    as that function computes it at ``as_of``, labelled with the month end.
    """
    as_of_day = day_number(as_of)
    opened = book.opened_day <= as_of_day
    ids, opened_day = book.account_id[opened], book.opened_day[opened]
    order = np.argsort(ids, kind="stable")
    ids, opened_day = ids[order], opened_day[order]
    grid = _grid(opened_day, as_of_day)
    if len(grid.account) == 0:
        return pd.DataFrame({c: pd.Series(dtype=t) for c, t in _EMPTY_TYPES.items()})[_PANEL_COLUMNS]

    lookup = _Lookup(ids)

    def summed(account: np.ndarray, month: np.ndarray, values: np.ndarray) -> np.ndarray:
        codes, keep = lookup.codes(account)
        return grid.per_row(codes[keep], month[keep], values[keep])

    drawn_in_row = summed(book.drawn_account, book.drawn_month, book.drawn_principal)
    paid_in_row = summed(book.paid_account, book.paid_month, book.paid_amount)
    principal_in_row = summed(book.paid_account, book.paid_month, book.paid_principal)
    falling_due = summed(book.due_account, book.due_month, book.due_count)
    in_time = summed(book.due_account, book.due_month, book.due_in_time_count)
    on_time = pd.array(in_time == falling_due, dtype="boolean")
    on_time[falling_due == 0] = pd.NA
    return pd.DataFrame(
        {
            "account_id": ids[grid.account],
            "month": _month_end_day(grid.month).astype("datetime64[D]").astype("datetime64[ns]"),
            "credit_limit": _credit_limit(book, lookup, grid),
            "balance": grid.to_date(drawn_in_row) - grid.to_date(principal_in_row),
            "amount_due": summed(book.due_account, book.due_month, book.due_amount),
            "amount_paid": paid_in_row,
            "drawn_amount": drawn_in_row,
            "dpd": _dpd(book, lookup, grid),
            "on_time": on_time,
        }
    )


_EMPTY_TYPES = {
    "account_id": "object",
    "month": "datetime64[ns]",
    "credit_limit": "int64",
    "balance": "int64",
    "amount_due": "int64",
    "amount_paid": "int64",
    "drawn_amount": "int64",
    "dpd": "int64",
    "on_time": "boolean",
}


def _credit_limit(book: BookArrays, lookup: _Lookup, grid: _Grid) -> np.ndarray:
    """Per row, the limit of the latest change on or before its cutoff; 0 before the first."""
    codes, keep = lookup.codes(book.limit_account)
    codes, days = codes[keep], book.limit_day[keep]
    seq, amount = book.limit_seq[keep], book.limit_amount[keep]
    rows = grid.rows(codes, _month_of(days))
    order = np.lexsort((seq, days, rows))
    rows, amount = rows[order], amount[order]
    last_in_row = np.r_[rows[1:] != rows[:-1], True] if len(rows) else np.zeros(0, dtype=bool)
    known = np.full(len(grid.account), -1, dtype="int64")
    values = np.zeros(len(grid.account), dtype="int64")
    known[rows[last_in_row]] = rows[last_in_row]
    values[rows[last_in_row]] = amount[last_in_row]
    latest = np.maximum.accumulate(known)
    # A row before its account's first change takes no earlier account's limit.
    has = latest >= grid.start[grid.account]
    out: np.ndarray = np.where(has, values[np.maximum(latest, 0)], 0)
    return out


def _dpd(book: BookArrays, lookup: _Lookup, grid: _Grid) -> np.ndarray:
    """Days from the oldest instalment unpaid at each row's cutoff (due before it) to the cutoff."""
    codes, keep = lookup.codes(book.late_account)
    codes, due_day, settled = codes[keep], book.late_due_day[keep], book.late_settled_day[keep]
    rows = grid.rows(codes, _month_of(due_day))
    # Unpaid at a row: due before its cutoff and not settled by it. The rows form a run:
    # from the due month (or the next, when due on its cutoff) to the month before settling.
    first = np.where(due_day < grid.cutoff[rows], rows, rows + 1)
    last_of_account = grid.start[codes] + grid.count[codes] - 1
    settled_in_grid = settled <= grid.cutoff[last_of_account]
    settled_row = grid.rows(codes, _month_of(np.where(settled_in_grid, settled, due_day)))
    last = np.where(settled_in_grid, settled_row - 1, last_of_account)
    span = np.maximum(last - first + 1, 0)
    none = np.iinfo("int64").max
    oldest = np.full(len(grid.account), none, dtype="int64")
    if span.sum():
        runs = np.repeat(np.arange(len(span)), span)
        starts = np.r_[0, np.cumsum(span)[:-1]]
        cells = first[runs] + (np.arange(len(runs)) - starts[runs])
        np.minimum.at(oldest, cells, due_day[runs])
    late = oldest != none
    out: np.ndarray = np.where(late, grid.cutoff - np.where(late, oldest, 0), 0).astype("int64")
    return out
