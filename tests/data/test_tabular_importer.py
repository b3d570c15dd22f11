from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from linewise.data.importers.tabular import import_tabular, parse_major_amounts
from linewise.errors import InputError, SchemaMismatchError
from linewise.money import format_amount, parse_amount

EXAMPLES = Path(__file__).parents[2] / "examples" / "import"
ACCOUNTS = 2_000

PANEL_NAMES = {
    "account_id": "acct",
    "month": "stmt_month",
    "credit_limit": "limit",
    "balance": "bal",
    "amount_due": "due",
    "amount_paid": "paid",
    "drawn_amount": "drawn",
    "dpd": "dpd_days",
    "on_time": "ok",
}
CUSTOMER_NAMES = {
    "account_id": "acct",
    "customer_id": "cust",
    "opened_on": "opened",
    "consent_income": "c_income",
    "consent_bureau": "c_bureau",
    "consent_assets": "c_assets",
    "sex": "sex",
    "education": "edu",
    "marital_status": "married",
    "age": "age",
}


def _major(values: pd.Series, currency: str) -> pd.Series:
    return values.map(lambda v: "" if pd.isna(v) else format_amount(int(v), currency, grouping=False))


def _write_uci_as_lender_files(uci, directory: Path) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    ids = uci.customers["account_id"].iloc[:ACCOUNTS]
    panel = uci.panel[uci.panel["account_id"].isin(ids)].reset_index(drop=True)
    customers = uci.customers[uci.customers["account_id"].isin(ids)].reset_index(drop=True)
    outcomes = uci.outcomes[uci.outcomes["account_id"].isin(ids)].reset_index(drop=True)
    theirs = panel.copy()
    for column in ("credit_limit", "balance", "amount_due", "amount_paid", "drawn_amount"):
        theirs[column] = _major(panel[column], uci.currency)
    theirs["month"] = panel["month"].dt.strftime("%Y-%m")
    theirs["on_time"] = panel["on_time"].map({True: "Y", False: "N"})
    # shuffled rows: the importer must not depend on the file's order
    theirs.rename(columns=PANEL_NAMES).sample(frac=1, random_state=0).to_csv(directory / "panel.csv", index=False)
    customers.rename(columns=CUSTOMER_NAMES).to_csv(directory / "customers.csv", index=False)
    outcomes[["account_id", "default"]].to_parquet(directory / "outcomes.parquet")
    return panel, customers, outcomes


def _write_mapping(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def _columns(names: dict[str, str]) -> str:
    return "\n".join(f'{ours} = "{theirs}"' for ours, theirs in names.items())


def test_the_uci_portfolio_round_trips_through_lender_files_and_a_mapping(uci, tmp_path):
    panel, customers, outcomes = _write_uci_as_lender_files(uci, tmp_path)
    mapping = _write_mapping(
        tmp_path / "mapping.toml",
        "\n".join(
            [
                f'currency = "{uci.currency}"',
                'amounts_in = "major"',
                "[panel]",
                'file = "panel.csv"',
                "[panel.columns]",
                _columns(PANEL_NAMES),
                "[panel.values.on_time]",
                '"Y" = true',
                '"N" = false',
                "[customers]",
                'file = "customers.csv"',
                "[customers.columns]",
                _columns(CUSTOMER_NAMES),
                "[outcomes]",
                'file = "outcomes.parquet"',
                "[outcomes.columns]",
                'account_id = "account_id"',
                'default = "default"',
                "[outcomes.constants]",
                "as_of = 2005-09-30",
                "horizon_months = 1",
            ]
        ),
    )

    imported = import_tabular(mapping)

    assert imported.currency == uci.currency
    assert imported.source == "mapping"
    pd.testing.assert_frame_equal(imported.panel, panel)
    pd.testing.assert_frame_equal(imported.customers, customers)
    assert imported.outcomes is not None
    pd.testing.assert_frame_equal(imported.outcomes, outcomes, check_like=True)


def test_the_bundled_example_mapping_imports():
    portfolio = import_tabular(EXAMPLES / "mapping.toml")
    assert portfolio.n_accounts == 3
    first = portfolio.panel.iloc[0]
    assert first["month"] == pd.Timestamp("2025-01-31")
    assert first["balance"] == 520050
    assert portfolio.customers.set_index("account_id").loc["L001", "income_source"] == "income_proof"


BAD_MAPPING = """\
currency = "CNY"
amounts_in = "major"
date_fromat = "%Y-%m-%d"
[panel]
file = "panel.csv"
[panel.columns]
account_id = "acct"
month = "month"
credit_limit = "limit"
balance = "bal"
amount_due = "due"
amount_paid = "paid"
drawn_amount = "drawn"
dpd = "dpd_days"
on_time = "ok"
acount_type = "kind"
[customers]
file = "customers.csv"
valuse = {}
[customers.columns]
account_id = "acct"
customer_id = "cust"
opened_on = "opened"
"""

BAD_PANEL = """\
acct,month,limit,bal,due,paid,drawn,dpd_days,kind
A1,2025-01,1000.00,10.00,,,10.00,0,card
A1,2025-02,1000.00,12.345,1.00,1.00,2.00,0,card
A1,2025-03,1000.00,12.00,1.00,1.00,0.00,-5,card
"""


def _problems(mapping: Path) -> set[tuple[str, int | None, str, object]]:
    with pytest.raises(SchemaMismatchError) as caught:
        import_tabular(mapping)
    return {(Path(p.source).name, p.row, p.column, p.value) for p in caught.value.problems}


def test_every_problem_of_the_mapping_and_the_files_is_listed_at_once(tmp_path):
    (tmp_path / "panel.csv").write_text(BAD_PANEL, encoding="utf-8")
    (tmp_path / "customers.csv").write_text("acct,cust\nA1,C1\n", encoding="utf-8")
    mapping = _write_mapping(tmp_path / "lender.toml", BAD_MAPPING)

    problems = _problems(mapping)

    assert problems == {
        ("lender.toml", None, "the mapping", "date_fromat"),  # typo in a key
        ("lender.toml", None, "customers", "valuse"),  # typo in a table's key
        ("lender.toml", None, "panel.columns", "acount_type"),  # unknown linewise column
        ("panel.csv", None, "ok", "missing"),  # their column is absent
        ("customers.csv", None, "opened", "missing"),
        ("panel.csv", 2, "bal (balance)", "12.345"),  # more decimals than CNY has
        ("panel.csv", 3, "dpd_days (dpd)", "-5"),  # negative dpd
    }


def test_problem_messages_name_the_place_the_rule_and_the_value(tmp_path):
    (tmp_path / "panel.csv").write_text(BAD_PANEL, encoding="utf-8")
    (tmp_path / "customers.csv").write_text("acct,cust,opened\nA1,C1,\n", encoding="utf-8")
    mapping = _write_mapping(tmp_path / "lender.toml", BAD_MAPPING)
    with pytest.raises(SchemaMismatchError) as caught:
        import_tabular(mapping)
    message = str(caught.value)
    assert "panel.csv:2: bal (balance) must be given with at most 2 decimals for CNY; got '12.345'" in message
    assert "panel.csv:3: dpd_days (dpd) must be at least 0; got '-5'" in message
    assert "lender.toml: panel.columns must be a column of the panel table" in message
    assert "lender.toml: the mapping must be keys among [" in message


def _good_mapping(tmp_path: Path, panel_csv: str, customers_csv: str = "acct,cust,opened\nA1,C1,\n") -> Path:
    (tmp_path / "panel.csv").write_text(panel_csv, encoding="utf-8")
    (tmp_path / "customers.csv").write_text(customers_csv, encoding="utf-8")
    text = BAD_MAPPING.replace('date_fromat = "%Y-%m-%d"\n', "").replace('acount_type = "kind"\n', "")
    text = text.replace("valuse = {}\n", "").replace('on_time = "ok"\n', "")
    return _write_mapping(tmp_path / "lender.toml", text + '[panel.constants]\non_time = ""\n')


def test_a_month_gap_is_named_with_its_file_row_and_value(tmp_path):
    panel = BAD_PANEL.replace("12.345", "12.34").replace(",-5,", ",0,")
    panel = panel.replace("A1,2025-02", "A1,2024-12")
    problems = _problems(_good_mapping(tmp_path, panel))
    # rows: 2025-01, 2024-12, 2025-03: the gap is before March, the file's row 3
    assert problems == {("panel.csv", 3, "month", "2025-03")}


def test_a_clean_file_with_an_unmapped_extra_column_imports(tmp_path):
    panel = BAD_PANEL.replace("12.345", "12.34").replace(",-5,", ",0,")
    portfolio = import_tabular(_good_mapping(tmp_path, panel))
    assert portfolio.panel["balance"].tolist() == [1000, 1234, 1200]
    assert "kind" not in portfolio.panel.columns


def test_panel_accounts_missing_from_the_customer_file_are_refused(tmp_path):
    panel = BAD_PANEL.replace("12.345", "12.34").replace(",-5,", ",0,")
    problems = _problems(_good_mapping(tmp_path, panel, "acct,cust,opened\nB9,C1,\n"))
    assert [(source, column) for source, _, column, _ in problems] == [("panel.csv", "acct (account_id)")]


def test_a_code_outside_the_value_map_is_a_problem(tmp_path):
    panel = BAD_PANEL.replace("12.345", "12.34").replace(",-5,", ",0,").replace(",card", ",")
    panel = panel.replace("kind", "ok").replace(
        "2025-02,1000.00,12.34,1.00,1.00,2.00,0,", "2025-02,1000.00,12.34,1.00,1.00,2.00,0,maybe"
    )
    mapping = _good_mapping(tmp_path, panel)
    text = mapping.read_text(encoding="utf-8").replace('[panel.constants]\non_time = ""\n', "")
    mapping.write_text(
        text.replace('dpd = "dpd_days"\n', 'dpd = "dpd_days"\non_time = "ok"\n')
        + '[panel.values.on_time]\n"Y" = true\n"N" = false\n',
        encoding="utf-8",
    )
    assert _problems(mapping) == {("panel.csv", 2, "ok (on_time)", "maybe")}


def test_a_mapping_that_is_not_toml_is_an_input_error(tmp_path):
    mapping = _write_mapping(tmp_path / "m.toml", "currency = \n")
    with pytest.raises(InputError, match="must be valid TOML"):
        import_tabular(mapping)


def test_a_missing_data_file_is_listed_with_the_mapping_key(tmp_path):
    mapping = _write_mapping(tmp_path / "m.toml", BAD_MAPPING)
    with pytest.raises(SchemaMismatchError) as caught:
        import_tabular(mapping)
    missing = [p for p in caught.value.problems if p.column in ("panel.file", "customers.file")]
    assert len(missing) == 2
    assert "panel.csv" in str(missing[0].value)


@given(st.integers(min_value=-(10**15), max_value=10**15))
def test_major_amounts_convert_exactly_as_parse_amount_does(minor):
    text = format_amount(minor, "CNY", grouping=False)
    parsed = parse_major_amounts(pd.Series([text], dtype="str"), "CNY")
    assert parsed.minor.iloc[0] == minor
    if minor > 0:
        assert parse_amount(text, "CNY") == minor


def test_major_amount_edge_cases():
    texts = pd.Series(
        [
            "1",
            "1.",
            ".5",
            "-0.50",
            "+2.10",
            "1,234.5",
            "12.340",
            "12.345",
            "1e5",
            "abc",
            "-",
            "",
            None,
            "123456789012345678",
        ],
        dtype="str",
    )
    parsed = parse_major_amounts(texts, "CNY")
    assert parsed.minor.iloc[:7].tolist() == [100, 100, 50, -50, 210, 123450, 1234]
    assert parsed.too_many_decimals.tolist() == [False] * 7 + [True] + [False] * 6
    assert parsed.not_a_number.tolist() == [False] * 8 + [True, True, True, False, False, True]
    assert parsed.minor.iloc[7:].isna().all()
