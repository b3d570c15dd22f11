"""The one validation layer for typed values: each rule, each boundary, never another exception."""

import re
from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from linewise.errors import InputError
from linewise.inputs import (
    FIRST_YEAR,
    FUTURE_TOLERANCE_DAYS,
    ID_MAX_LENGTH,
    KEY_MAX_LENGTH,
    LAST_YEAR,
    REASON_MAX_LENGTH,
    check_event_date,
    parse_event_date,
    parse_id,
    parse_iso_date,
    parse_key,
    parse_reason,
)

TODAY = date(2026, 12, 1)


def refused(parse, text, field="--x"):
    with pytest.raises(InputError) as info:
        parse(text, field)
    assert str(info.value).startswith(f"{field}: {field} must be ")
    return info.value.code


# --- identifiers ------------------------------------------------------------------


@pytest.mark.parametrize("text", ["A1", "1", "L000001", "acct-2026.01:x_y", "C" * ID_MAX_LENGTH])
def test_ids_of_the_documented_form_are_accepted_unchanged(text):
    assert parse_id(text, "--account") == text


def test_an_id_of_the_maximum_length_is_accepted_and_one_longer_is_not():
    assert parse_id("a" * (ID_MAX_LENGTH - 1), "--account")
    assert parse_id("a" * ID_MAX_LENGTH, "--account")
    assert refused(parse_id, "a" * (ID_MAX_LENGTH + 1)) == "id_malformed"


@pytest.mark.parametrize(
    "text",
    [
        "",
        " A1",
        "A1 ",
        "A 1",
        "X[/oops]",
        "[red]A9",
        "A1\n",
        "A\x00",
        "A\x1b[31m",
        "\u0661",
        "\uff211",
        "é",
        "-A1",
        ".A1",
        "_A1",
        ":A1",
        "A/1",
        "A1;DROP",
        "A\u200b1",
    ],
)
def test_ids_with_spaces_controls_markup_or_other_scripts_are_refused(text):
    assert refused(parse_id, text) == "id_malformed"


def test_a_key_of_the_maximum_length_is_accepted_and_one_longer_is_not():
    assert parse_key("k" * (KEY_MAX_LENGTH - 1), "--key")
    assert parse_key("k" * KEY_MAX_LENGTH, "--key")
    assert refused(parse_key, "k" * (KEY_MAX_LENGTH + 1)) == "key_malformed"


@pytest.mark.parametrize("text", ["pay-2026-02", "0f3c9a1e2b7d4c5f8a6e1d2c3b4a5f6e", "x"])
def test_keys_of_the_documented_form_are_accepted(text):
    assert parse_key(text, "--key") == text


@pytest.mark.parametrize("text", ["", " k", "k\t", "k[1]", "ключ"])
def test_keys_outside_the_alphabet_are_refused(text):
    assert refused(parse_key, text) == "key_malformed"


# --- reasons ----------------------------------------------------------------------


@pytest.mark.parametrize("text", ["dpd_above_max", "payment_returned", "manual_review", "a", "r2"])
def test_snake_case_reason_codes_are_accepted(text):
    assert parse_reason(text, "--reason") == text


def test_a_reason_of_the_maximum_length_is_accepted_and_one_longer_is_not():
    assert parse_reason("r" * (REASON_MAX_LENGTH - 1), "--reason")
    assert parse_reason("r" * REASON_MAX_LENGTH, "--reason")
    assert refused(parse_reason, "r" * (REASON_MAX_LENGTH + 1)) == "reason_malformed"


@pytest.mark.parametrize("text", ["", "Manual", "fraud suspected", "x[/oops]", "1st", "_x", "a-b", "a\n"])
def test_reasons_that_are_not_snake_case_codes_are_refused(text):
    assert refused(parse_reason, text) == "reason_malformed"


# --- dates ------------------------------------------------------------------------


def test_dates_at_the_ends_of_the_year_range_are_accepted_and_one_day_outside_is_not():
    assert parse_iso_date(f"{FIRST_YEAR}-01-01", "--on") == date(FIRST_YEAR, 1, 1)
    assert parse_iso_date(f"{LAST_YEAR}-12-31", "--on") == date(LAST_YEAR, 12, 31)
    assert refused(parse_iso_date, f"{FIRST_YEAR - 1}-12-31") == "date_out_of_range"
    assert refused(parse_iso_date, f"{LAST_YEAR + 1}-01-01") == "date_out_of_range"
    assert refused(parse_iso_date, "9999-12-31") == "date_out_of_range"


@pytest.mark.parametrize(
    "text",
    [
        "2026-13-01",
        "2026-02-30",
        "20260115",
        "2026-W03-1",
        "2026-1-5",
        "26-01-15",
        "2026/01/15",
        "10000-01-01",
        " 2026-01-15",
        "2026-01-15T00:00",
        "\u0662\u0660\u0662\u0666-01-15",
        "",
    ],
)
def test_dates_not_written_as_yyyy_mm_dd_are_refused(text):
    assert refused(parse_iso_date, text) == "date_malformed"


def test_an_event_dated_today_plus_the_tolerance_is_accepted_and_a_day_later_is_not():
    latest = TODAY + timedelta(days=FUTURE_TOLERANCE_DAYS)
    assert parse_event_date(latest.isoformat(), "--on", today=TODAY) == latest
    assert check_event_date(latest - timedelta(days=1), "--on", today=TODAY)
    with pytest.raises(InputError) as info:
        parse_event_date((latest + timedelta(days=1)).isoformat(), "--on", today=TODAY)
    assert info.value.code == "date_after_today"
    assert "2026-12-03" in str(info.value)


def test_the_date_that_locked_accounts_is_refused():
    with pytest.raises(InputError) as info:
        parse_event_date("9999-12-31", "--on", today=TODAY)
    assert info.value.code == "date_out_of_range"
    with pytest.raises(InputError) as info:
        parse_event_date("2199-12-31", "--on", today=TODAY)
    assert info.value.code == "date_after_today"


# --- any text ---------------------------------------------------------------------


_PARSERS = [parse_id, parse_key, parse_reason, parse_iso_date]
_FORMS = {
    parse_id: re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,63}"),
    parse_key: re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,127}"),
    parse_reason: re.compile(r"[a-z][a-z0-9_]{0,63}"),
    parse_iso_date: re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}"),
}


@pytest.mark.parametrize("parse", _PARSERS, ids=lambda p: p.__name__)
@given(text=st.text(max_size=200))
def test_any_text_is_accepted_only_in_the_documented_form_else_refused_with_input_error(parse, text):
    try:
        parse(text, "--x")
    except InputError:
        return
    assert _FORMS[parse].fullmatch(text), text
