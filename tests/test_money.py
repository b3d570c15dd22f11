import re
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from linewise.errors import InputError
from linewise.money import (
    MAX_AMOUNT_MINOR,
    format_amount,
    parse_amount,
    round_minor,
    to_minor,
)


def test_amount_typed_in_major_units_is_parsed_exactly():
    assert parse_amount("1000.00", "CNY") == 100_000
    assert parse_amount("0.10", "CNY") == 10
    assert parse_amount("1234.5", "CNY") == 123_450
    assert parse_amount("7", "JPY") == 7


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("99.999", "amount_has_too_many_decimals"),
        ("-5", "amount_must_be_positive"),
        ("0", "amount_must_be_positive"),
        ("abc", "amount_not_a_number"),
        ("NaN", "amount_not_a_number"),
        ("1.5", "amount_has_too_many_decimals"),
    ],
)
def test_bad_amounts_are_refused_with_a_code_naming_the_rule(text, code):
    currency = "JPY" if text == "1.5" else "CNY"
    with pytest.raises(InputError) as info:
        parse_amount(text, currency, field="--amount")
    assert info.value.code == code
    assert "--amount" in str(info.value)
    assert repr(text) in str(info.value)


@pytest.mark.parametrize(
    "text",
    [
        "12,34",
        "2,5",
        "1,234.50",
        "1_000",
        "1e309",
        "1e5000",
        "1E5",
        "Infinity",
        "inf",
        "\u0661\u0662\u0663",
        "\uff11\uff12",
        "\u0967\u0968",
        "+5",
        " 5",
        "5 ",
        "5\n",
        "5.",
        ".5",
        "1.2.3",
        "1..2",
        "",
        "-",
        "0x10",
        "\uff11.00",
        "5\x00",
    ],
)
def test_amounts_not_in_plain_ascii_decimal_form_are_refused_not_misread(text):
    with pytest.raises(InputError) as info:
        parse_amount(text, "CNY", field="--amount")
    assert info.value.code == "amount_not_a_number"


def test_a_thousands_separator_is_never_stripped_into_another_amount():
    with pytest.raises(InputError, match="no separators"):
        parse_amount("12,34", "CNY", field="--amount")


def test_amount_equal_to_the_bound_is_accepted_and_one_minor_unit_more_is_not():
    assert parse_amount("10000000000000.00", "CNY") == MAX_AMOUNT_MINOR
    assert parse_amount("9999999999999.99", "CNY") == MAX_AMOUNT_MINOR - 1
    with pytest.raises(InputError) as info:
        parse_amount("10000000000000.01", "CNY")
    assert info.value.code == "amount_too_large"
    assert parse_amount(str(MAX_AMOUNT_MINOR), "JPY") == MAX_AMOUNT_MINOR
    with pytest.raises(InputError, match="at most 1000000000000000 JPY"):
        parse_amount(str(MAX_AMOUNT_MINOR + 1), "JPY")


def test_the_bound_keeps_amounts_exact_as_float64_and_summable_in_64_bits():
    assert float(MAX_AMOUNT_MINOR) == MAX_AMOUNT_MINOR and MAX_AMOUNT_MINOR < 2**53
    assert 9_000 * MAX_AMOUNT_MINOR < 2**63


def test_amount_with_exactly_the_currency_s_decimals_is_accepted_and_one_more_is_not():
    assert parse_amount("0.01", "CNY") == 1
    assert parse_amount("0.1", "CNY") == 10
    with pytest.raises(InputError, match="at most 2 decimals"):
        parse_amount("0.001", "CNY")
    with pytest.raises(InputError, match="at most 2 decimals"):
        parse_amount("1.000", "CNY")


def test_zero_is_accepted_only_where_allowed_and_the_smallest_amount_always():
    assert parse_amount("0", "CNY", allow_zero=True) == 0
    assert parse_amount("0.00", "CNY", allow_zero=True) == 0
    assert parse_amount("0.01", "CNY") == 1
    with pytest.raises(InputError, match="zero or positive"):
        parse_amount("-0.01", "CNY", allow_zero=True)


def test_a_huge_number_of_digits_is_refused_quickly_and_quoted_briefly():
    with pytest.raises(InputError) as info:
        parse_amount("9" * 100_000, "CNY", field="--amount")
    assert info.value.code == "amount_too_large"
    assert len(str(info.value)) < 300
    assert "100,000 characters" in str(info.value)


def test_unknown_currency_is_refused():
    with pytest.raises(InputError, match="currency"):
        parse_amount("1.00", "XXX")


def test_a_decimal_from_a_file_is_converted_exactly_or_refused():
    assert to_minor(Decimal("1E+6"), "CNY") == 100_000_000
    assert to_minor(Decimal("5000.0"), "JPY") == 5000
    with pytest.raises(InputError, match="at most 2 decimals"):
        to_minor(Decimal("1.000000000000000000000000000001"), "CNY")
    with pytest.raises(InputError) as info:
        to_minor(Decimal("1E+5000"), "CNY")
    assert info.value.code == "amount_too_large"
    with pytest.raises(InputError) as info:
        to_minor(Decimal("NaN"), "CNY")
    assert info.value.code == "amount_not_a_number"


@given(st.integers(min_value=0, max_value=MAX_AMOUNT_MINOR))
def test_formatting_then_parsing_returns_the_same_minor_units(amount):
    assert parse_amount(format_amount(amount, "CNY", grouping=False), "CNY", allow_zero=True) == amount


@given(st.integers(min_value=0, max_value=MAX_AMOUNT_MINOR))
def test_formatting_for_a_currency_without_decimals_round_trips(amount):
    assert parse_amount(format_amount(amount, "JPY", grouping=False), "JPY", allow_zero=True) == amount


_ACCEPTED_FORM = re.compile(r"[0-9]+(\.[0-9]{1,2})?")


@given(st.text(max_size=40))
def test_any_text_is_either_a_plain_amount_or_refused_with_input_error(text):
    try:
        amount = parse_amount(text, "CNY", allow_zero=True)
    except InputError:
        return
    assert _ACCEPTED_FORM.fullmatch(text), text
    assert 0 <= amount <= MAX_AMOUNT_MINOR
    assert Decimal(amount) / 100 == Decimal(text)


@given(st.from_regex(r"-?[0-9]{1,20}(\.[0-9]{1,4})?", fullmatch=True))
def test_digit_strings_of_any_size_are_parsed_or_refused_with_input_error(text):
    value = Decimal(text)
    decimals = len(text.partition(".")[2])
    if value <= 0 or decimals > 2 or value > Decimal("1E13"):
        with pytest.raises(InputError):
            parse_amount(text, "CNY")
    else:
        assert parse_amount(text, "CNY") == int(value * 100)


def test_rounding_is_half_up_on_the_minor_unit():
    assert round_minor(Decimal("2.5")) == 3
    assert round_minor(Decimal("2.4999")) == 2
    assert round_minor(Decimal("-2.5")) == -3
