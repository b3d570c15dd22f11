"""Hypothesis strategies for feature tests: small, valid portfolios of any shape.

A few accounts, each with its own months on book (some longer than the 12-month
window, some a single month), rows ending in different months (closed lines), no
month gaps, and every panel and customer column drawn over its whole valid range:
zero limits, balances in the customer's favour, missing amounts due and ``on_time``,
dpd without ``on_time``, income verified before or after the as-of date, any mix
of consents.
"""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd
from hypothesis import strategies as st

from linewise.data import Portfolio

LAST_MONTH = pd.Timestamp("2025-12-31")
# Longer than the 12-month window, so its edge is crossed.
MONTHS_ON_BOOK_MAX = 15
INCOME_SOURCES = (None, "income_proof", "bank_statement", "declared")

_optional_amounts = st.one_of(st.none(), st.just(0), st.integers(1, 2_000_000))
_limits = st.one_of(st.just(0), st.integers(1, 5_000_000))
_balances = st.one_of(st.just(0), st.integers(-200_000, -1), st.integers(1, 12_000_000))
_dpds = st.one_of(st.just(0), st.integers(1, 200), st.integers(201, 3650))


def month_end(month: pd.Timestamp, back: int) -> pd.Timestamp:
    """The month end ``back`` months before ``month``."""
    return month - pd.offsets.MonthEnd(back) if back else month


@st.composite
def panel_rows(
    draw, account_id: str, months: list[pd.Timestamp], *, payments_may_be_missing: bool = False
) -> list[dict]:
    """One account's rows for ``months``: every column over its valid range."""
    paid = _optional_amounts if payments_may_be_missing else st.one_of(st.just(0), st.integers(1, 2_000_000))
    return [
        {
            "account_id": account_id,
            "month": month,
            "credit_limit": draw(_limits),
            "balance": draw(_balances),
            "amount_due": draw(_optional_amounts),
            "amount_paid": draw(paid),
            "drawn_amount": draw(_optional_amounts),
            "dpd": draw(_dpds),
            "on_time": draw(st.sampled_from([True, False, None])),
        }
        for month in months
    ]


def _dates_around(first: pd.Timestamp) -> st.SearchStrategy[date]:
    """Any day, or often a month end near the as-of dates (the boundary of "known by then")."""
    month_ends = st.integers(-1, 5).map(
        lambda back: month_end(LAST_MONTH, back).date() if back >= 0 else (LAST_MONTH + pd.offsets.MonthEnd(1)).date()
    )
    return st.one_of(
        month_ends,
        st.dates(min_value=(first - pd.DateOffset(years=3)).date(), max_value=(LAST_MONTH + timedelta(days=60)).date()),
    )


@st.composite
def customer_row(draw, account_id: str, first_month: pd.Timestamp) -> dict:
    """The customer row of one account: opening date, income, assets, bureau, consents."""
    opened_on = draw(
        st.one_of(
            st.none(), st.dates(min_value=(first_month - pd.DateOffset(years=10)).date(), max_value=first_month.date())
        )
    )
    return {
        "account_id": account_id,
        "customer_id": f"C{account_id}",
        "opened_on": opened_on,
        "income_monthly": draw(_optional_amounts),
        "income_verified_on": draw(st.one_of(st.none(), _dates_around(first_month))),
        "income_source": draw(st.sampled_from(INCOME_SOURCES)),
        "assets": draw(_optional_amounts),
        "bureau_enquiries_6m": draw(st.one_of(st.none(), st.integers(0, 1000))),
        "external_debt": draw(_optional_amounts),
        "external_dpd_max_12m": draw(st.one_of(st.none(), st.integers(0, 3650))),
        "bureau_score": draw(st.one_of(st.none(), st.floats(0, 1000, allow_nan=False))),
        "consent_income": draw(st.booleans()),
        "consent_bureau": draw(st.booleans()),
        "consent_assets": draw(st.booleans()),
    }


@st.composite
def portfolio_tables(
    draw, *, max_accounts: int = 4, payments_may_be_missing: bool = False
) -> tuple[list[dict], list[dict]]:
    """Panel rows and customer rows of 1..``max_accounts`` accounts ending by :data:`LAST_MONTH`."""
    rows: list[dict] = []
    customers: list[dict] = []
    for number in range(draw(st.integers(1, max_accounts))):
        account_id = f"A{number}"
        closed_months_ago = draw(st.sampled_from([0, 0, 0, 1, 3]))
        on_book = draw(st.integers(1, MONTHS_ON_BOOK_MAX))
        last = month_end(LAST_MONTH, closed_months_ago)
        months = [month_end(last, back) for back in reversed(range(on_book))]
        rows += draw(panel_rows(account_id, months, payments_may_be_missing=payments_may_be_missing))
        customers.append(draw(customer_row(account_id, months[0])))
    return rows, customers


def portfolios(*, max_accounts: int = 4, payments_may_be_missing: bool = False) -> st.SearchStrategy[Portfolio]:
    """Portfolios of :func:`portfolio_tables`.

    Their tables are built directly in the canonical types ``Portfolio.from_frames``
    returns (validating every example would take most of the tests' time);
    ``test_generated_tables_are_what_validation_returns`` holds the two together.
    """
    return portfolio_tables(max_accounts=max_accounts, payments_may_be_missing=payments_may_be_missing).map(
        lambda tables: canonical_portfolio(*tables)
    )


def build_portfolio(rows: list[dict], customers: list[dict]) -> Portfolio:
    """Validated tables from plain rows (missing values as None)."""
    panel = pd.DataFrame(rows).astype({"on_time": "boolean"})
    return Portfolio.from_frames(panel, pd.DataFrame(customers), currency="CNY", source="test")


_PANEL_TYPES = {
    "account_id": "str",
    "month": "datetime64[ns]",
    "credit_limit": "Int64",
    "balance": "Int64",
    "amount_due": "Int64",
    "amount_paid": "Int64",
    "drawn_amount": "Int64",
    "dpd": "Int64",
    "on_time": "boolean",
}
_CUSTOMER_TYPES = {
    "account_id": "str",
    "customer_id": "str",
    "opened_on": "datetime64[ns]",
    "income_monthly": "Int64",
    "income_verified_on": "datetime64[ns]",
    "income_source": "str",
    "assets": "Int64",
    "bureau_enquiries_6m": "Int64",
    "external_debt": "Int64",
    "external_dpd_max_12m": "Int64",
    "bureau_score": "float64",
    "consent_income": "boolean",
    "consent_bureau": "boolean",
    "consent_assets": "boolean",
}


def canonical_portfolio(rows: list[dict], customers: list[dict]) -> Portfolio:
    """The portfolio ``build_portfolio`` would return, without validating it."""
    panel = pd.DataFrame(rows, columns=list(_PANEL_TYPES)).astype(_PANEL_TYPES)
    table = pd.DataFrame(customers, columns=list(_CUSTOMER_TYPES))
    for name in ("opened_on", "income_verified_on"):
        table[name] = pd.to_datetime(table[name].astype("object"))
    table = table.astype(_CUSTOMER_TYPES)
    return Portfolio(
        panel=panel.sort_values(["account_id", "month"], ignore_index=True),
        customers=table.sort_values("account_id", ignore_index=True),
        outcomes=None,
        currency="CNY",
        source="test",
    )


def as_of_dates() -> st.SearchStrategy[date]:
    """As-of dates from a few months before the last month to just after it: month ends or any day."""
    month_ends = st.integers(0, 4).map(lambda back: month_end(LAST_MONTH, back).date())
    return st.one_of(
        month_ends,
        st.dates(
            min_value=(LAST_MONTH - pd.DateOffset(months=4)).date(), max_value=(LAST_MONTH + timedelta(days=20)).date()
        ),
    )
