"""Every value a person types, checked once and the same way for the CLI and the API.

Each parser returns the value or raises an :class:`~linewise.errors.InputError`
subclass with a stable ``code`` and the one message template
``<where>: <field> must be <rule>; got <value!r>``; it never raises anything else.
The rules (the README's error section states them for users):

- **Identifiers** (account, customer and decision ids): 1 to 64 ASCII letters,
  digits, ``.``, ``_``, ``:`` or ``-``, starting with a letter or digit
  (``id_malformed``). No spaces, control characters, brackets or other scripts, so an
  id is the same text on every database and in every output.
- **Idempotency keys**: the same alphabet, 1 to 128 characters (``key_malformed``);
  a key is scoped to its account.
- **Reasons** (of limit changes, freezes, reversals): a reason code in snake_case,
  a lower-case letter then up to 63 lower-case letters, digits or ``_``
  (``reason_malformed``). A code rather than a vocabulary: the strategy's reason
  catalogue lives above the ledger and lenders add their own codes, but a code is
  what the ledger stores and reports on, never free text.
- **Amounts**: see :func:`linewise.money.parse_amount` (ASCII digits, one decimal
  point, the currency's decimals, at most :data:`~linewise.money.MAX_AMOUNT_MINOR`).
- **Dates**: YYYY-MM-DD in the years :data:`~linewise.calendar.FIRST_YEAR` to
  :data:`~linewise.calendar.LAST_YEAR`; an event's date at most
  :data:`FUTURE_TOLERANCE_DAYS` after today (``date_after_today``). Today is read by
  the adapter and passed in; an event before its line opened is refused by the ledger
  (``occurred_on_before_line_opened``).
"""

from __future__ import annotations

import re
from datetime import date, timedelta

from linewise.calendar import FIRST_YEAR, LAST_YEAR, parse_iso_date
from linewise.errors import InputError
from linewise.money import MAX_AMOUNT_MINOR, parse_amount

__all__ = [
    "FIRST_YEAR",
    "FUTURE_TOLERANCE_DAYS",
    "ID_MAX_LENGTH",
    "KEY_MAX_LENGTH",
    "LAST_YEAR",
    "MAX_AMOUNT_MINOR",
    "REASON_MAX_LENGTH",
    "check_event_date",
    "check_year",
    "parse_amount",
    "parse_code",
    "parse_event_date",
    "parse_id",
    "parse_iso_date",
    "parse_key",
    "parse_reason",
]

# The store's columns: ids are String(64), keys and decision references String(128),
# reason codes String(64). Checking the lengths here, before any database sees them,
# is what makes a ledger accept the same values on SQLite and on PostgreSQL.
ID_MAX_LENGTH = 64
KEY_MAX_LENGTH = 128
REASON_MAX_LENGTH = 64

# An event may be dated one day after the adapter's today: an operator in UTC+8
# posting a payment at 07:00 on the 16th runs against a server clock (UTC) that
# still reads the 15th. Anything later is a typo (9999-12-31 would lock the account,
# since no later event may be dated before it).
FUTURE_TOLERANCE_DAYS = 1

_ALPHABET = "A-Za-z0-9._:-"
_ID = re.compile(rf"[A-Za-z0-9][{_ALPHABET}]{{0,{ID_MAX_LENGTH - 1}}}")
_KEY = re.compile(rf"[A-Za-z0-9][{_ALPHABET}]{{0,{KEY_MAX_LENGTH - 1}}}")
_REASON = re.compile(rf"[a-z][a-z0-9_]{{0,{REASON_MAX_LENGTH - 1}}}")


def _alphabet_rule(most: int) -> str:
    return f"1 to {most} ASCII letters, digits, '.', '_', ':' or '-', starting with a letter or digit"


_REASON_RULE = f"a lower-case letter, then up to {REASON_MAX_LENGTH - 1} lower-case letters, digits or '_'"


def _matching(text: str, field: str, pattern: re.Pattern[str], code: str, rule: str) -> str:
    """``text`` if ``pattern`` matches all of it; else ``code`` naming ``rule``."""
    if pattern.fullmatch(text) is None:
        raise InputError.for_field(code, where=field, field=field, rule=rule, value=text)
    return text


def parse_id(text: str, field: str) -> str:
    """``text`` if it is an account, customer or decision id; else ``id_malformed``."""
    return _matching(text, field, _ID, "id_malformed", _alphabet_rule(ID_MAX_LENGTH))


def parse_key(text: str, field: str) -> str:
    """``text`` if it is an idempotency key (or decision reference); else ``key_malformed``."""
    return _matching(text, field, _KEY, "key_malformed", _alphabet_rule(KEY_MAX_LENGTH))


def parse_reason(text: str, field: str) -> str:
    """``text`` if it is a snake_case reason code; else ``reason_malformed``."""
    return _matching(text, field, _REASON, "reason_malformed", f"a reason code: {_REASON_RULE}")


def parse_code(text: str, field: str) -> str:
    """``text`` if it is a snake_case code such as a drawdown purpose; else ``code_malformed``."""
    return _matching(text, field, _REASON, "code_malformed", f"a code: {_REASON_RULE}")


def check_year(day: date, field: str) -> date:
    """``day`` if its year is in FIRST_YEAR..LAST_YEAR; else ``date_out_of_range``."""
    if not FIRST_YEAR <= day.year <= LAST_YEAR:
        raise InputError.for_field(
            "date_out_of_range",
            where=field,
            field=field,
            rule=f"a date in the years {FIRST_YEAR} to {LAST_YEAR}",
            value=day.isoformat(),
        )
    return day


def check_event_date(day: date, field: str, *, today: date) -> date:
    """``day`` if an event may be dated on it given ``today``; else ``date_after_today``."""
    check_year(day, field)
    latest = today + timedelta(days=FUTURE_TOLERANCE_DAYS)
    if day > latest:
        raise InputError.for_field(
            "date_after_today",
            where=field,
            field=field,
            rule=f"at most {FUTURE_TOLERANCE_DAYS} day after today ({today}), so on or before {latest}",
            value=day.isoformat(),
        )
    return day


def parse_event_date(text: str, field: str, *, today: date) -> date:
    """The date of an event typed as YYYY-MM-DD, checked against ``today``."""
    return check_event_date(parse_iso_date(text, field), field, today=today)
