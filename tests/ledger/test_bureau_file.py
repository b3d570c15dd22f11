"""The bureau file's fields and reporting month: declared once, documented in the README, checked at the edge."""

from __future__ import annotations

import re
from dataclasses import fields
from datetime import date
from pathlib import Path

import pytest

from linewise.errors import ERROR_CODES, InputError
from linewise.ledger.bureau import BureauRecord, RecordType, ReportStatus
from linewise.ledger.bureau_file import (
    FIELDS,
    csv_header,
    csv_row,
    last_reported_month,
    parse_reporting_month,
    record_json,
)

README = Path(__file__).resolve().parents[2] / "README.md"

RECORD = BureauRecord(
    month=date(2026, 3, 31),
    record_type=RecordType.LOAN,
    record_ref="A1/1",
    account_id="A1",
    loan_seq=1,
    customer_id="C1",
    currency="CNY",
    opened_on=date(2026, 1, 15),
    credit_limit=None,
    original_amount=600_000,
    term_months=6,
    matures_on=date(2026, 7, 15),
    balance=600_000,
    scheduled_payment=105_315,
    actual_payment=0,
    amount_past_due=210_630,
    days_past_due=44,
    months_late=2,
    status=ReportStatus.PAST_DUE,
    closed_on=None,
    last_payment_on=None,
    history="/" * 21 + "N12",
)


def test_every_field_of_a_record_is_in_the_file_in_order_and_described():
    assert csv_header() == [f.name for f in fields(BureauRecord)]
    assert all(field.description.endswith(".") for field in FIELDS)


def test_the_readme_table_is_the_declared_fields_in_order():
    text = README.read_text(encoding="utf-8")
    section = text.split("## The credit bureau", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\| `([a-z_]+)` \| (.+) \|$", section, re.M)
    assert rows == [(field.name, field.description) for field in FIELDS]


def test_a_row_is_text_with_minor_units_iso_dates_and_empty_where_a_field_does_not_apply():
    row = dict(zip(csv_header(), csv_row(RECORD), strict=True))
    assert row["month"] == "2026-03-31" and row["opened_on"] == "2026-01-15"
    assert row["original_amount"] == "600000" and row["credit_limit"] == "" and row["closed_on"] == ""
    assert row["record_type"] == "loan" and row["status"] == "past_due"
    assert row["history"] == "/" * 21 + "N12"


def test_json_keeps_numbers_as_numbers_and_dates_as_text():
    payload = record_json(RECORD)
    assert payload["balance"] == 600_000 and payload["credit_limit"] is None and payload["loan_seq"] == 1
    assert payload["month"] == "2026-03-31" and payload["status"] == "past_due"
    assert list(payload) == csv_header()


@pytest.mark.parametrize(
    ("text", "today", "month_end"),
    [
        ("2026-03", date(2026, 4, 1), date(2026, 3, 31)),
        ("2024-02", date(2026, 4, 1), date(2024, 2, 29)),
        ("1900-01", date(2026, 4, 1), date(1900, 1, 31)),
    ],
)
def test_a_month_over_by_today_is_taken_as_its_last_day(text, today, month_end):
    assert parse_reporting_month(text, "--month", today=today) == month_end


@pytest.mark.parametrize(
    ("text", "today", "code"),
    [
        ("2026-03", date(2026, 3, 31), "month_not_over"),
        ("2026-04", date(2026, 4, 1), "month_not_over"),
        ("2030-01", date(2026, 4, 1), "month_not_over"),
        ("2026-13", date(2026, 4, 1), "month_malformed"),
        ("2026-00", date(2026, 4, 1), "month_malformed"),
        ("2026-3", date(2026, 4, 1), "month_malformed"),
        ("2026-03-31", date(2026, 4, 1), "month_malformed"),
        ("202603", date(2026, 4, 1), "month_malformed"),
        ("\uff12\uff10\uff12\uff16-03", date(2026, 4, 1), "month_malformed"),
        ("", date(2026, 4, 1), "month_malformed"),
        ("1899-12", date(2026, 4, 1), "date_out_of_range"),
    ],
)
def test_a_month_not_over_or_not_a_month_is_refused_naming_the_option(text, today, code):
    with pytest.raises(InputError) as info:
        parse_reporting_month(text, "--month", today=today)
    assert info.value.code == code and info.value.where == "--month"
    assert code in ERROR_CODES


def test_the_last_reported_month_is_the_month_before_today():
    assert last_reported_month(date(2026, 1, 1)) == date(2025, 12, 31)
    assert last_reported_month(date(2026, 3, 31)) == date(2026, 2, 28)
