"""Check a frame against a schema and return it in canonical types, or list every problem.

Canonical types: ids ``str``; months and dates ``datetime64[ns]`` at midnight;
amounts and counts nullable ``Int64``; flags nullable ``boolean``; scores
``float64``; categories ``str``. Columns a schema does not know are kept as they are.

Vectorised over the whole frame: a 12-million-row panel validates in seconds.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from linewise.data.schemas import PANEL_SCHEMA, Column, Schema
from linewise.errors import Problem, SchemaMismatchError

__all__ = ["validate_table"]

# Per column and rule, the rows listed by name; the rest are counted in one line.
ROWS_LISTED_PER_RULE = 200

_TRUE = {"true", "t", "yes", "y", "1", "1.0"}
_FALSE = {"false", "f", "no", "n", "0", "0.0"}


class _Problems:
    def __init__(self, source: str) -> None:
        self.source = source
        self.items: list[Problem] = []

    def add(self, mask: pd.Series | np.ndarray, values: pd.Series, column: str, rule: str) -> None:
        positions = np.flatnonzero(np.asarray(mask, dtype=bool))
        for position in positions[:ROWS_LISTED_PER_RULE]:
            value = values.iloc[position]
            self.items.append(Problem(self.source, int(position) + 1, column, rule, plain_value(value)))
        if len(positions) > ROWS_LISTED_PER_RULE:
            more = len(positions) - ROWS_LISTED_PER_RULE
            self.items.append(Problem(self.source, None, column, rule, f"{more} more rows like the above"))

    def add_file_level(self, column: str, rule: str, value: Any) -> None:
        self.items.append(Problem(self.source, None, column, rule, value))


def plain_value(value: Any) -> Any:
    """A cell as it reads in an error message: None for missing, dates as ISO text."""
    if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
        return None
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, pd.Timestamp):
        return value.date().isoformat()
    return value


def validate_table(frame: pd.DataFrame, schema: Schema, source: str) -> pd.DataFrame:
    """``frame`` in canonical types, or :class:`SchemaMismatchError` naming every problem.

    ``source`` names the file (or frame) in the messages. Rows are counted from 1.
    """
    problems = _Problems(source)
    missing = [name for name in schema.required_names if name not in frame.columns]
    for name in missing:
        problems.add_file_level(name, f"a column of the {schema.name} table", "missing")
    out = frame.reset_index(drop=True).copy()
    for column in (*schema.columns, *schema.optional):
        if column.name in out.columns:
            out[column.name] = _check_column(out[column.name], column, problems)
    if not missing:
        _check_key(out, schema, problems)
        if schema is PANEL_SCHEMA and not problems.items:
            _check_month_gaps(out, problems)
    if problems.items:
        raise SchemaMismatchError(problems.items)
    return out


def _check_column(raw: pd.Series, column: Column, problems: _Problems) -> pd.Series:
    converted, unreadable = _convert(raw, column)
    problems.add(unreadable, raw, column.name, _kind_rule(column))
    if not column.nullable:
        problems.add(converted.isna() & ~unreadable, raw, column.name, "present (not empty)")
    if column.kind in ("int", "float"):
        numbers = converted.astype("float64")
        if column.minimum is not None:
            problems.add(numbers < column.minimum, raw, column.name, f"at least {column.minimum:g}")
        if column.maximum is not None:
            problems.add(numbers > column.maximum, raw, column.name, f"at most {column.maximum:g}")
    if column.kind == "month":
        not_month_end = converted.notna() & ~converted.dt.is_month_end
        problems.add(not_month_end, raw, column.name, "a month end (e.g. 2005-09-30)")
    if column.allowed:
        outside = converted.notna() & ~converted.isin(column.allowed)
        problems.add(outside, raw, column.name, f"one of {list(column.allowed)}")
    return converted


def _kind_rule(column: Column) -> str:
    return {
        "id": "an identifier",
        "month": "a date as YYYY-MM-DD",
        "date": "a date as YYYY-MM-DD",
        "int": "a whole number (amounts in minor units)",
        "float": "a number",
        "bool": "true or false",
        "category": "text",
    }[column.kind]


def _convert(raw: pd.Series, column: Column) -> tuple[pd.Series, pd.Series]:
    """The column in its canonical type, and which present values could not be read."""
    present = raw.notna()
    nothing_unreadable = pd.Series(False, index=raw.index)
    if column.kind in ("id", "category"):
        text = raw.astype("str").str.strip()
        return text.where(present & (text != ""), None), nothing_unreadable
    if column.kind in ("month", "date"):
        parsed = _to_datetime(raw)
        unreadable = present & parsed.isna()
        has_time = parsed.notna() & (parsed != parsed.dt.normalize())
        return parsed.dt.normalize(), unreadable | has_time
    if column.kind == "bool":
        return _to_bool(raw, present)
    numbers = pd.to_numeric(raw, errors="coerce")
    unreadable = present & numbers.isna()
    if column.kind == "float":
        return numbers.astype("float64"), unreadable
    fractional = numbers.notna() & (numbers != np.floor(numbers.astype("float64")))
    whole = numbers.where(~fractional)
    return whole.astype("Int64"), unreadable | fractional


def _to_datetime(raw: pd.Series) -> pd.Series:
    if pd.api.types.is_datetime64_any_dtype(raw):
        parsed = pd.to_datetime(raw)
    else:
        parsed = pd.to_datetime(raw.astype("str").where(raw.notna(), None), errors="coerce", format="ISO8601")
    if parsed.dt.tz is not None:
        parsed = parsed.dt.tz_localize(None)
    return parsed.astype("datetime64[ns]")


def _to_bool(raw: pd.Series, present: pd.Series) -> tuple[pd.Series, pd.Series]:
    if pd.api.types.is_bool_dtype(raw):
        return raw.astype("boolean"), pd.Series(False, index=raw.index)
    text = raw.astype("str").str.strip().str.lower()
    is_true = present & text.isin(_TRUE)
    is_false = present & text.isin(_FALSE)
    out = pd.Series(pd.NA, index=raw.index, dtype="boolean")
    out[is_true] = True
    out[is_false] = False
    return out, present & ~is_true & ~is_false


def _check_key(frame: pd.DataFrame, schema: Schema, problems: _Problems) -> None:
    key = list(schema.key)
    duplicated = frame.duplicated(key, keep="first").to_numpy()
    if not duplicated.any():
        return
    label = ", ".join(key)
    keys = pd.Series("", index=frame.index, dtype="str")
    keys[duplicated] = frame.loc[duplicated, key].astype("str").agg(" ".join, axis=1)
    problems.add(duplicated, keys, label, f"unique: one {schema.name} row per ({label})")


def _check_month_gaps(panel: pd.DataFrame, problems: _Problems) -> None:
    order = np.lexsort((panel["month"].to_numpy(), panel["account_id"].to_numpy()))
    accounts = panel["account_id"].to_numpy()[order]
    months = panel["month"].dt.year.to_numpy()[order] * 12 + panel["month"].dt.month.to_numpy()[order]
    same_account = np.r_[False, accounts[1:] == accounts[:-1]]
    gap = np.r_[False, np.diff(months) > 1] & same_account
    mask = np.zeros(len(panel), dtype=bool)
    mask[order[gap]] = True
    problems.add(mask, panel["month"], "month", "the month after the account's previous row (no month gaps)")
