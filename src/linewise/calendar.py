"""Due dates and day counts.

Monthly due dates keep the drawdown's day of month, clamped to the month's last day
(drawn on 31 January: due 28/29 February, 31 March, 30 April, ...).
"""

from __future__ import annotations

import calendar as _stdlib_calendar
from datetime import date
from decimal import Decimal
from enum import StrEnum

__all__ = [
    "DayCount",
    "add_months",
    "month_end",
    "month_ends",
    "year_fraction",
]


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
