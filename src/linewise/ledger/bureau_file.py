"""The bureau's monthly reporting file: its fields, declared once, and the reporting month.

The file is CSV (RFC 4180, UTF-8, a header row naming the fields, LF line ends):
one record per row, each line record before its loans' records, accounts in id
order. CSV and not a fixed-width layout such as Metro 2's 426 bytes or the PBOC's
message formats: the header makes it self-describing, nothing is padded or cut to a
width, any loader or spreadsheet reads it, and a bureau's mandated layout is one
mapping away from it. Amounts are integer minor units of ``currency`` (no decimal
point, nothing through float); dates are ``YYYY-MM-DD``; a field that does not apply
to a record is empty. :data:`FIELDS` describes every field (the README's table is
checked against it).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any

from linewise.calendar import FIRST_YEAR, LAST_YEAR, add_months, month_end
from linewise.errors import InputError
from linewise.ledger.bureau import HISTORY_MONTHS, BureauRecord

__all__ = [
    "FIELDS",
    "BureauField",
    "csv_header",
    "csv_row",
    "last_reported_month",
    "parse_reporting_month",
    "record_json",
]


@dataclass(frozen=True, slots=True)
class BureauField:
    """One field of the file: its name (the header's) and what it holds."""

    name: str
    description: str


FIELDS: tuple[BureauField, ...] = (
    BureauField("month", "The reporting month's last day: every value is as of the end of that day."),
    BureauField("record_type", "`line` (the revolving credit line) or `loan` (one drawdown on it)."),
    BureauField("record_ref", "The record's reference: the account id for a line, `<account>/<n>` for its n-th loan."),
    BureauField("account_id", "The lender's account (the line) the record belongs to."),
    BureauField("loan_seq", "The loan's number on its line, from 1 in drawing order; empty for a line."),
    BureauField("customer_id", "The lender's id of the customer (the borrower)."),
    BureauField("currency", "ISO 4217 code of every amount in the record."),
    BureauField("opened_on", "The day the line was opened, or the loan drawn."),
    BureauField("credit_limit", "A line's credit limit at the month end; empty for a loan."),
    BureauField("original_amount", "A loan's principal as drawn; empty for a line."),
    BureauField("term_months", "A loan's term in months as drawn; empty for a line."),
    BureauField(
        "matures_on",
        "A loan's last instalment's due date at the month end (earlier after a prepayment); empty for a line.",
    ),
    BureauField("balance", "Principal outstanding at the month end; a line's is the sum of its loans'."),
    BureauField("scheduled_payment", "Principal and interest of the instalments due in the month."),
    BureauField("actual_payment", "Paid in the month (penalty, interest and principal)."),
    BureauField(
        "amount_past_due",
        "Principal and interest of instalments due before the month end and unpaid at it (penalty excluded).",
    ),
    BureauField(
        "days_past_due",
        "Days from the due date of the oldest instalment due before the month end and unpaid at it; 0 if none.",
    ),
    BureauField("months_late", "Days past due in months: 0 none, 1 for 1-30 days, 2 for 31-60, ... 7 for 181 or more."),
    BureauField(
        "status",
        "`current` (not past due), `past_due`, `paid_off` (a loan whose every instalment is paid) or `closed` (a line).",
    ),
    BureauField("closed_on", "The day a loan was paid off or a line closed; empty while open."),
    BureauField("last_payment_on", "The day of the last payment to the record by the month end; empty if none."),
    BureauField(
        "history",
        f"{HISTORY_MONTHS} characters, oldest month first, this month last: `/` not yet open, `N` not past due, "
        "`1`-`7` months late, `C` paid off or closed.",
    ),
)


def csv_header() -> list[str]:
    """The file's header row: the field names, in order."""
    return [field.name for field in FIELDS]


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, StrEnum):
        return value.value
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def csv_row(record: BureauRecord) -> list[str]:
    """``record`` as the file's text fields, in :data:`FIELDS` order."""
    return [_text(getattr(record, field.name)) for field in FIELDS]


def record_json(record: BureauRecord) -> dict[str, Any]:
    """``record`` as JSON-ready values by field name: numbers stay numbers, dates and codes are text."""
    out: dict[str, Any] = {}
    for field in FIELDS:
        value = getattr(record, field.name)
        out[field.name] = value if value is None or type(value) is int else _text(value)
    return out


_MONTH = re.compile(r"([0-9]{4})-([0-9]{2})")


def parse_reporting_month(text: str, field: str, *, today: date) -> date:
    """The last day of the month ``text`` names (``YYYY-MM``), when that month is over on ``today``.

    A month is reported once it is over: the current month and later ones are refused
    (``month_not_over``), as their month end has not passed. Raises
    :class:`~linewise.errors.InputError` (``month_malformed``, ``date_out_of_range``,
    ``month_not_over``) naming ``field``, never another exception.
    """
    match = _MONTH.fullmatch(text)
    if match is None or not 1 <= int(match[2]) <= 12:
        raise InputError.for_field("month_malformed", where=field, field=field, rule="a month as YYYY-MM", value=text)
    year = int(match[1])
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise InputError.for_field(
            "date_out_of_range",
            where=field,
            field=field,
            rule=f"a month in the years {FIRST_YEAR} to {LAST_YEAR}",
            value=text,
        )
    end = month_end(date(year, int(match[2]), 1))
    if end >= today:
        raise InputError.for_field(
            "month_not_over",
            where=field,
            field=field,
            rule=f"a month already over on {today} (at the latest {last_reported_month(today):%Y-%m})",
            value=text,
        )
    return end


def last_reported_month(today: date) -> date:
    """The last day of the last month over on ``today``: the month before today's."""
    return month_end(add_months(today.replace(day=1), -1))
