"""Integer minor-unit amounts: parsing, formatting and the one rounding rule.

Amounts are ``int`` minor units (fen, cents) everywhere inside linewise. Text typed
by a person is parsed exactly through :class:`~decimal.Decimal`, never ``float``.

Rounding rule: every computed amount (interest, penalty, instalment) is rounded to
the minor unit **half up** (0.5 fen rounds away from zero), the convention of
Chinese banks' published schedules.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import NewType

from linewise.errors import InputError

__all__ = [
    "CURRENCY_EXPONENTS",
    "MinorUnits",
    "currency_exponent",
    "format_amount",
    "parse_amount",
    "round_minor",
    "to_major",
]

MinorUnits = NewType("MinorUnits", int)

# ISO 4217 minor-unit exponents of the currencies linewise has been used with.
CURRENCY_EXPONENTS: dict[str, int] = {
    "CNY": 2,
    "USD": 2,
    "EUR": 2,
    "GBP": 2,
    "HKD": 2,
    "TWD": 2,
    "JPY": 0,
    "KRW": 0,
}


def currency_exponent(currency: str) -> int:
    """Number of decimals of ``currency``; raises :class:`InputError` if unknown."""
    try:
        return CURRENCY_EXPONENTS[currency]
    except KeyError:
        raise InputError.for_field(
            "currency_not_supported",
            where="currency",
            field="currency",
            rule=f"one of {sorted(CURRENCY_EXPONENTS)}",
            value=currency,
        ) from None


def parse_amount(
    text: str, currency: str, *, field: str = "amount", allow_zero: bool = False
) -> MinorUnits:
    """Parse a major-unit decimal such as ``"1000.00"`` into minor units, exactly.

    Raises :class:`InputError` naming ``field`` when the text is not a number, is
    negative (or zero unless ``allow_zero``), or has more decimals than the currency.
    """
    exponent = currency_exponent(currency)
    try:
        value = Decimal(text.strip().replace(",", "").replace("_", ""))
    except InvalidOperation:
        raise InputError.for_field(
            "amount_not_a_number", where=field, field=field,
            rule="a decimal number such as 1000.00", value=text,
        ) from None
    if not value.is_finite():
        raise InputError.for_field(
            "amount_not_a_number", where=field, field=field,
            rule="a finite decimal number", value=text,
        )
    if value < 0 or (value == 0 and not allow_zero):
        raise InputError.for_field(
            "amount_must_be_positive", where=field, field=field,
            rule="positive" if not allow_zero else "zero or positive", value=text,
        )
    scaled = value.scaleb(exponent)
    if scaled != scaled.to_integral_value():
        raise InputError.for_field(
            "amount_has_too_many_decimals", where=field, field=field,
            rule=f"given with at most {exponent} decimals for {currency}", value=text,
        )
    return MinorUnits(int(scaled))


def to_major(amount: int, currency: str) -> Decimal:
    """The exact major-unit value of ``amount`` minor units."""
    return Decimal(amount).scaleb(-currency_exponent(currency))


def format_amount(amount: int, currency: str, *, grouping: bool = True) -> str:
    """Format minor units as major units, e.g. ``123456`` CNY -> ``"1,234.56"``."""
    exponent = currency_exponent(currency)
    major = to_major(amount, currency)
    spec = f"{',' if grouping else ''}.{exponent}f"
    return format(major, spec)


def round_minor(value: Decimal) -> MinorUnits:
    """Round an exact decimal number of minor units to an integer, half up."""
    return MinorUnits(int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP)))
