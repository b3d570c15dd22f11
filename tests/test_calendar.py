from datetime import date
from decimal import Decimal

from linewise.calendar import DayCount, add_months, month_ends, year_fraction


def test_due_dates_keep_the_day_and_clamp_to_month_end():
    drawn = date(2025, 1, 31)
    assert [add_months(drawn, k) for k in range(1, 5)] == [
        date(2025, 2, 28),
        date(2025, 3, 31),
        date(2025, 4, 30),
        date(2025, 5, 31),
    ]
    assert add_months(date(2024, 1, 31), 1) == date(2024, 2, 29)
    assert add_months(date(2025, 11, 15), 3) == date(2026, 2, 15)


def test_month_ends_cover_every_month_inclusive():
    assert month_ends(date(2025, 11, 3), date(2026, 2, 1)) == [
        date(2025, 11, 30),
        date(2025, 12, 31),
        date(2026, 1, 31),
        date(2026, 2, 28),
    ]


def test_day_count_bases_differ_as_defined():
    start, end = date(2025, 1, 31), date(2025, 3, 1)
    assert year_fraction(start, end, DayCount.ACT_365) == Decimal(29) / 365
    assert year_fraction(start, end, DayCount.ACT_360) == Decimal(29) / 360
    assert year_fraction(start, end, DayCount.THIRTY_360) == Decimal(31) / 360
