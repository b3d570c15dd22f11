"""Read bank-statement transactions (财务流水) from a CSV or Parquet file.

One row per transaction, with the columns ``account_id`` (the credit line the
statement was uploaded for), ``date``, ``amount`` (major units, signed: credits
positive, e.g. ``8000.00`` or ``-35.50``), ``counterparty`` and ``description``;
optionally ``account_holder`` (the statement's 户名). Amounts are converted to minor
units exactly (see :func:`~linewise.data.importers.tabular.parse_major_amounts`).
Dates are ``YYYY-MM-DD`` (a time after it, as many banks export, is dropped) or
follow ``date_format``.

Every problem in the file is listed at once; nothing is returned partially. The
frame returned is the input of :func:`linewise.data.income.derive_income`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from linewise.data.files import read_table
from linewise.data.importers.tabular import parse_major_amounts
from linewise.data.income import TRANSACTION_COLUMNS
from linewise.errors import Problem, SchemaMismatchError
from linewise.money import currency_exponent

__all__ = ["read_statements"]

# Per column and rule, the rows listed by name; the rest are counted in one line.
ROWS_LISTED_PER_RULE = 200
_DATE_TIME = r"\d{4}-\d{2}-\d{2}(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?"


def read_statements(path: Path, *, currency: str, date_format: str | None = None) -> pd.DataFrame:
    """The transactions in ``path`` in canonical types, or every problem at once.

    Returns ``account_id`` (str), ``date`` (``datetime64[ns]``), ``amount``
    (``Int64`` minor units of ``currency``), ``counterparty`` and ``description``
    (str, empty when absent), and ``account_holder`` when the file has it.
    Raises :class:`SchemaMismatchError` naming file, row, column, rule and value.
    """
    exponent = currency_exponent(currency)
    raw = read_table(path)
    source = str(path)
    problems = [
        Problem(source, None, name, "a column of the statement file", "missing")
        for name in TRANSACTION_COLUMNS
        if name not in raw.columns
    ]
    if problems:
        raise SchemaMismatchError(problems)
    raw = raw.reset_index(drop=True)
    account_id = raw["account_id"].astype("str").where(raw["account_id"].notna(), "").str.strip()
    _add(problems, source, account_id == "", raw["account_id"], "account_id", "present (not empty)")
    dates, bad_dates, rule = _parse_dates(raw["date"], date_format)
    _add(problems, source, bad_dates, raw["date"], "date", rule)
    amounts = parse_major_amounts(raw["amount"], currency)
    absent = amounts.minor.isna() & ~amounts.not_a_number & ~amounts.too_many_decimals
    _add(problems, source, absent, raw["amount"], "amount", "present (not empty)")
    _add(problems, source, amounts.not_a_number, raw["amount"], "amount", "a signed decimal number such as -35.50")
    _add(
        problems,
        source,
        amounts.too_many_decimals,
        raw["amount"],
        "amount",
        f"given with at most {exponent} decimals for {currency}",
    )
    if problems:
        raise SchemaMismatchError(problems)
    out = pd.DataFrame({"account_id": account_id, "date": dates, "amount": amounts.minor})
    for name in ("counterparty", "description", "account_holder"):
        if name in raw.columns:
            out[name] = raw[name].astype("str").where(raw[name].notna(), "").str.strip()
    return out


def _parse_dates(values: pd.Series, date_format: str | None) -> tuple[pd.Series, pd.Series, str]:
    if pd.api.types.is_datetime64_any_dtype(values):
        parsed = pd.to_datetime(values)
        return parsed.dt.normalize().astype("datetime64[ns]"), parsed.isna(), "a date"
    text = values.astype("str").where(values.notna(), "").str.strip()
    if date_format is not None:
        parsed = pd.to_datetime(text, format=date_format, errors="coerce")
        rule = f"a date as {date_format}"
    else:
        readable = text.str.fullmatch(_DATE_TIME).astype(bool)
        parsed = pd.to_datetime(text.str.slice(0, 10).where(readable, ""), format="%Y-%m-%d", errors="coerce")
        rule = "a date as YYYY-MM-DD"
    return parsed.dt.normalize().astype("datetime64[ns]"), parsed.isna(), rule


def _add(problems: list[Problem], source: str, mask: pd.Series, values: pd.Series, column: str, rule: str) -> None:
    positions = np.flatnonzero(mask.to_numpy(dtype=bool, na_value=False))
    problems.extend(
        Problem(source, int(position) + 1, column, rule, _plain(values.iloc[position]))
        for position in positions[:ROWS_LISTED_PER_RULE]
    )
    if len(positions) > ROWS_LISTED_PER_RULE:
        problems.append(
            Problem(source, None, column, rule, f"{len(positions) - ROWS_LISTED_PER_RULE} more rows like the above")
        )


def _plain(value: Any) -> Any:
    if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
        return None
    if isinstance(value, np.generic):
        return value.item()
    return value
