"""Month-end snapshot: the ledger's projections as panel rows (one per account and month).

Pure: frames in, frame out. ``on_time`` is True when every instalment due in the
month was paid in full by its due date plus grace, False when one was not, and
missing when nothing fell due.

The panel is read on a day, ``as_of``. An instalment *pending* then (not settled by
``as_of``, and its deadline, due date plus grace days, not before ``as_of``) has not
fallen due in any row: it is neither in ``amount_due`` nor judged by ``on_time``, as
its outcome is not known yet. It still makes days past due from its due date.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import pandas as pd

__all__ = ["PANEL_COLUMNS", "month_end_panel"]

PANEL_COLUMNS = [
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


def _dates(frame: pd.DataFrame, *columns: str) -> pd.DataFrame:
    frame = frame.copy()
    for column in columns:
        frame[column] = pd.to_datetime(frame[column])
    return frame


def _sum_by_account(frame: pd.DataFrame, mask: pd.Series, column: str) -> pd.Series:
    return frame.loc[mask].groupby("account_id")[column].sum()


def month_end_panel(frames: dict[str, pd.DataFrame], months: Sequence[date], as_of: date | None = None) -> pd.DataFrame:
    """Panel rows at each month end in ``months`` for every line open by then, read on ``as_of``.

    ``frames`` holds the ledger projections ``lines``, ``limit_history``,
    ``drawdowns``, ``instalments`` and ``allocations``. ``as_of`` (the latest of
    ``months`` when None) is the day instalments pending are judged on; a day of
    ``months`` that is not a month end is that month so far.
    """
    lines = _dates(frames["lines"], "opened_on")
    limits = _dates(frames["limit_history"], "effective_on").sort_values(["effective_on", "id"])
    draws = _dates(frames["drawdowns"], "drawn_on")
    insts = _dates(frames["instalments"], "due_on", "settled_on").merge(
        draws[["account_id", "seq", "grace_days"]],
        left_on=["account_id", "drawdown_seq"],
        right_on=["account_id", "seq"],
        how="left",
    )
    insts["deadline"] = insts["due_on"] + pd.to_timedelta(insts["grace_days"], unit="D")
    insts["amount_due"] = insts["principal_due"] + insts["interest_due"]
    insts["paid_in_time"] = insts["settled_on"].notna() & (insts["settled_on"] <= insts["deadline"])
    read_on = pd.Timestamp(as_of if as_of is not None else max(months, default=pd.Timestamp.max))
    insts["fallen_due"] = (insts["settled_on"] <= read_on) | (insts["deadline"] < read_on)
    allocs = _dates(frames["allocations"], "posted_on")
    principal = allocs[allocs["component"] == "principal"]

    out = [_month(m, lines, limits, draws, insts, allocs, principal) for m in months]
    if not out:
        return pd.DataFrame(columns=PANEL_COLUMNS)
    panel = pd.concat(out, ignore_index=True)
    return panel.sort_values(["account_id", "month"], ignore_index=True)[PANEL_COLUMNS]


def _month(
    month: date,
    lines: pd.DataFrame,
    limits: pd.DataFrame,
    draws: pd.DataFrame,
    insts: pd.DataFrame,
    allocs: pd.DataFrame,
    principal: pd.DataFrame,
) -> pd.DataFrame:
    end = pd.Timestamp(month)
    start = end.replace(day=1)
    accounts = pd.Index(lines.loc[lines["opened_on"] <= end, "account_id"], name="account_id")
    frame = pd.DataFrame(index=accounts)
    frame["credit_limit"] = limits[limits["effective_on"] <= end].groupby("account_id")["credit_limit"].last()
    drawn_to_date = _sum_by_account(draws, draws["drawn_on"] <= end, "principal")
    repaid_to_date = _sum_by_account(principal, principal["posted_on"] <= end, "amount")
    frame["balance"] = drawn_to_date.reindex(accounts, fill_value=0) - repaid_to_date.reindex(accounts, fill_value=0)
    in_month = (insts["due_on"] >= start) & (insts["due_on"] <= end) & insts["fallen_due"]
    frame["amount_due"] = _sum_by_account(insts, in_month, "amount_due")
    frame["amount_paid"] = _sum_by_account(
        allocs, (allocs["posted_on"] >= start) & (allocs["posted_on"] <= end), "amount"
    )
    frame["drawn_amount"] = _sum_by_account(
        draws, (draws["drawn_on"] >= start) & (draws["drawn_on"] <= end), "principal"
    )
    unpaid = (insts["due_on"] < end) & (insts["settled_on"].isna() | (insts["settled_on"] > end))
    oldest = insts.loc[unpaid].groupby("account_id")["due_on"].min()
    frame["dpd"] = (end - oldest).dt.days
    on_time = insts.loc[in_month].groupby("account_id")["paid_in_time"].all()
    frame = frame.fillna({"credit_limit": 0, "amount_due": 0, "amount_paid": 0, "drawn_amount": 0, "dpd": 0})
    for column in ("credit_limit", "balance", "amount_due", "amount_paid", "drawn_amount", "dpd"):
        frame[column] = frame[column].astype("int64")
    frame["on_time"] = on_time.reindex(accounts).astype("boolean")
    frame["month"] = month
    return frame.reset_index()
