"""`linewise customer ...`: record what the ledger does not hold, refuse bad values writing nothing."""

from __future__ import annotations

import json

import pytest
from tests.ledger.common import snapshot

ON = "2026-02-01"


@pytest.fixture
def ledger(line, monkeypatch):
    """The ledger fixture's lines (A1 of C1, B1 of C2), the customer commands on its database."""
    monkeypatch.setattr("linewise.cli.customer.engine", lambda check_schema=True: line.engine)
    return line


def _json(result):
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_recorded_income_bureau_assets_and_consent_are_shown_as_of_their_dates(ledger):
    income = _json(
        ledger(
            "customer",
            "income",
            "--customer",
            "C1",
            "--amount",
            "12000.00",
            "--source",
            "income_proof",
            "--evidence",
            "payslip-2026-01",
            "--on",
            ON,
            "--json",
        )
    )
    assert income["income_monthly"] == 1_200_000 and income["currency"] == "CNY"
    for args in (
        [
            "bureau",
            "--customer",
            "C1",
            "--enquiries-6m",
            "2",
            "--external-debt",
            "5000",
            "--external-dpd-max-12m",
            "0",
            "--bureau-score",
            "650",
            "--on",
            ON,
        ],
        ["assets", "--customer", "C1", "--amount", "80000.00", "--evidence", "deed:42", "--on", ON],
        ["consent", "--customer", "C1", "--source", "income", "--grant", "--on", ON],
        ["consent", "--customer", "C1", "--source", "bureau", "--grant", "--on", ON],
        ["consent", "--customer", "C1", "--source", "bureau", "--revoke", "--on", "2026-03-01"],
    ):
        assert ledger("customer", *args).exit_code == 0

    before = _json(ledger("customer", "show", "--customer", "C1", "--as-of", "2026-01-31", "--json"))
    [row] = before["lines"]
    assert row["account_id"] == "A1" and row["income_monthly"] is None and row["consent_income"] is False

    [row] = _json(ledger("customer", "show", "--customer", "C1", "--as-of", "2026-02-15", "--json"))["lines"]
    assert row["income_monthly"] == 1_200_000 and row["income_source"] == "income_proof"
    assert row["income_verified_on"] == ON and row["assets"] == 8_000_000
    assert row["bureau_score"] == 650 and row["external_debt"] == 500_000
    assert row["consent_income"] is True and row["consent_bureau"] is True and row["consent_assets"] is False

    [row] = _json(ledger("customer", "show", "--customer", "C1", "--as-of", "2026-03-15", "--json"))["lines"]
    assert row["consent_bureau"] is False  # revoked, the report is still there for when it is granted again

    shown = ledger("customer", "show", "--customer", "C1", "--as-of", "2026-02-15")
    assert shown.exit_code == 0 and "income_proof" in shown.stdout


def test_a_later_record_replaces_an_earlier_one_from_its_date_on(ledger):
    for amount, on in (("9000.00", "2026-01-20"), ("11000.00", "2026-03-01")):
        assert (
            ledger(
                "customer",
                "income",
                "--customer",
                "C1",
                "--amount",
                amount,
                "--source",
                "bank_statement",
                "--evidence",
                "stmt",
                "--on",
                on,
            ).exit_code
            == 0
        )
    for as_of, expected in (("2026-02-28", 900_000), ("2026-03-01", 1_100_000)):
        [row] = _json(ledger("customer", "show", "--customer", "C1", "--as-of", as_of, "--json"))["lines"]
        assert row["income_monthly"] == expected


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (
            ["income", "--customer", "C9", "--amount", "1.00", "--source", "income_proof", "--evidence", "x"],
            "customer_not_found",
        ),
        (
            ["income", "--customer", "C1", "--amount", "1.00", "--source", "payslip", "--evidence", "x"],
            "income_source_unknown",
        ),
        (
            ["income", "--customer", "C1", "--amount", "1.001", "--source", "declared", "--evidence", "x"],
            "amount_has_too_many_decimals",
        ),
        (
            [
                "income",
                "--customer",
                "C1",
                "--amount",
                "99999999999999999.00",
                "--source",
                "declared",
                "--evidence",
                "x",
            ],
            "amount_too_large",
        ),
        (
            ["income", "--customer", "C1", "--amount", "1.00", "--source", "declared", "--evidence", "a b"],
            "evidence_malformed",
        ),
        (
            [
                "income",
                "--customer",
                "C1",
                "--amount",
                "1.00",
                "--source",
                "declared",
                "--evidence",
                "x",
                "--on",
                "2199-01-01",
            ],
            "date_after_today",
        ),
        (
            [
                "income",
                "--customer",
                "C1",
                "--amount",
                "1.00",
                "--source",
                "declared",
                "--evidence",
                "x",
                "--currency",
                "USD",
            ],
            "currency_mismatch",
        ),
        (
            [
                "bureau",
                "--customer",
                "C1",
                "--enquiries-6m",
                "1001",
                "--external-debt",
                "0",
                "--external-dpd-max-12m",
                "0",
            ],
            "number_out_of_range",
        ),
        (
            [
                "bureau",
                "--customer",
                "C1",
                "--enquiries-6m",
                "1",
                "--external-debt",
                "0",
                "--external-dpd-max-12m",
                "0",
                "--bureau-score",
                "nan",
            ],
            "number_out_of_range",
        ),
        (
            [
                "bureau",
                "--customer",
                "C1",
                "--enquiries-6m",
                "1",
                "--external-debt",
                "-5",
                "--external-dpd-max-12m",
                "0",
            ],
            "amount_must_be_positive",
        ),
        (["assets", "--customer", "C 1", "--amount", "1.00", "--evidence", "x"], "id_malformed"),
        (["consent", "--customer", "C1", "--source", "salary", "--grant"], "consent_source_unknown"),
        (["show", "--customer", "C9"], "customer_not_found"),
    ],
)
def test_a_bad_value_is_refused_in_one_line_by_its_code_and_nothing_is_written(ledger, args, code):
    before = snapshot(ledger.engine)
    result = ledger("customer", *args)
    assert result.exit_code == 2
    assert result.stderr.startswith("error: ") and result.stderr.rstrip().endswith(f"[{code}]")
    assert len(result.stderr.strip().splitlines()) == 1
    assert snapshot(ledger.engine) == before
