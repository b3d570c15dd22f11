"""The panel up to an as-of date, arranged for vectorised feature computation.

One row per account with a panel row in the as-of month; the last
:data:`WINDOW_MONTHS` months as dense ``(accounts, months)`` arrays whose column 0
is the as-of month, 1 the month before, and so on (NaN where the account has no row
yet); and the whole-history facts (first month, last delinquent month, on-time
months since then) that windows cannot hold.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

__all__ = ["WINDOW_MONTHS", "PanelWindow", "as_of_month", "build_window"]

WINDOW_MONTHS = 12
_WINDOW_COLUMNS = ("credit_limit", "balance", "amount_due", "amount_paid", "drawn_amount", "dpd", "on_time")


@dataclass(frozen=True)
class PanelWindow:
    """Dense arrays of the recent panel, plus whole-history facts, per account.

    ``values[c][i, k]`` is column ``c`` of account ``i`` ``k`` months before the
    as-of month. ``on_time`` is 1.0, 0.0 or NaN (nothing fell due). A month is
    *delinquent* when ``dpd > 0`` or ``on_time`` is false.
    """

    account_ids: np.ndarray
    month: pd.Timestamp
    values: dict[str, np.ndarray]
    present: np.ndarray
    months_observed: np.ndarray
    months_since_first_row: np.ndarray
    months_since_delinquency: np.ndarray
    on_time_months_since_delinquency: np.ndarray

    def __len__(self) -> int:
        return len(self.account_ids)

    def rows(self, positions: np.ndarray, *, ids: np.ndarray | None = None) -> PanelWindow:
        """The accounts at ``positions`` (repeats allowed), renamed to ``ids`` when given."""
        positions = np.asarray(positions)
        if positions.dtype.kind not in "iu":
            positions = np.arange(len(self))[positions]  # a mask, or anything else numpy indexes by
        # take() copies whole rows faster than indexing does (a search lives millions of rows).
        return PanelWindow(
            account_ids=self.account_ids[positions] if ids is None else np.asarray(ids, dtype=object),
            month=self.month,
            values={name: column.take(positions, axis=0) for name, column in self.values.items()},
            present=self.present.take(positions, axis=0),
            months_observed=self.months_observed[positions],
            months_since_first_row=self.months_since_first_row[positions],
            months_since_delinquency=self.months_since_delinquency[positions],
            on_time_months_since_delinquency=self.on_time_months_since_delinquency[positions],
        )

    def recent(self, column: str, months: int) -> np.ndarray:
        """The last ``months`` months of ``column`` (as-of month first)."""
        recent: np.ndarray = self.values[column][:, :months]
        return recent


def as_of_month(as_of: date | pd.Timestamp) -> pd.Timestamp:
    """The last month end on or before ``as_of``: the month a feature row describes."""
    stamp = pd.Timestamp(as_of).normalize()
    return stamp if stamp.is_month_end else stamp - pd.offsets.MonthEnd(1)


def _month_number(months: np.ndarray) -> np.ndarray:
    """``year * 12 + month`` of each of ``months`` (datetime64)."""
    numbers: np.ndarray = months.astype("datetime64[M]").astype("int64") + (1970 * 12 + 1)
    return numbers


def build_window(panel: pd.DataFrame, as_of: date | pd.Timestamp) -> PanelWindow:
    """The window of every account that has a panel row in the as-of month.

    ``panel`` is a validated panel (canonical types); rows after the as-of month are
    ignored, so the result is what was known at ``as_of``.
    """
    month = as_of_month(as_of)
    # Read as arrays once: filtering the frame itself costs milliseconds for one account.
    months = panel["month"].to_numpy()
    known = months <= month.to_datetime64()
    # Accounts as integer codes, numbered in sorted order: looking up millions of ids
    # as strings costs seconds where this costs one sort of the distinct ones.
    every_code, every_id = pd.factorize(panel["account_id"], sort=True)
    known_codes = every_code[known]
    now = months[known] == month.to_datetime64()
    is_active = np.zeros(len(every_id), dtype=bool)
    is_active[known_codes[now]] = True
    active_codes = np.flatnonzero(is_active)
    active = every_id.take(active_codes).astype(str).to_numpy(dtype=object)
    position = np.full(len(every_id), -1, dtype=np.int64)
    position[active_codes] = np.arange(len(active_codes))
    codes = position[known_codes]
    keep = codes >= 0
    codes = codes[keep]
    rows_kept = np.flatnonzero(known)[keep]
    offsets = _month_number(np.asarray([month.to_datetime64()]))[0] - _month_number(months[rows_kept])

    n = len(active)
    in_window = offsets < WINDOW_MONTHS
    rows, cols = codes[in_window], offsets[in_window]
    values: dict[str, np.ndarray] = {}
    for column in _WINDOW_COLUMNS:
        dense = np.full((n, WINDOW_MONTHS), np.nan)
        dense[rows, cols] = panel[column].to_numpy(dtype="float64", na_value=np.nan)[rows_kept][in_window]
        values[column] = dense
    present = np.zeros((n, WINDOW_MONTHS), dtype=bool)
    present[rows, cols] = True

    oldest = np.zeros(n, dtype="int64")
    np.maximum.at(oldest, codes, offsets)
    observed = np.bincount(codes, minlength=n)
    on_time = panel["on_time"].to_numpy(dtype="float64", na_value=np.nan)[rows_kept]
    dpd = panel["dpd"].to_numpy(dtype="int64")[rows_kept]
    since_bad, clean_on_time = _history_since_delinquency(on_time, dpd, codes, offsets, n, oldest)
    return PanelWindow(
        account_ids=active,
        month=month,
        values=values,
        present=present,
        months_observed=observed.astype("float64"),
        months_since_first_row=oldest.astype("float64"),
        months_since_delinquency=since_bad,
        on_time_months_since_delinquency=clean_on_time,
    )


def _history_since_delinquency(
    on_time: np.ndarray, dpd: np.ndarray, codes: np.ndarray, offsets: np.ndarray, n: int, oldest: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Months since the last delinquent month, and on-time months after it.

    An account never delinquent in its history counts from the month before its
    first row: its whole observed history is clean.
    """
    bad = (dpd > 0) | (on_time == 0.0)
    last_bad = oldest + 1
    np.minimum.at(last_bad, codes[bad], offsets[bad])
    after_bad = offsets < last_bad[codes]
    clean_on_time = np.bincount(codes[after_bad & (on_time == 1.0)], minlength=n)
    return last_bad.astype("float64"), clean_on_time.astype("float64")
