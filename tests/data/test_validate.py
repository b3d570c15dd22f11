from __future__ import annotations

import pandas as pd
import pytest

from linewise.data import CUSTOMER_SCHEMA, PANEL_SCHEMA, Portfolio, validate_table
from linewise.errors import SchemaMismatchError


def _panel(rows: int = 3) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "account_id": ["A1"] * rows,
            "month": [str(m.date()) for m in pd.date_range("2025-01-31", periods=rows, freq="ME")],
            "credit_limit": ["1000000"] * rows,
            "balance": ["2500"] * rows,
            "amount_due": ["100"] * rows,
            "amount_paid": ["100"] * rows,
            "drawn_amount": ["0"] * rows,
            "dpd": ["0"] * rows,
            "on_time": ["true"] * rows,
        }
    )


def _problems(frame: pd.DataFrame, schema=PANEL_SCHEMA) -> list[tuple[int | None, str, str]]:
    with pytest.raises(SchemaMismatchError) as caught:
        validate_table(frame, schema, "panel.csv")
    return [(p.row, p.column, p.rule) for p in caught.value.problems]


def test_a_valid_panel_comes_back_in_canonical_types():
    out = validate_table(_panel(), PANEL_SCHEMA, "panel.csv")
    assert str(out["credit_limit"].dtype) == "Int64"
    assert out["month"].dtype == "datetime64[ns]"
    assert out["on_time"].tolist() == [True, True, True]


def test_every_problem_is_listed_with_row_column_and_value():
    frame = _panel(4)
    frame.loc[0, "dpd"] = "-5"
    frame.loc[1, "balance"] = "12.5"
    frame.loc[2, "on_time"] = "maybe"
    frame.loc[3, "credit_limit"] = "lots"
    with pytest.raises(SchemaMismatchError) as caught:
        validate_table(frame, PANEL_SCHEMA, "panel.csv")
    found = {(p.row, p.column, p.value) for p in caught.value.problems}
    assert found == {(1, "dpd", "-5"), (2, "balance", "12.5"), (3, "on_time", "maybe"), (4, "credit_limit", "lots")}
    assert "panel.csv:1: dpd must be at least 0; got '-5'" in str(caught.value)


def test_a_missing_column_is_named():
    problems = _problems(_panel().drop(columns=["amount_due", "dpd"]))
    assert (None, "amount_due", "a column of the panel table") in problems
    assert (None, "dpd", "a column of the panel table") in problems


def test_a_month_that_is_not_a_month_end_is_refused():
    frame = _panel()
    frame.loc[1, "month"] = "2025-02-15"
    assert (2, "month", "a month end (e.g. 2005-09-30)") in _problems(frame)


def test_duplicate_account_months_are_refused():
    frame = pd.concat([_panel(), _panel().iloc[[1]]], ignore_index=True)
    assert (4, "account_id, month", "unique: one panel row per (account_id, month)") in _problems(frame)


def test_a_month_gap_is_refused():
    frame = _panel(3).drop(index=1)
    problems = _problems(frame)
    assert [(row, column) for row, column, _ in problems] == [(2, "month")]


def test_customers_need_ids_but_may_lack_an_opening_date():
    customers = pd.DataFrame(
        {"account_id": ["A1", None], "customer_id": ["C1", "C2"], "opened_on": [None, "2024-03-01"]}
    )
    problems = _problems(customers, CUSTOMER_SCHEMA)
    assert problems == [(2, "account_id", "present (not empty)")]


def test_a_portfolio_refuses_panel_accounts_missing_from_the_customer_table():
    customers = pd.DataFrame({"account_id": ["B9"], "customer_id": ["C1"], "opened_on": [None]})
    with pytest.raises(SchemaMismatchError, match="an account of the customer table"):
        Portfolio.from_frames(_panel(), customers, currency="CNY", source="mine")
