"""Where the decision core's inputs come from: a portfolio directory or the ledger itself.

A source gives a :class:`Book`: the panel and customer tables as of a date, in the
portfolio layout the features read, with the currency and, for a ledger, each line's
status and version (what applying a decision checks against).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy import Connection, Engine

from linewise.calendar import month_end
from linewise.data import Portfolio, read_portfolio
from linewise.errors import InputError
from linewise.features import features_from_window, limit_changed_on
from linewise.features.window import PanelWindow, build_window
from linewise.ledger.source import book_as_of

__all__ = ["Book", "book_from_ledger", "book_from_portfolio", "book_of", "month_described"]


@dataclass(frozen=True)
class Book:
    """The inputs of a set of decisions as of one date.

    ``panel`` and ``customers`` follow the portfolio schemas; ``as_of`` is the day the
    decisions describe; ``lines`` (ledger books only) holds ``status`` and ``version``
    per account, as read with the panel, and ``limit_changed`` the day each line's
    limit last changed (a portfolio knows only the month: it is read from the panel).
    """

    panel: pd.DataFrame
    customers: pd.DataFrame
    currency: str
    source: str
    as_of: date
    lines: pd.DataFrame | None = None
    limit_changed: pd.Series | None = None
    # The window and features, made once: several strategies decided on one book (the
    # strategy lab) share them. A book's tables are not changed after it is made.
    _made: dict[str, Any] = field(default_factory=dict, init=False, repr=False, compare=False)

    def window(self) -> PanelWindow:
        """The panel window of every account with a panel row in the month the book describes."""
        if "window" not in self._made:
            self._made["window"] = build_window(self.panel, month_described(self))
        window: PanelWindow = self._made["window"]
        return window

    def features(self, window: PanelWindow | None = None) -> pd.DataFrame:
        """One row of features per account with a panel row in the month the book describes.

        ``window`` is :meth:`window`'s, when the caller has it already. The same frame
        is given to every caller: it is read, never changed.
        """
        if "features" not in self._made:
            self._made["features"] = features_from_window(self.window() if window is None else window, self.customers)
        features: pd.DataFrame = self._made["features"]
        return features

    def last_limit_change_on(self, accounts: pd.Index) -> pd.Series:
        """Per account, the day its limit last changed (NaT when never)."""
        if self.limit_changed is not None:
            return pd.to_datetime(self.limit_changed).reindex(accounts).rename("last_limit_change_on")
        return limit_changed_on(self.panel, month_described(self)).reindex(accounts)


def month_described(book: Book) -> date:
    """The date features are computed as of.

    The as-of date, or for a ledger read mid-month the end of that month, whose panel
    row holds the month so far.
    """
    if book.lines is None:
        return book.as_of
    return month_end(book.as_of)


def book_from_portfolio(directory: Path, as_of: date | None = None) -> Book:
    """The portfolio in ``directory`` as of ``as_of`` (default: its last panel month)."""
    return book_of(read_portfolio(directory), as_of)


def book_of(loaded: Portfolio, as_of: date | None = None) -> Book:
    """A portfolio already read, as of ``as_of`` (default: its last panel month)."""
    when = as_of if as_of is not None else loaded.months[-1].date()
    return Book(
        panel=loaded.panel, customers=loaded.customers, currency=loaded.currency, source=loaded.source, as_of=when
    )


def book_from_ledger(source: Engine | Connection, as_of: date, accounts: str | Sequence[str] | None = None) -> Book:
    """The ledger's lines (one, several or all) as of ``as_of``, the month so far included.

    ``source`` is the database, or a connection to read in its transaction. Raises
    InputError (``ledger_empty``) when no line is open by then.
    """
    read = book_as_of(source, as_of, accounts)
    if read.currency is None:
        raise InputError.for_field(
            "ledger_empty", where="ledger", field="lines", rule=f"at least one line open on {as_of}", value=0
        )
    return Book(
        panel=read.panel,
        customers=read.customers,
        currency=read.currency,
        source="ledger",
        as_of=as_of,
        lines=read.lines,
    )
