"""Verified monthly income from bank-statement credits (财务流水), and its merge into customers.

The input is one row per statement transaction: ``account_id`` (the credit line the
statement was uploaded for, the key of the customer table), ``date``, ``amount``
(signed integer minor units; credits positive), ``counterparty`` and
``description``. An optional ``account_holder`` column (the statement's 户名) lets
transfers from the customer's own accounts be recognised by name.

No maintained library detects salary in bank statements (open-source tools
categorise transactions for budgeting; none derive a verifiable income), so the
rule is written here, vectorised with pandas group-bys.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from linewise.errors import InputError, Problem, SchemaMismatchError
from linewise.money import format_amount

__all__ = [
    "CV_MAX",
    "DAY_SPREAD_MAX",
    "EXCLUDED_WORDS",
    "INCOME_COLUMNS",
    "SALARY_WORDS",
    "TRANSACTION_COLUMNS",
    "derive_income",
    "merge_income",
]

TRANSACTION_COLUMNS = ("account_id", "date", "amount", "counterparty", "description")
INCOME_COLUMNS = (
    "account_id",
    "income_monthly",
    "income_verified_on",
    "income_source",
    "months_observed",
    "months_with_income",
    "stability",
    "counterparties",
    "evidence",
    "reason",
)
# Payroll credits name themselves in most Chinese and English statements.
SALARY_WORDS = ("工资", "薪", "代发", "奖金", "salary", "payroll", "wage")
# Money that comes back or is borrowed is not income, however regular.
EXCLUDED_WORDS = (
    "贷款",
    "放款",
    "借款",
    "loan",
    "disbursement",
    "退款",
    "退货",
    "退回",
    "冲正",
    "refund",
    "reversal",
    "利息",
    "结息",
    "interest",
    "本人",
    "自转",
    "own account",
    "self transfer",
)
# A payroll run moves by weekends and holidays, rarely by more than a week.
DAY_SPREAD_MAX = 7
# Pay varies with overtime and commission; beyond 35% it is not a steady income.
CV_MAX = 0.35
# A stream that stopped more than this many months ago is a past job, not an income.
CURRENT_MONTHS = 2
VERIFIED_SOURCES = ("income_proof", "bank_statement")


def derive_income(
    transactions: pd.DataFrame, *, as_of: date, currency: str, lookback_months: int = 6, min_months: int = 3
) -> pd.DataFrame:
    """One row per account: the monthly income its statement verifies, with evidence.

    The rule:

    1. The window is the ``lookback_months`` calendar months ending with ``as_of``'s
       month when ``as_of`` is a month end, else with the month before (a salary not
       yet paid in the current month is not a missed month).
    2. Credits count unless their counterparty or description names a loan
       disbursement, refund, reversal or interest, or a transfer from the customer's
       own account (:data:`EXCLUDED_WORDS`, or the counterparty equals
       ``account_holder``). A stream is the credits of one normalised counterparty
       (case, width and punctuation ignored); credits without a counterparty form a
       stream only when described as salary.
    3. Per stream and month: the sum, and the day of the month's largest credit.
       A stream is salary-like when it credits in at least ``min_months`` distinct
       months, in one of the window's last :data:`CURRENT_MONTHS` months, and is
       both on a stable day (spread of those days at most :data:`DAY_SPREAD_MAX`,
       counted from the 1st or from the month end, whichever is tighter) and of a
       stable amount (coefficient of variation of the monthly sums at most
       :data:`CV_MAX`). A description with a salary word (:data:`SALARY_WORDS`)
       strengthens a stream: then one of the two stabilities suffices.
    4. ``income_monthly`` is the median, over months with any salary-like credit, of
       the month's total from all salary-like streams (a bonus month moves a median
       little; a job change keeps one salary a month), rounded half up to the minor
       unit. ``stability`` is the coefficient of variation of those monthly totals.

    Accounts without a salary-like stream get ``income_monthly`` NA and a ``reason``.
    ``currency`` only formats the amounts in ``evidence``.
    """
    _check_input(transactions, lookback_months, min_months)
    window = _window_rows(transactions, pd.Timestamp(as_of), lookback_months)
    streams = _streams(window, min_months)
    accounts = pd.Index(transactions["account_id"].astype("str").unique(), name="account_id").sort_values()
    qualifying = streams[streams["qualifies"]]
    months = (
        window[window["eligible"]]
        .merge(qualifying[["account_id", "key"]], on=["account_id", "key"])
        .groupby(["account_id", "month_index"])["amount"]
        .sum()
    )
    by_account = months.groupby(level="account_id")
    found = by_account.median().reindex(accounts)
    out = pd.DataFrame(index=accounts)
    out["income_monthly"] = np.floor(found.to_numpy(dtype="float64", na_value=np.nan) + 0.5)
    out["income_monthly"] = out["income_monthly"].astype("Int64")
    has_income = out["income_monthly"].notna()
    out["income_verified_on"] = pd.Series(pd.Timestamp(as_of), index=accounts).where(has_income)
    out["income_verified_on"] = out["income_verified_on"].astype("datetime64[ns]")
    out["income_source"] = "bank_statement"
    observed = window[window["in_window"]].groupby("account_id")["month_index"].agg(["min", "max"])
    out["months_observed"] = (observed["max"] - observed["min"] + 1).reindex(accounts).fillna(0).astype("Int64")
    out["months_with_income"] = by_account.size().reindex(accounts).fillna(0).astype("Int64")
    out["stability"] = (by_account.std(ddof=0) / by_account.mean()).reindex(accounts).astype("float64")
    names = qualifying.groupby("account_id")["name"].agg(list).to_dict()
    out["counterparties"] = [names.get(account, []) for account in accounts]
    evidence = _evidence(qualifying, currency, lookback_months)
    out["evidence"] = evidence.reindex(accounts).astype("str").where(has_income, None)
    reasons = _reasons(streams, window, accounts, lookback_months, min_months)
    out["reason"] = reasons.astype("str").where(~has_income, None)
    return out.reset_index()


def merge_income(customers: pd.DataFrame, incomes: pd.DataFrame) -> pd.DataFrame:
    """The customer table with income taken from statements where they may and should.

    Precedence, per account: a statement income is used only when the customer's
    ``consent_income`` is true (no consent, or no consent column: the statement is
    never used and the columns stay as they were), the statement found an income,
    and the customer has no verified income (``income_source`` not
    ``income_proof`` or ``bank_statement``, or no amount or date; a declared income
    is replaced) or the statement's ``income_verified_on`` is strictly newer. On the
    same date an uploaded proof wins.
    """
    duplicated = incomes["account_id"].duplicated()
    if duplicated.any():
        raise SchemaMismatchError(
            [
                Problem("incomes", int(row) + 1, "account_id", "unique: one income row per account", account)
                for row, account in zip(np.flatnonzero(duplicated), incomes.loc[duplicated, "account_id"], strict=True)
            ]
        )
    out = customers.copy()
    if "income_monthly" not in out.columns:
        out["income_monthly"] = pd.array([pd.NA] * len(out), dtype="Int64")
    if "income_verified_on" not in out.columns:
        out["income_verified_on"] = pd.Series(pd.NaT, index=out.index, dtype="datetime64[ns]")
    if "income_source" not in out.columns:
        out["income_source"] = pd.Series(None, index=out.index, dtype="str")
    statement = incomes.set_index("account_id").reindex(out["account_id"])
    statement.index = out.index
    consent = (
        out["consent_income"].astype("boolean").fillna(value=False).astype(bool)
        if "consent_income" in out.columns
        else pd.Series(False, index=out.index)
    )
    verified = (
        out["income_source"].isin(VERIFIED_SOURCES) & out["income_monthly"].notna() & out["income_verified_on"].notna()
    )
    statement_on = pd.to_datetime(statement["income_verified_on"])
    newer = statement_on > pd.to_datetime(out["income_verified_on"])
    use = consent & statement["income_monthly"].notna() & (~verified | newer.fillna(value=False))
    out["income_monthly"] = out["income_monthly"].astype("Int64").mask(use, statement["income_monthly"].astype("Int64"))
    out["income_verified_on"] = (
        pd.to_datetime(out["income_verified_on"])
        .astype("datetime64[ns]")
        .mask(use, statement_on.astype("datetime64[ns]"))
    )
    out["income_source"] = out["income_source"].astype("object").mask(use, "bank_statement")
    return out


def _check_input(transactions: pd.DataFrame, lookback_months: int, min_months: int) -> None:
    missing = [name for name in TRANSACTION_COLUMNS if name not in transactions.columns]
    if missing:
        raise SchemaMismatchError(
            [Problem("transactions", None, name, "a column of the transactions", "missing") for name in missing]
        )
    if not 1 <= lookback_months <= 24:
        raise InputError.for_field(
            "lookback_months_out_of_range",
            where="derive_income",
            field="lookback_months",
            rule="between 1 and 24",
            value=lookback_months,
        )
    if not 1 <= min_months <= lookback_months:
        raise InputError.for_field(
            "min_months_out_of_range",
            where="derive_income",
            field="min_months",
            rule=f"between 1 and lookback_months ({lookback_months})",
            value=min_months,
        )


def _normalise(text: pd.Series) -> pd.Series:
    plain = text.astype("str").where(text.notna(), "").str.normalize("NFKC").str.upper()
    return plain.str.replace(r"[\W_]+", " ", regex=True).str.strip()


def _window_rows(transactions: pd.DataFrame, as_of: pd.Timestamp, lookback_months: int) -> pd.DataFrame:
    """Eligible credits in the window (with ``month_index``, 0 = latest), plus a flag for all rows."""
    frame = pd.DataFrame(
        {
            "account_id": transactions["account_id"].astype("str"),
            "date": pd.to_datetime(transactions["date"]).dt.normalize(),
            "amount": transactions["amount"].astype("Int64"),
        }
    )
    last = as_of if as_of.is_month_end else as_of - pd.offsets.MonthEnd(1)
    frame["month_index"] = (last.year * 12 + last.month) - (frame["date"].dt.year * 12 + frame["date"].dt.month)
    frame["in_window"] = (
        (frame["month_index"] >= 0) & (frame["month_index"] < lookback_months) & (frame["date"] <= as_of)
    )
    counterparty = _normalise(transactions["counterparty"])
    words = counterparty + " " + _normalise(transactions["description"])
    excluded = words.str.contains("|".join(w.upper() for w in EXCLUDED_WORDS), regex=True)
    if "account_holder" in transactions.columns:
        excluded |= (counterparty != "") & (counterparty == _normalise(transactions["account_holder"]))
    frame["salary_word"] = words.str.contains("|".join(w.upper() for w in SALARY_WORDS), regex=True)
    frame["key"] = counterparty
    frame["name"] = transactions["counterparty"].astype("str").where(counterparty != "", "(unnamed payroll)")
    frame["eligible"] = (
        frame["in_window"]
        & (frame["amount"] > 0).fillna(value=False)
        & ~excluded
        & ((counterparty != "") | frame["salary_word"])
    )
    days = frame["date"].dt.day
    frame["day"], frame["day_from_end"] = days, days - frame["date"].dt.days_in_month
    return frame


def _streams(window: pd.DataFrame, min_months: int) -> pd.DataFrame:
    """One row per (account, counterparty stream) with its recurrence and stability."""
    credits = window[window["eligible"]].sort_values("amount", ascending=False, kind="stable")
    monthly = (
        credits.groupby(["account_id", "key", "month_index"], sort=False)
        .agg(
            amount=("amount", "sum"),
            day=("day", "first"),
            day_from_end=("day_from_end", "first"),
            salary_word=("salary_word", "any"),
            name=("name", "first"),
        )
        .reset_index()
    )
    grouped = monthly.groupby(["account_id", "key"], sort=True)
    streams = grouped.agg(
        months=("month_index", "size"),
        latest=("month_index", "min"),
        amount_min=("amount", "min"),
        amount_max=("amount", "max"),
        amount_mean=("amount", "mean"),
        day_median=("day", "median"),
        salary_word=("salary_word", "any"),
        name=("name", "first"),
    ).reset_index()
    spread = grouped["day"].max() - grouped["day"].min()
    spread_from_end = grouped["day_from_end"].max() - grouped["day_from_end"].min()
    streams["month_end"] = (spread_from_end < spread).to_numpy()
    streams["day_spread"] = np.minimum(spread.to_numpy(), spread_from_end.to_numpy())
    streams["cv"] = (grouped["amount"].std(ddof=0) / grouped["amount"].mean()).to_numpy(dtype="float64")
    recurrent = streams["months"] >= min_months
    current = streams["latest"] < CURRENT_MONTHS
    stable_day = streams["day_spread"] <= DAY_SPREAD_MAX
    stable_amount = streams["cv"] <= CV_MAX
    streams["qualifies"] = (
        recurrent & current & ((stable_day & stable_amount) | (streams["salary_word"] & (stable_day | stable_amount)))
    )
    streams["stage"] = 1 + recurrent.astype(int) + (recurrent & current).astype(int) + streams["qualifies"].astype(int)
    return streams


def _money(values: pd.Series, currency: str) -> pd.Series:
    return values.map(lambda amount: format_amount(int(amount), currency)).astype("str")


def _evidence(qualifying: pd.DataFrame, currency: str, lookback_months: int) -> pd.Series:
    if qualifying.empty:
        return pd.Series(dtype="str")
    kind = pd.Series("regular credits", index=qualifying.index, dtype="str").where(~qualifying["salary_word"], "salary")
    day_of_month = qualifying["day_median"].round().astype("int64").astype("str")
    day = ("on about day " + day_of_month).where(~qualifying["month_end"], "near the month end")
    low, high = _money(qualifying["amount_min"], currency), _money(qualifying["amount_max"], currency)
    amounts = low.where(low == high, low + " to " + high)
    text: pd.Series = (
        kind
        + " from "
        + qualifying["name"].astype("str")
        + " "
        + day
        + " in "
        + qualifying["months"].astype("str")
        + f" of {lookback_months} months, "
        + amounts
    )
    joined: pd.Series = text.groupby(qualifying["account_id"]).agg("; ".join)
    return joined


def _reasons(
    streams: pd.DataFrame, window: pd.DataFrame, accounts: pd.Index, lookback_months: int, min_months: int
) -> pd.Series:
    """Why no income was found: the furthest any stream of the account got."""
    last = f"the last {lookback_months} months"
    reason = pd.Series(
        f"no credits in {last} other than loans, refunds, interest or own transfers", index=accounts, dtype="object"
    )
    active = window[window["in_window"]]["account_id"].unique()
    reason[~reason.index.isin(active)] = f"no transactions in {last}"
    best = (
        streams.sort_values(["stage", "months"], ascending=False).drop_duplicates("account_id").set_index("account_id")
    )
    texts = {
        1: f"no counterparty credited in at least {min_months} of {last}",
        2: f"no regular credits in the last {CURRENT_MONTHS} months",
    }
    for stage, text in texts.items():
        reason[best.index[best["stage"] == stage]] = text
    unstable = best[best["stage"] == 3]
    reason[unstable.index] = (
        "credits from "
        + unstable["name"].astype("str")
        + " in "
        + unstable["months"].astype("str")
        + f" of {last} vary in day (spread "
        + unstable["day_spread"].astype("str")
        + f" days, at most {DAY_SPREAD_MAX}) or amount (variation "
        + (unstable["cv"] * 100).round().astype("int64").astype("str")
        + f"%, at most {CV_MAX:.0%})"
    )
    return reason
