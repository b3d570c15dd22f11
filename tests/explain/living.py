"""Carry a promise out as real months, written independently of the engine's projection.

For each account, panel rows are appended month by month, with plain Python integers,
by the behaviour a promise states (the line used as now, each bill paid in full or
only the minimum, the steps taken in the first month); the customer table changes as
the steps say. Then every feature is computed from the lengthened panel with the
public ``compute_features`` and the account is decided again with the public
``decide``, as a review would.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from linewise.calendar import add_months, month_end
from linewise.decide import decide
from linewise.explain.recourse import Step
from linewise.features import compute_features
from linewise.strategy.evaluate import Context


@dataclass(frozen=True)
class Promise:
    account_id: str
    steps: list[Step]
    limit_now: int  # the limit once the decision took effect (a cut included)
    promised_limit: int
    promised_on: date


def months_of(promised_on: date, as_of: date) -> int:
    months = (promised_on.year - as_of.year) * 12 + promised_on.month - as_of.month
    return max(months, 0)


def _ceil_div(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return -((-a) // b)


def lived_rows(
    now: pd.DataFrame,
    before: pd.DataFrame,
    group: list[Promise],
    months: int,
    *,
    minimum_pct: int | None,
    as_of: date,
    last_bill: tuple[np.ndarray, np.ndarray],
) -> pd.DataFrame:
    """The panel rows of months 1..``months`` after ``as_of`` for the accounts of ``group``
    (``now`` and ``before`` their as-of month's and the previous month's rows, in order;
    ``minimum_pct`` None: each bill paid in full, else only that percent of it, never
    more than is due)."""

    def step_value(p: Promise, kind: str) -> int | None:
        return next((s.value or 0 for s in p.steps if s.kind == kind), None)

    repay = np.asarray([step_value(p, "repay_at_least") or 0 for p in group], dtype=object)
    cleared = np.asarray([step_value(p, "clear_overdue") is not None for p in group]) | (now["dpd"].to_numpy() <= 0)
    due_now = now["amount_due"].to_numpy(dtype="float64", na_value=np.nan)
    balance_before = before["balance"].to_numpy(dtype="float64", na_value=np.nan)
    # A month so far read before its due date (a balance, nothing due yet): bills come as
    # in the latest month one did.
    waiting = (due_now == 0) & (np.nan_to_num(balance_before) > 0)
    due_now = np.where(waiting & ~np.isnan(last_bill[0]), last_bill[0], due_now)
    balance_before = np.where(waiting & ~np.isnan(last_bill[0]), last_bill[1], balance_before)
    known = ~np.isnan(due_now) & (np.nan_to_num(balance_before) > 0)
    share_top = np.where(known, np.minimum(np.nan_to_num(due_now), np.nan_to_num(balance_before)), 1)
    share_top, share_bottom = (
        share_top.astype("int64").astype(object),
        np.where(known, np.nan_to_num(balance_before), 1).astype("int64").astype(object),
    )
    start = now["balance"].to_numpy(dtype="int64").astype(object)
    balance = start - repay
    previous = start
    out = []
    for j in range(1, months + 1):
        bill = np.maximum(previous, 0)
        due = np.minimum(bill, _ceil_div(bill * share_top, share_bottom))
        paid = bill if minimum_pct is None else np.minimum(due, _ceil_div(bill * minimum_pct, 100))
        if j == 1:
            paid = paid + repay
        dpd = np.where(cleared, 0, now["dpd"].to_numpy(dtype="int64") + 30 * j)
        on_time = pd.array([pd.NA if d == 0 else bool(x == 0) for d, x in zip(due, dpd, strict=True)], dtype="boolean")
        out.append(
            pd.DataFrame(
                {
                    "account_id": [p.account_id for p in group],
                    "month": pd.Timestamp(month_end(add_months(as_of, j))),
                    "credit_limit": [p.limit_now for p in group],
                    "balance": balance.astype("int64"),
                    "amount_due": due.astype("int64"),
                    "amount_paid": paid.astype("int64"),
                    "drawn_amount": np.maximum(balance - previous + paid, 0).astype("int64"),
                    "dpd": dpd,
                    "on_time": on_time,
                }
            )
        )
        previous = balance
    return pd.concat(out, ignore_index=True)


def lived_customers(customers: pd.DataFrame, group: list[Promise], as_of: date, months: int) -> pd.DataFrame:
    """The customer rows once the steps are taken: an income proved in month 1, debt elsewhere
    lowered; applications and lateness elsewhere gone only once the bureau's whole window
    (6 and 12 months) has passed."""
    rows = customers.set_index("account_id").loc[[p.account_id for p in group]].copy()
    for i, p in enumerate(group):
        for step in p.steps:
            if (
                step.kind == "no_new_credit_applications"
                and months >= 6
                and pd.notna(rows.iloc[i, rows.columns.get_loc("bureau_enquiries_6m")])
            ):
                rows.iloc[i, rows.columns.get_loc("bureau_enquiries_6m")] = 0
            if (
                step.kind == "repay_other_lenders_on_time"
                and months >= 12
                and pd.notna(rows.iloc[i, rows.columns.get_loc("external_dpd_max_12m")])
            ):
                rows.iloc[i, rows.columns.get_loc("external_dpd_max_12m")] = 0
            if step.kind == "verify_income_at_least":
                rows.iloc[i, rows.columns.get_loc("income_monthly")] = step.value
                rows.iloc[i, rows.columns.get_loc("income_verified_on")] = pd.Timestamp(month_end(add_months(as_of, 1)))
                rows.iloc[i, rows.columns.get_loc("income_source")] = "income_proof"
                rows.iloc[i, rows.columns.get_loc("consent_income")] = True
            elif step.kind == "reduce_external_debt_to":
                rows.iloc[i, rows.columns.get_loc("external_debt")] = step.value
    return rows.reset_index()


def _last_bills(panel: pd.DataFrame, ids: list[str], as_of: date) -> tuple[np.ndarray, np.ndarray]:
    """Per account, in the latest of the 11 months to ``as_of`` in which something fell due on the
    previous month end's balance: what fell due and that balance (NaN when no month did)."""
    rows = panel[panel["account_id"].isin(ids)].copy()
    rows["month"] = pd.to_datetime(rows["month"])
    by_month = rows.set_index(["account_id", "month"])
    due, balance = [], []
    for account in ids:
        found = (np.nan, np.nan)
        for k in range(11):
            month = pd.Timestamp(month_end(add_months(as_of, -k)))
            earlier = pd.Timestamp(month_end(add_months(as_of, -k - 1)))
            if (account, month) not in by_month.index or (account, earlier) not in by_month.index:
                continue
            owed = by_month.loc[(account, month), "amount_due"]
            before = by_month.loc[(account, earlier), "balance"]
            if pd.notna(owed) and owed > 0 and pd.notna(before) and before > 0:
                found = (float(owed), float(before))
                break
        due.append(found[0])
        balance.append(found[1])
    return np.asarray(due, dtype="float64"), np.asarray(balance, dtype="float64")


def live_and_decide(
    promises: list[Promise],
    panel: pd.DataFrame,
    customers: pd.DataFrame,
    *,
    as_of: date,
    model,
    model_ref: str,
    strategy,
    minimum_pct: int | None,
    last_change: dict[str, pd.Timestamp],
) -> pd.DataFrame:
    """Each promise lived and decided again at its review; indexed by account id."""
    known = panel[panel["month"] <= pd.Timestamp(as_of)]
    month_now = pd.Timestamp(as_of)
    month_before = pd.Timestamp(month_end(add_months(as_of, -1)))
    now_rows = known[known["month"] == month_now].set_index("account_id")
    before_rows = known[known["month"] == month_before].set_index("account_id")
    customers = customers.copy()
    for column, dtype in (
        ("income_monthly", "Int64"),
        ("income_verified_on", "datetime64[ns]"),
        ("income_source", object),
        ("external_debt", "Int64"),
        ("bureau_enquiries_6m", "Int64"),
        ("external_dpd_max_12m", "Int64"),
    ):
        if column not in customers:
            customers[column] = pd.Series(pd.NA if dtype is not object else None, index=customers.index, dtype=dtype)
    groups: dict[int, list[Promise]] = {}
    for promise in promises:
        groups.setdefault(months_of(promise.promised_on, as_of), []).append(promise)
    parts = []
    for months, group in sorted(groups.items()):
        ids = [p.account_id for p in group]
        history = known[known["account_id"].isin(ids)]
        new_rows = lived_rows(
            now_rows.loc[ids],
            before_rows.reindex(ids),
            group,
            months,
            minimum_pct=minimum_pct,
            as_of=as_of,
            last_bill=_last_bills(known, ids, as_of),
        )
        lived_panel = pd.concat([history, new_rows.astype(history.dtypes.to_dict())], ignore_index=True)
        review_on = month_end(add_months(as_of, months)) if months else as_of
        features = compute_features(lived_panel, lived_customers(customers, group, as_of, months), review_on).loc[ids]
        changed = pd.Series([last_change.get(i, pd.NaT) for i in ids], index=features.index, dtype="datetime64[ns]")
        decided = decide(
            features,
            model=model,
            model_ref=model_ref,
            strategy=strategy,
            context=Context(as_of=review_on, last_limit_change_on=changed),
            recourse=False,
        )
        parts.append(decided.set_index("account_id"))
    return pd.concat(parts)


def promises_of(decided: pd.DataFrame) -> list[Promise]:
    """Every decision with a recourse as a promise."""
    out = []
    for row in decided.itertuples(index=False):
        if pd.isna(row.recourse_limit):
            continue
        limit_now = min(int(row.new_limit), int(row.current_limit))
        out.append(
            Promise(
                str(row.account_id),
                [Step.decode(t) for t in row.recourse],
                limit_now,
                int(row.recourse_limit),
                pd.Timestamp(row.recourse_on).date(),
            )
        )
    return out


def failures(promises: list[Promise], again: pd.DataFrame) -> list[str]:
    """Each promise not kept, with its account, steps and what happened."""
    out = []
    for p in promises:
        got = again.loc[p.account_id]
        if got["action"] != "increase" or int(got["new_limit"]) < p.promised_limit:
            out.append(
                f"{p.account_id} {[s.encode() for s in p.steps]} promised {p.promised_limit} "
                f"on {p.promised_on}: {got['action']} to {int(got['new_limit'])} "
                f"({list(got['reasons'])})"
            )
    return out


def promised_months(promises: list[Promise], as_of: date) -> np.ndarray:
    return np.asarray([months_of(p.promised_on, as_of) for p in promises])
