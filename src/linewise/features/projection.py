"""A customer's next months lived as panel months, and the features they would give.

A promise such as "keep repaying on time for 3 months and the line goes up" is
checked by living it: the months after the as-of month are projected from the
customer's own pattern of use, the steps are taken in the month they are taken, and
the features are computed from the projected months by the same code a review uses
(:func:`~linewise.features.features_from_window`), never moved one by one.

What a projected month assumes, for the as-of month ``0`` and months ``j = 1..k``:

- The line is used as now: the balance stays at the as-of month's, less what a
  ``repay`` step paid off in month 1. The limit is the plan's (a cut takes effect).
- The bill of month ``j`` is the balance at the end of month ``j - 1`` (nothing when
  it is not positive); the amount due is the same share of the bill as in the as-of
  month (the whole bill when that month says nothing), rounded up to a minor unit.
- :attr:`Behaviour.PAY_IN_FULL` pays every bill in full; :attr:`Behaviour.PAY_MINIMUM`
  pays only the product's minimum (a share of the bill, never more than the amount
  due), which counts as on time where the strategy says so. Month 1 adds the
  ``repay`` step's amount.
- Arrears are cleared in month 1 by a ``clear_overdue`` step; otherwise they stay
  and grow by 30 days a month. A month with something due is on time exactly when
  nothing is overdue at its end; a month with nothing due has no on-time flag.
- New drawings are what keeps the balance where it is: ``balance_j - balance_{j-1}
  + paid_j``, never below zero.
- An income verified (``income_monthly``) or an external debt lowered
  (``external_debt``) in month 1 enters the customer's row from then on.
- The bureau's record stays as it is, except that a customer who makes no new credit
  application elsewhere (``no_new_applications``) has none in the bureau's 6-month
  window once all of it is projected months, and one who repays other lenders on
  time (``on_time_elsewhere``) has no lateness in its 12-month window once all of it
  is: conservatively, nothing is assumed to age out sooner.

Every amount is an integer number of minor units.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any

import numpy as np
import pandas as pd

from linewise.features._customers import CustomerColumns, aligned_rows, customer_columns
from linewise.features.compute import REGISTRY
from linewise.features.window import (
    WINDOW_MONTHS,
    PanelWindow,
    as_of_month,
    build_window,
)

__all__ = [
    "AGED_OUT_MONTHS",
    "CUSTOMER_COLUMNS",
    "Behaviour",
    "History",
    "Plan",
    "history_from_records",
    "history_from_window",
    "history_of",
    "history_records",
    "project",
    "project_columns",
]

# The customer-table columns features read; a projection carries them along.
CUSTOMER_COLUMNS = (
    "opened_on",
    "income_monthly",
    "income_verified_on",
    "income_source",
    "consent_income",
    "consent_bureau",
    "consent_assets",
    "external_debt",
    "bureau_enquiries_6m",
    "external_dpd_max_12m",
    "bureau_score",
    "assets",
)
_DATES = ("opened_on", "income_verified_on")
_FLAGS = ("consent_income", "consent_bureau", "consent_assets")
_TEXTS = ("income_source",)
# Days a month of unpaid arrears adds to days past due.
_DAYS_PER_MONTH = 30
_BASIS_POINTS = 10_000
# The bureau's counts that age out of their look-back, and its length in months.
AGED_OUT_MONTHS: dict[str, int] = {
    name: REGISTRY[name].window_months or 0 for name in ("bureau_enquiries_6m", "external_dpd_max_12m")
}


class Behaviour(StrEnum):
    """How the customer pays each bill in the projected months."""

    PAY_IN_FULL = "pay_in_full"
    PAY_MINIMUM = "pay_minimum"


@dataclass(frozen=True)
class History:
    """Per account, what its features are computed from: the panel window and its customer row.

    ``customers`` has one row per account of ``window``, in the same order, with
    ``account_id`` as a column.
    """

    window: PanelWindow
    customers: pd.DataFrame

    def __len__(self) -> int:
        return len(self.window)

    def rows(self, positions: np.ndarray, *, ids: np.ndarray | None = None) -> History:
        """The accounts at ``positions`` (repeats allowed), renamed to ``ids`` when given."""
        if ids is None and np.array_equal(positions, np.arange(len(self))):
            return self  # all of them, in order: a history is never changed in place
        taken = self.window.rows(positions, ids=ids)
        customers = self.customers.iloc[positions].reset_index(drop=True)
        customers["account_id"] = taken.account_ids
        return History(taken, customers)

    def position_of(self, account_ids: pd.Index) -> np.ndarray:
        """The position of each of ``account_ids``; KeyError naming the first one not held."""
        positions: np.ndarray = pd.Index(self.window.account_ids.astype(str)).get_indexer(account_ids.astype(str))
        if (positions < 0).any():
            raise KeyError(f"no history for account {account_ids[int(np.argmin(positions))]!r}")
        return positions


def history_of(panel: pd.DataFrame, customers: pd.DataFrame, as_of: date | pd.Timestamp) -> History:
    """The history of every account with a panel row in the as-of month (validated tables)."""
    return history_from_window(build_window(panel, as_of), customers)


def history_from_window(window: PanelWindow, customers: pd.DataFrame) -> History:
    """The history of every account of ``window`` (as :func:`history_of` gives it from its panel)."""
    return History(window, _customer_frame(window.account_ids, aligned_rows(customers, window.account_ids)))


@dataclass(frozen=True)
class Plan:
    """Per account of a history: the limit in the months ahead and the steps taken in month 1.

    ``repay`` is minor units paid off the balance (0 for none); ``income_monthly`` the
    monthly income verified and ``external_debt`` what other lenders are owed
    afterwards (NaN where not taken); ``no_new_applications`` and
    ``on_time_elsewhere`` what the customer does with other lenders (see the module).
    """

    credit_limit: np.ndarray
    repay: np.ndarray
    clear_overdue: np.ndarray
    income_monthly: np.ndarray
    external_debt: np.ndarray
    no_new_applications: np.ndarray | None = None
    on_time_elsewhere: np.ndarray | None = None

    @classmethod
    def as_now(cls, history: History) -> Plan:
        """No step taken, the limit as it is."""
        n = len(history)
        return cls(
            credit_limit=history.window.values["credit_limit"][:, 0].astype("int64"),
            repay=np.zeros(n, dtype="int64"),
            clear_overdue=np.zeros(n, dtype=bool),
            income_monthly=np.full(n, np.nan),
            external_debt=np.full(n, np.nan),
        )


def _ceil_share(amount: np.ndarray, numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    """``ceil(amount * numerator / denominator)`` per row, exactly, in integers."""
    amount, numerator, denominator = (np.asarray(a, dtype="int64") for a in (amount, numerator, denominator))
    if len(amount) == 0 or int(np.abs(amount).max()) * int(np.abs(numerator).max()) < 2**62:
        exact: np.ndarray = -((-amount * numerator) // denominator)
        return exact
    # Past 2**62 a product would wrap in int64: Python integers, row by row.
    out = [-((-int(a) * int(n)) // int(d)) for a, n, d in zip(amount, numerator, denominator, strict=True)]
    return np.asarray(out, dtype="int64")


def _last_bill(due: np.ndarray, balance: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per account, the bill the projection repeats: what fell due, and the balance before it.

    The as-of month's, unless nothing fell due in it on a balance (a month so far, read
    before its due date): then the latest month of the window in which something did.
    """
    months = min(due.shape[1], balance.shape[1]) - 1
    waiting = (due[:, 0] == 0) & (np.nan_to_num(balance[:, 1]) > 0)
    billed = (np.nan_to_num(due[:, :months]) > 0) & (np.nan_to_num(balance[:, 1 : months + 1]) > 0)
    latest = np.where(waiting & billed.any(axis=1), billed.argmax(axis=1), 0)
    rows = np.arange(len(due))
    return due[rows, latest], balance[rows, latest + 1]


@dataclass(frozen=True)
class _Ahead:
    """The projected months ``1..k``, each column held once where it can be.

    ``first`` is month 1's columns, ``later`` those of every later month (alike but for
    days past due), ``monthly`` the columns that change every month, shape
    ``(accounts, k)``, month 1 first. Amounts are integers; a column none of these
    holds is 0 in every projected month.
    """

    first: dict[str, np.ndarray]
    later: dict[str, np.ndarray]
    monthly: dict[str, np.ndarray]


def _projected_months(
    window: PanelWindow, plan: Plan, months: int, behaviour: Behaviour, minimum_payment_bp: int | None
) -> _Ahead:
    """The panel columns of months ``1..months`` (see :class:`_Ahead`)."""
    values = window.values
    n = len(window)
    balance_now = values["balance"][:, 0].astype("int64")
    due_now, balance_before = _last_bill(values["amount_due"], values["balance"])
    # The share of the bill that falls due, as a fraction of integers: as in the latest
    # month a bill fell due (the as-of month may be a month so far, nothing due yet).
    known = ~np.isnan(due_now) & ~np.isnan(balance_before) & (np.nan_to_num(balance_before) > 0)
    due_part = np.where(known, np.minimum(np.nan_to_num(due_now), np.nan_to_num(balance_before)), 1)
    due_whole = np.where(known, np.nan_to_num(balance_before), 1)
    balance_after = balance_now - plan.repay
    dpd_now = values["dpd"][:, 0].astype("int64")
    cleared = plan.clear_overdue | (dpd_now <= 0)
    part, whole = due_part.astype("int64"), due_whole.astype("int64")

    def billed(previous: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """What falls due on the balance ``previous`` left, and what is paid of it."""
        bill = np.maximum(previous, 0)
        due = np.minimum(bill, _ceil_share(bill, part, whole))
        if behaviour is Behaviour.PAY_IN_FULL:
            return due, bill
        if minimum_payment_bp is None:
            raise ValueError("paying the minimum needs the product's minimum payment share")
        minimum = _ceil_share(bill, np.full(n, minimum_payment_bp), np.full(n, _BASIS_POINTS))
        return due, np.minimum(due, minimum)

    # Month 1 bills the balance now; every later month the same balance (the one left
    # after month 1's repayment), so one computation serves months 2..k.
    due_first, paid_first = billed(balance_now)
    paid_first = paid_first + plan.repay
    due_later, paid_later = billed(balance_after) if months > 1 else (due_first, paid_first)
    first = {
        "credit_limit": plan.credit_limit,
        "balance": balance_after,
        "amount_due": due_first,
        "amount_paid": paid_first,
        "drawn_amount": np.maximum(balance_after - balance_now + paid_first, 0),
    }
    later = {
        "credit_limit": plan.credit_limit,
        "balance": balance_after,
        "amount_due": due_later,
        "amount_paid": paid_later,
        "drawn_amount": np.maximum(paid_later, 0),
    }
    steps = _DAYS_PER_MONTH * np.arange(1, months + 1, dtype="int64")
    dpd = np.where(cleared[:, None], 0, dpd_now[:, None] + steps[None, :])
    due = np.empty((n, months), dtype="int64")
    due[:, 0] = due_first
    due[:, 1:] = due_later[:, None]
    monthly = {"dpd": dpd.astype("float64"), "on_time": np.where(due > 0, (dpd == 0).astype("float64"), np.nan)}
    return _Ahead(first, later, monthly)


def project(
    history: History,
    plan: Plan,
    months: int | np.ndarray,
    behaviour: Behaviour,
    *,
    minimum_payment_bp: int | None = None,
) -> History:
    """``history`` as it stands ``months`` month ends on, with ``plan`` lived (see the module).

    ``months`` is one number for every account or one per account (at least 1). With
    one per account, the window's month is the latest of them and each account's
    dates (opening, income proof) move on by what it lacks of that, so that every
    feature is what it would be at the account's own month. ``minimum_payment_bp``
    is the product's minimum payment in basis points of the bill, needed for
    :attr:`Behaviour.PAY_MINIMUM`.
    """
    columns = customer_columns(history.customers, history.window.account_ids, aligned=True)
    window, lived = project_columns(
        history.window, columns, plan, months, behaviour, minimum_payment_bp=minimum_payment_bp
    )
    return History(window, _frame_of(window.account_ids, lived))


def project_columns(
    window: PanelWindow,
    customers: CustomerColumns,
    plan: Plan,
    months: int | np.ndarray,
    behaviour: Behaviour,
    *,
    minimum_payment_bp: int | None = None,
) -> tuple[PanelWindow, CustomerColumns]:
    """:func:`project` on a window and its customers' columns (row for row), without frames.

    What :func:`~linewise.features.compute.features_from_columns` computes the
    lived features from, for a search that lives many candidates.
    """
    n = len(window)
    lived = np.broadcast_to(np.asarray(months, dtype="int64"), (n,))
    if n and lived.min() < 1:
        raise ValueError(f"project: months must be at least 1; got {int(lived.min())}")
    most = int(lived.max()) if n else 1
    ahead = _projected_months(window, plan, most, behaviour, minimum_payment_bp)
    # Column k of the new window is projected month m - k (k < m) or old column k - m.
    # Gathered through one flat index per layout: [a later month, month 1, old columns]
    # for the columns alike in every later month; [months most..1, old columns] for
    # those that change each month.
    k = np.arange(WINDOW_MONTHS)[None, :]
    m = lived[:, None]
    rows = np.arange(n, dtype="int64")[:, None]
    slot = np.where(k < m - 1, 0, np.where(k == m - 1, 1, 2 + k - m))
    flat_alike = rows * (2 + WINDOW_MONTHS) + slot
    flat_monthly = rows * (most + WINDOW_MONTHS) + (most - m) + k
    values = {}
    for name, column in window.values.items():
        if name in ahead.monthly:
            values[name] = np.concatenate((ahead.monthly[name][:, ::-1], column), axis=1).take(flat_monthly)
            continue
        table = np.empty((n, 2 + WINDOW_MONTHS), dtype="float64")
        table[:, 0] = ahead.later.get(name, 0)
        table[:, 1] = ahead.first.get(name, 0)
        table[:, 2:] = column
        values[name] = table.take(flat_alike)
    present = np.concatenate((np.ones((n, most), dtype=bool), window.present), axis=1).take(flat_monthly)
    j = np.arange(most)[None, :]
    lived_month = j < m  # projected months beyond an account's own are not lived
    bad = lived_month & ((ahead.monthly["dpd"] > 0) | (ahead.monthly["on_time"] == 0.0))
    on_time = lived_month & (ahead.monthly["on_time"] == 1.0)
    # Offsets from the account's new month: month j + 1 of 1..m sits at m - 1 - j.
    offsets = m - 1 - j
    latest_bad = np.where(bad, offsets, np.iinfo("int64").max).min(axis=1)
    any_bad = bad.any(axis=1)
    since_bad = np.where(any_bad, latest_bad, window.months_since_delinquency + lived)
    clean_after = (on_time & (offsets < latest_bad[:, None])).sum(axis=1)
    clean = np.where(any_bad, clean_after, window.on_time_months_since_delinquency + on_time.sum(axis=1))
    month = as_of_month(window.month + pd.offsets.MonthEnd(most))
    projected = PanelWindow(
        account_ids=window.account_ids,
        month=month,
        values=values,
        present=present,
        months_observed=window.months_observed + lived,
        months_since_first_row=window.months_since_first_row + lived,
        months_since_delinquency=since_bad.astype("float64"),
        on_time_months_since_delinquency=clean.astype("float64"),
    )
    return projected, _lived_customers(customers, window.month, plan, lived, most)


def _lived_customers(
    customers: CustomerColumns, month: pd.Timestamp, plan: Plan, lived: np.ndarray, most: int
) -> CustomerColumns:
    """The customers' columns once ``plan``'s steps are taken, their dates moved on (see :func:`project`)."""
    n = customers.length
    numbers, consents = dict(customers.numbers), dict(customers.consents)
    dates, texts = dict(customers.dates), dict(customers.texts)
    verified = ~np.isnan(plan.income_monthly)
    if verified.any():
        numbers["income_monthly"] = _set(numbers.get("income_monthly"), n, verified, plan.income_monthly, np.nan)
        proof_on = np.full(n, np.datetime64(month + pd.offsets.MonthEnd(1), "ns"))
        dates["income_verified_on"] = _set(dates["income_verified_on"], n, verified, proof_on, np.datetime64("NaT"))
        proof = np.full(n, "income_proof", dtype=object)
        texts["income_source"] = _set(texts.get("income_source"), n, verified, proof, None)
        consents["consent_income"] = _set(consents.get("consent_income"), n, verified, np.ones(n, dtype=bool), False)
    lowered = ~np.isnan(plan.external_debt)
    if lowered.any():
        numbers["external_debt"] = _set(numbers.get("external_debt"), n, lowered, plan.external_debt, np.nan)
    for flags, column in (
        (plan.no_new_applications, "bureau_enquiries_6m"),
        (plan.on_time_elsewhere, "external_dpd_max_12m"),
    ):
        if flags is not None and column in numbers:
            aged = np.asarray(flags, dtype=bool) & ~np.isnan(numbers[column]) & (lived >= AGED_OUT_MONTHS[column])
            numbers[column] = _set(numbers[column], n, aged, np.zeros(n), np.nan)
    behind = most - lived
    if behind.any():
        dates = {name: _months_later(values, behind) for name, values in dates.items()}
    return CustomerColumns(n, numbers, consents, dates, texts)


def _set(values: np.ndarray | None, n: int, where: np.ndarray, new: np.ndarray, missing: Any) -> np.ndarray:
    """A copy of ``values`` (all ``missing`` when None) with ``new`` where ``where`` holds."""
    out = np.full(n, missing, dtype=new.dtype) if values is None else values.copy()
    out[where] = new[where]
    return out


def _months_later(dates: np.ndarray, months: np.ndarray) -> np.ndarray:
    """``dates`` moved on by ``months`` whole months each, as month ends (NaT stays NaT).

    Features read only the month of these dates, and compare them with month ends.
    """
    month = dates.astype("datetime64[M]")
    moved = month + np.asarray(months, dtype="int64").astype("timedelta64[M]")
    ends = (moved + np.timedelta64(1, "M")).astype("datetime64[D]") - np.timedelta64(1, "D")
    stamps: np.ndarray = ends.astype("datetime64[ns]")
    return stamps


def _customer_frame(account_ids: np.ndarray, rows: pd.DataFrame) -> pd.DataFrame:
    """:data:`CUSTOMER_COLUMNS` of ``rows`` (aligned to ``account_ids``) in one set of types.

    Dates as datetimes, consents as booleans (missing is no consent), text, the rest floats.
    """
    columns: dict[str, Any] = {"account_id": account_ids}
    for column in CUSTOMER_COLUMNS:
        values = rows[column] if column in rows.columns else pd.Series([None] * len(rows), dtype=object)
        columns[column] = _typed(column, values)
    return pd.DataFrame(columns)


def _typed(column: str, values: pd.Series) -> Any:
    """``values`` in the type :func:`_customer_frame` gives ``column``.

    The canonical types (a ledger's or a validated portfolio's) convert directly:
    pandas' general conversions cost a tenth of a millisecond each.
    """
    dtype = values.dtype
    if column in _DATES:
        return values.to_numpy() if dtype == "datetime64[ns]" else pd.to_datetime(values.to_numpy())
    if column in _FLAGS:
        if dtype in (np.dtype(bool), "boolean"):
            return values.to_numpy(dtype=bool, na_value=False)
        return values.astype("boolean").fillna(False).to_numpy(dtype=bool)
    if column in _TEXTS:
        return values.astype(object).where(values.notna(), None).to_numpy()
    if pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype):
        return values.to_numpy(dtype="float64", na_value=np.nan)
    return pd.to_numeric(values, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)


def _frame_of(account_ids: np.ndarray, customers: CustomerColumns) -> pd.DataFrame:
    """The customers' columns as :func:`_customer_frame` lays them out."""
    n = customers.length
    columns: dict[str, Any] = {"account_id": account_ids}
    for column in CUSTOMER_COLUMNS:
        if column in _DATES:
            columns[column] = customers.dates[column]
        elif column in _FLAGS:
            columns[column] = customers.consents.get(column, np.zeros(n, dtype=bool))
        elif column in _TEXTS:
            columns[column] = customers.texts.get(column, np.full(n, None, dtype=object))
        else:
            columns[column] = customers.numbers.get(column, np.full(n, np.nan))
    return pd.DataFrame(columns)


# --- stored with a decision -------------------------------------------------------------------

_FACTS = ("months_observed", "months_since_first_row", "months_since_delinquency", "on_time_months_since_delinquency")


def history_records(history: History) -> list[dict[str, Any]]:
    """One JSON-ready record per account: the window's columns, facts and the customer row."""
    window = history.window
    # Column by column, then row by row: a whole book's records are millions of values.
    columns = {name: _numbers(column) for name, column in window.values.items()}
    present = ["".join(row) for row in np.where(window.present, "1", "0").tolist()]
    facts = {fact: getattr(window, fact).astype("float64").tolist() for fact in _FACTS}
    customers = {
        name: [_plain(v) for v in history.customers[name].tolist()]
        for name in history.customers.columns
        if name != "account_id"
    }
    records = []
    for i in range(len(history)):
        record: dict[str, Any] = {name: column[i] for name, column in columns.items()}
        record["present"] = present[i]
        for fact, values in facts.items():
            record[fact] = values[i]
        record["customer"] = {name: values[i] for name, values in customers.items()}
        records.append(record)
    return records


def history_from_records(records: list[dict[str, Any]], account_ids: list[str], month: date | pd.Timestamp) -> History:
    """The history :func:`history_records` stored, for ``account_ids`` as of ``month``."""
    columns = [name for name in records[0] if name not in ("present", "customer", *_FACTS)]
    window = PanelWindow(
        account_ids=np.asarray(account_ids, dtype=object),
        month=as_of_month(month),
        values={
            name: np.asarray([[np.nan if v is None else v for v in r[name]] for r in records], dtype="float64")
            for name in columns
        },
        present=np.asarray([[c == "1" for c in r["present"]] for r in records], dtype=bool),
        **{fact: np.asarray([r[fact] for r in records], dtype="float64") for fact in _FACTS},
    )
    customers = pd.DataFrame([r["customer"] for r in records])
    return History(window, _customer_frame(np.asarray(account_ids, dtype=object), customers))


def _numbers(column: np.ndarray) -> list[list[int | float | None]]:
    """A window column's rows as JSON holds them briefly: None for NaN, whole numbers without ``.0``."""
    missing = np.isnan(column)
    # Whole numbers beyond int64 (none a ledger holds) stay floats rather than wrap.
    whole = ~missing & (np.abs(column) < 2.0**62) & (column == np.trunc(column))
    values = column.astype(object)
    values[whole] = column[whole].astype("int64").astype(object)
    values[missing] = None
    rows: list[list[int | float | None]] = values.tolist()
    return rows


def _plain(value: Any) -> Any:
    """A customer value as JSON holds it: None for missing, ISO text for dates."""
    if value is None or (not isinstance(value, str | bool) and pd.isna(value)):
        return None
    if isinstance(value, pd.Timestamp | date):
        return pd.Timestamp(value).date().isoformat()
    if isinstance(value, np.bool_ | bool):
        return bool(value)
    if isinstance(value, np.integer | np.floating | int | float):
        return float(value)
    return str(value)
