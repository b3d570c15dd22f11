"""Events that call for a decision: arrears cleared by a repayment, a freshly verified income."""

from __future__ import annotations

import pandas as pd

from linewise.features.events import arrears_cleared, income_verified_in


def _panel(rows: list[tuple[str, str, int]]) -> pd.DataFrame:
    return pd.DataFrame(
        {"account_id": [r[0] for r in rows], "month": pd.to_datetime([r[1] for r in rows]), "dpd": [r[2] for r in rows]}
    )


def test_only_accounts_overdue_last_month_end_and_current_now_cleared_their_arrears():
    panel = _panel(
        [
            ("cleared", "2026-01-31", 12),
            ("cleared", "2026-02-28", 0),
            ("still_late", "2026-01-31", 12),
            ("still_late", "2026-02-28", 40),
            ("never_late", "2026-01-31", 0),
            ("never_late", "2026-02-28", 0),
            ("late_now", "2026-01-31", 0),
            ("late_now", "2026-02-28", 5),
            ("new", "2026-02-28", 0),
            ("cleared_later", "2026-02-28", 9),
            ("cleared_later", "2026-03-31", 0),
        ]
    )
    assert list(arrears_cleared(panel, pd.Timestamp("2026-02-28"))) == ["cleared"]
    # Mid-month, the as-of month is the last whole one.
    assert list(arrears_cleared(panel, pd.Timestamp("2026-03-15"))) == ["cleared"]
    assert list(arrears_cleared(panel, pd.Timestamp("2026-03-31"))) == ["cleared_later"]


def test_an_income_verified_in_the_as_of_month_by_proof_or_statement_calls_a_decision():
    customers = pd.DataFrame(
        {
            "account_id": ["proof", "statement", "declared", "last_month", "next_month", "never"],
            "income_verified_on": pd.to_datetime(
                ["2026-02-10", "2026-02-28", "2026-02-10", "2026-01-31", "2026-03-01", None]
            ),
            "income_source": ["income_proof", "bank_statement", "declared", "income_proof", "income_proof", None],
        }
    )
    assert list(income_verified_in(customers, pd.Timestamp("2026-02-28"))) == ["proof", "statement"]
    assert list(income_verified_in(customers.drop(columns="income_verified_on"), pd.Timestamp("2026-02-28"))) == []
