"""Integer minor-unit amounts: parsing, formatting and the one rounding rule.

Amounts are ``int`` minor units (fen, cents) everywhere inside linewise. Text typed
by a person is parsed exactly through :class:`~decimal.Decimal`, never ``float``.

Rounding rule: every computed amount (interest, penalty, instalment) is rounded to
the minor unit **half up** (0.5 fen rounds away from zero), the convention of
Chinese banks' published schedules.
"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal
from typing import NewType

from linewise.errors import InputError

__all__ = [
    "CURRENCY_EXPONENTS",
    "MAX_AMOUNT_MINOR",
    "MinorUnits",
    "currency_exponent",
    "format_amount",
    "parse_amount",
    "round_minor",
    "to_major",
    "to_minor",
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


# The largest amount linewise accepts anywhere: 10**15 minor units (10 trillion yuan
# at 2 decimals), thousands of times any consumer line, so no real amount is refused.
# The bound is what keeps amounts exact downstream: features and strategy thresholds
# are float64, which holds every integer only up to 2**53 (about 9.007e15), and a
# signed 64-bit column (about 9.2e18) can still sum 9,000 amounts at the bound.
MAX_AMOUNT_MINOR = 10**15

# An amount as a person types it: ASCII digits, at most one decimal point with digits
# on both sides; an optional minus sign only so that "-5" is told it must be positive.
# No thousands separators ("12,34" is not 1,234), no underscores, no exponents, no
# other scripts' digits (Python's \d and Decimal() accept those), no spaces.
_AMOUNT_TEXT = re.compile(r"-?[0-9]+(?:\.([0-9]+))?")


def parse_amount(text: str, currency: str, *, field: str = "amount", allow_zero: bool = False) -> MinorUnits:
    """Parse a major-unit decimal such as ``"1000.00"`` into minor units, exactly.

    Accepts only ASCII digits with at most one decimal point (see ``_AMOUNT_TEXT``),
    at most the currency's decimals, positive (or zero when ``allow_zero``) and at
    most :data:`MAX_AMOUNT_MINOR` minor units. Anything else raises
    :class:`InputError` naming ``field``, and never another exception.
    """
    exponent = currency_exponent(currency)
    match = _AMOUNT_TEXT.fullmatch(text)
    if match is None:
        raise InputError.for_field(
            "amount_not_a_number",
            where=field,
            field=field,
            rule="digits 0-9 with at most one decimal point and no separators, signs or exponents, such as 1000.00",
            value=text,
        )
    decimals = match.group(1) or ""
    if len(decimals) > exponent:
        raise _too_many_decimals(field, exponent, currency, text)
    return to_minor(Decimal(text), currency, field=field, allow_zero=allow_zero, shown=text)


def to_minor(
    value: Decimal,
    currency: str,
    *,
    field: str = "amount",
    allow_zero: bool = False,
    shown: object = None,
) -> MinorUnits:
    """The exact minor units of a major-unit ``value`` (e.g. a strategy file's number).

    Raises :class:`InputError` naming ``field`` unless ``value`` is finite, exact at
    the currency's decimals, positive (or zero when ``allow_zero``) and at most
    :data:`MAX_AMOUNT_MINOR` minor units. ``shown`` is the value quoted in the
    message (``value`` itself by default).
    """
    shown = str(value) if shown is None else shown
    exponent = currency_exponent(currency)
    if not value.is_finite():
        raise InputError.for_field(
            "amount_not_a_number",
            where=field,
            field=field,
            rule="a finite decimal number",
            value=shown,
        )
    if value < 0 or (value == 0 and not allow_zero):
        raise InputError.for_field(
            "amount_must_be_positive",
            where=field,
            field=field,
            rule="positive" if not allow_zero else "zero or positive",
            value=shown,
        )
    # Compared before scaling, so that 1e5000 never becomes a 5,000-digit integer.
    if value > to_major(MAX_AMOUNT_MINOR, currency):
        raise InputError.for_field(
            "amount_too_large",
            where=field,
            field=field,
            rule=f"at most {format_amount(MAX_AMOUNT_MINOR, currency, grouping=False)} {currency}",
            value=shown,
        )
    # Below the bound, quantize is exact (at most 16 digits, within Decimal's 28).
    exact = value.quantize(Decimal(1).scaleb(-exponent))
    if exact != value:
        raise _too_many_decimals(field, exponent, currency, shown)
    return MinorUnits(int(exact.scaleb(exponent)))


def _too_many_decimals(field: str, exponent: int, currency: str, shown: object) -> InputError:
    return InputError.for_field(
        "amount_has_too_many_decimals",
        where=field,
        field=field,
        rule=f"given with at most {exponent} decimals for {currency}",
        value=shown,
    )


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
