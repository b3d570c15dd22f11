from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from statistics import median

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.strategies import scaled

from linewise.data.importers.bank_statement import read_statements
from linewise.data.income import derive_income, merge_income
from linewise.errors import InputError, SchemaMismatchError

AS_OF = date(2025, 6, 30)
MONTHS = [1, 2, 3, 4, 5, 6]  # the six months before AS_OF
EXAMPLES = Path(__file__).parents[2] / "examples" / "import"
COLUMNS = ["account_id", "date", "amount", "counterparty", "description", "account_holder"]


def _frame(rows: list[tuple]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=COLUMNS)
    frame["date"] = pd.to_datetime(frame["date"])
    frame["amount"] = frame["amount"].astype("Int64")
    return frame


def _income(rows: list[tuple], **kwargs) -> pd.Series:
    frame = derive_income(_frame(rows), as_of=AS_OF, currency="CNY", **kwargs)
    return frame.set_index("account_id").loc["A1"]


def _salary(amounts: list[int], days: list[int], *, payer="ACME LTD", text="SALARY") -> list[tuple]:
    return [
        ("A1", date(2025, month, day), amount, payer, text, "LI LEI")
        for month, day, amount in zip(MONTHS, days, amounts, strict=True)
        if amount
    ]


noise_row = st.tuples(
    st.sampled_from(MONTHS), st.integers(1, 28), st.integers(-5_000_000, 5_000_000).filter(lambda a: a != 0)
)


def _noise(rows: list[tuple[int, int, int]]) -> list[tuple]:
    # Every noise counterparty is used once: one-offs are never income.
    out = [
        ("A1", date(2025, month, day), amount, f"SHOP {i}", "purchase", "LI LEI")
        for i, (month, day, amount) in enumerate(rows)
    ]
    for month in MONTHS:  # regular, stable, and still never income
        out.append(("A1", date(2025, month, 5), 3_000_000, "SOME BANK", "贷款发放", "LI LEI"))
        out.append(("A1", date(2025, month, 20), 500_000, "Li  Lei", "transfer", "LI LEI"))
        out.append(("A1", date(2025, month, 12), 9_900, "ACME LTD", "refund", "LI LEI"))
    return out


def _half_up(value: float) -> int:
    return int(Decimal(str(value)).quantize(Decimal(1), rounding=ROUND_HALF_UP))


salary_case = st.integers(100_000, 5_000_000).flatmap(
    lambda base: st.tuples(
        st.lists(st.integers(base * 9 // 10, base * 11 // 10), min_size=6, max_size=6),
        st.integers(1, 24),
        st.lists(st.integers(0, 4), min_size=6, max_size=6),
    )
)


@settings(max_examples=scaled(25), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(salary_case, st.lists(noise_row, max_size=30))
def test_a_salary_among_noise_is_recovered_exactly_as_the_median(case, noise):
    amounts, pay_day, jitter = case
    days = [pay_day + j for j in jitter]
    found = _income(_salary(amounts, days, text="payroll") + _noise(noise))
    assert found["income_monthly"] == _half_up(median(amounts))
    assert found["counterparties"] == ["ACME LTD"]
    assert found["months_with_income"] == 6
    assert "ACME LTD" in found["evidence"]

    without_salary = _income(_noise(noise))
    assert pd.isna(without_salary["income_monthly"])
    assert without_salary["reason"]

    scattered = [1, 25, 3, 27, 2, 26]  # no salary word and no stable day: not salary-like
    irregular = _income(_salary(amounts, scattered, text="transfer") + _noise(noise))
    assert pd.isna(irregular["income_monthly"])


def test_evidence_names_the_employer_the_day_the_months_and_the_range():
    found = _income(_salary([800_000, 800_000, 835_000, 800_000, 800_000, 800_000], [10] * 6))
    assert found["evidence"] == "salary from ACME LTD on about day 10 in 6 of 6 months, 8,000.00 to 8,350.00"
    assert found["income_verified_on"] == pd.Timestamp(AS_OF)
    assert found["income_source"] == "bank_statement"
    assert pd.isna(found["reason"])


def test_a_bonus_month_does_not_move_the_median():
    found = _income(_salary([800_000] * 5 + [2_400_000], [10] * 6, text="工资"))
    assert found["income_monthly"] == 800_000


def test_pay_on_the_last_day_of_each_month_is_a_stable_day():
    days = [31, 28, 31, 30, 30, 30]  # last day, moved earlier in May for a weekend
    found = _income(_salary([500_000] * 6, days, text="transfer"))
    assert found["income_monthly"] == 500_000
    assert "near the month end" in found["evidence"]


def test_loan_disbursements_and_own_transfers_are_never_income():
    rows = _noise([])
    found = _income(rows)
    assert pd.isna(found["income_monthly"])
    assert found["reason"] == "no credits in the last 6 months other than loans, refunds, interest or own transfers"


def test_fewer_months_than_required_is_not_income_and_says_why():
    found = _income(_salary([800_000, 0, 0, 0, 0, 800_000], [10] * 6))
    assert pd.isna(found["income_monthly"])
    assert found["reason"] == "no counterparty credited in at least 3 of the last 6 months"
    assert _income(_salary([800_000, 0, 0, 0, 0, 800_000], [10] * 6), min_months=2)["income_monthly"] == 800_000


def test_a_salary_that_stopped_is_not_a_current_income():
    found = _income(_salary([800_000] * 3 + [0, 0, 0], [10] * 6))
    assert pd.isna(found["income_monthly"])
    assert found["reason"] == "no regular credits in the last 2 months"


def test_a_mid_month_as_of_ignores_the_unfinished_month():
    rows = _salary([800_000] * 6, [25] * 6)
    frame = derive_income(_frame(rows), as_of=date(2025, 6, 20), currency="CNY")
    assert frame.loc[0, "months_with_income"] == 5
    assert frame.loc[0, "income_monthly"] == 800_000


def test_bad_parameters_are_refused():
    with pytest.raises(InputError, match="min_months must be between 1 and lookback_months"):
        derive_income(_frame(_salary([1] * 6, [1] * 6)), as_of=AS_OF, currency="CNY", min_months=7)


def _customers() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "account_id": ["A1", "A2", "A3", "A4", "A5"],
            "customer_id": ["C1", "C2", "C3", "C4", "C5"],
            "income_monthly": pd.array([None, 500_000, 700_000, 600_000, 900_000], dtype="Int64"),
            "income_verified_on": pd.to_datetime([None, "2025-01-31", "2025-06-30", None, "2024-01-31"]),
            "income_source": [None, "income_proof", "income_proof", "declared", "income_proof"],
            "consent_income": pd.array([True, True, True, True, False], dtype="boolean"),
        }
    )


def test_statement_income_is_merged_by_consent_and_recency():
    rows = [
        (account, date(2025, month, 10), 800_000, "ACME", "工资", "X")
        for account in ("A1", "A2", "A3", "A4", "A5")
        for month in MONTHS
    ]
    incomes = derive_income(_frame(rows), as_of=AS_OF, currency="CNY")
    merged = merge_income(_customers(), incomes).set_index("account_id")
    assert merged.loc["A1", "income_monthly"] == 800_000  # no income before
    assert merged.loc["A2", "income_monthly"] == 800_000  # the statement is newer
    assert merged.loc["A3", "income_monthly"] == 700_000  # a proof of the same date wins
    assert merged.loc["A4", "income_monthly"] == 800_000  # declared is not verified
    assert merged.loc["A5", "income_monthly"] == 900_000  # no consent: never used
    assert merged.loc["A5", "income_source"] == "income_proof"
    assert merged.loc["A1", "income_source"] == "bank_statement"
    assert merged.loc["A1", "income_verified_on"] == pd.Timestamp(AS_OF)


def test_without_consent_the_statement_is_never_merged():
    customers = pd.DataFrame({"account_id": ["A1"], "customer_id": ["C1"], "consent_income": [False]})
    incomes = derive_income(_frame(_salary([800_000] * 6, [10] * 6)), as_of=AS_OF, currency="CNY")
    merged = merge_income(customers, incomes)
    assert merged["income_monthly"].isna().all()
    no_column = merge_income(customers.drop(columns="consent_income"), incomes)
    assert no_column["income_monthly"].isna().all()


def test_the_example_statement_reads_and_verifies_one_salary():
    transactions = read_statements(EXAMPLES / "statement.csv", currency="CNY")
    assert transactions["amount"].dtype == "Int64"
    incomes = derive_income(transactions, as_of=AS_OF, currency="CNY").set_index("account_id")
    assert incomes.loc["L001", "income_monthly"] == 1_250_000
    assert incomes.loc[["L002", "L003"], "income_monthly"].isna().all()


def test_every_problem_of_a_statement_file_is_listed(tmp_path):
    path = tmp_path / "statement.csv"
    path.write_text(
        "account_id,date,amount,counterparty,description\n"
        "A1,2025-01-10,8000.00,ACME,工资\n"
        ",2025-02-10,8000.001,ACME,工资\n"
        "A1,10/03/2025,abc,ACME,工资\n",
        encoding="utf-8",
    )
    with pytest.raises(SchemaMismatchError) as caught:
        read_statements(path, currency="CNY")
    found = {(p.row, p.column, p.value) for p in caught.value.problems}
    assert found == {
        (2, "account_id", None),
        (2, "amount", "8000.001"),
        (3, "date", "10/03/2025"),
        (3, "amount", "abc"),
    }


def test_a_statement_without_a_required_column_is_refused(tmp_path):
    path = tmp_path / "statement.csv"
    path.write_text("account_id,date,amount\nA1,2025-01-10,1.00\n", encoding="utf-8")
    with pytest.raises(SchemaMismatchError, match="counterparty must be a column"):
        read_statements(path, currency="CNY")
