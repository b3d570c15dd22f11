from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from linewise.errors import InputError
from linewise.money import format_amount, parse_amount, round_minor


def test_amount_typed_in_major_units_is_parsed_exactly():
    assert parse_amount("1000.00", "CNY") == 100_000
    assert parse_amount("0.10", "CNY") == 10
    assert parse_amount("1,234.5", "CNY") == 123_450
    assert parse_amount("7", "JPY") == 7


@pytest.mark.parametrize(
    ("text", "code"),
    [("99.999", "amount_has_too_many_decimals"), ("-5", "amount_must_be_positive"),
     ("0", "amount_must_be_positive"), ("abc", "amount_not_a_number"),
     ("NaN", "amount_not_a_number"), ("1.5", "amount_has_too_many_decimals")],
)
def test_bad_amounts_are_refused_with_a_code_naming_the_rule(text, code):
    currency = "JPY" if text == "1.5" else "CNY"
    with pytest.raises(InputError) as info:
        parse_amount(text, currency, field="--amount")
    assert info.value.code == code
    assert "--amount" in str(info.value)
    assert repr(text) in str(info.value)


def test_unknown_currency_is_refused():
    with pytest.raises(InputError, match="currency"):
        parse_amount("1.00", "XXX")


@given(st.integers(min_value=0, max_value=10**15))
def test_formatting_then_parsing_returns_the_same_minor_units(amount):
    assert parse_amount(format_amount(amount, "CNY"), "CNY", allow_zero=True) == amount


def test_rounding_is_half_up_on_the_minor_unit():
    assert round_minor(Decimal("2.5")) == 3
    assert round_minor(Decimal("2.4999")) == 2
    assert round_minor(Decimal("-2.5")) == -3
