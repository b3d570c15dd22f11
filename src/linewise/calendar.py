"""Due dates and day counts.

Monthly due dates keep the drawdown's day of month, clamped to the month's last day
(drawn on 31 January: due 28/29 February, 31 March, 30 April, ...).
"""

from __future__ import annotations

import calendar as _stdlib_calendar
import re
from datetime import date
from decimal import Decimal
from enum import StrEnum

from linewise.errors import InputError

__all__ = [
    "FIRST_YEAR",
    "LAST_YEAR",
    "DayCount",
    "add_months",
    "month_end",
    "month_ends",
    "parse_iso_date",
    "year_fraction",
]

# Years a typed date may fall in. 1900 reaches back past any customer's record;
# 2199 keeps the longest schedule (24 months) and any month-end panel far inside
# pandas' nanosecond timestamps (1677-09-21 to 2262-04-11) and datetime's year 9999,
# so no date a person types can overflow a schedule, a panel or an export.
FIRST_YEAR = 1900
LAST_YEAR = 2199

_ISO_DATE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})")


class DayCount(StrEnum):
    """Day-count bases for interest that accrues by the day."""

    ACT_365 = "ACT/365"
    ACT_360 = "ACT/360"
    THIRTY_360 = "30/360"


def month_end(day: date) -> date:
    """The last day of ``day``'s month."""
    last = _stdlib_calendar.monthrange(day.year, day.month)[1]
    return date(day.year, day.month, last)


def add_months(anchor: date, months: int) -> date:
    """``anchor`` moved ``months`` months, its day clamped to the target month's end."""
    index = anchor.year * 12 + (anchor.month - 1) + months
    year, month0 = divmod(index, 12)
    last = _stdlib_calendar.monthrange(year, month0 + 1)[1]
    return date(year, month0 + 1, min(anchor.day, last))


def month_ends(first: date, last: date) -> list[date]:
    """Every month end from ``first``'s month to ``last``'s month, inclusive."""
    out: list[date] = []
    current = month_end(first)
    while current <= month_end(last):
        out.append(current)
        current = month_end(add_months(date(current.year, current.month, 1), 1))
    return out


def parse_iso_date(text: str, field: str) -> date:
    """The date ``text`` spells as YYYY-MM-DD (ASCII digits), in FIRST_YEAR..LAST_YEAR.

    Raises :class:`InputError` naming ``field`` (``date_malformed`` for any other
    form, including the other ISO forms Python accepts such as ``20260115``;
    ``date_out_of_range`` for a year outside the range) and never another exception.
    """
    match = _ISO_DATE.fullmatch(text)
    try:
        day = date.fromisoformat(text) if match else None
    except ValueError:
        day = None
    if day is None:
        raise InputError.for_field("date_malformed", where=field, field=field, rule="a date as YYYY-MM-DD", value=text)
    if not FIRST_YEAR <= day.year <= LAST_YEAR:
        raise InputError.for_field(
            "date_out_of_range",
            where=field,
            field=field,
            rule=f"a date in the years {FIRST_YEAR} to {LAST_YEAR}",
            value=text,
        )
    return day


def _days_30_360(start: date, end: date) -> int:
    d1 = min(start.day, 30)
    d2 = min(end.day, 30) if d1 == 30 else end.day
    return (end.year - start.year) * 360 + (end.month - start.month) * 30 + (d2 - d1)


def year_fraction(start: date, end: date, basis: DayCount) -> Decimal:
    """Exact fraction of a year between two dates under ``basis``."""
    if basis is DayCount.ACT_365:
        return Decimal((end - start).days) / Decimal(365)
    if basis is DayCount.ACT_360:
        return Decimal((end - start).days) / Decimal(360)
    return Decimal(_days_30_360(start, end)) / Decimal(360)
