"""Import a lender's own portfolio from CSV or Parquet files through a mapping file.

The mapping is a TOML file beside the data; it names the files, maps each linewise
column to the lender's column, and says how amounts, months and codes are written::

    currency = "CNY"
    amounts_in = "major"          # "major" (1234.56) or "minor" (123456 fen)
    date_format = "%Y/%m/%d"      # optional; ISO dates (and YYYY-MM months) otherwise
    source = "acme_bank"          # optional; the mapping file's stem otherwise

    [panel]
    file = "loans_monthly.csv"    # relative to the mapping file
    [panel.columns]               # linewise name = their column name
    account_id = "acct_no"
    month = "stmt_month"          # "2025-03" means the month end 2025-03-31
    on_time = "paid_ok"
    [panel.values.on_time]        # optional: their code = linewise value
    "Y" = true
    "N" = false
    [panel.constants]             # optional: a value for every row
    drawn_amount = "0"

    [customers]                   # same keys; [outcomes] is optional
    file = "customers.csv"

Major amounts are converted to integer minor units exactly, by splitting the text
on the decimal point (never through ``float``), with the currency's exponent from
:mod:`linewise.money`; more decimals than the currency has is a problem. Which
columns are amounts is listed in :data:`AMOUNT_COLUMNS`.

Every problem of the mapping and of every table is collected and raised at once as
:class:`~linewise.errors.SchemaMismatchError`: mapping problems name the TOML key
path, value problems name the file, the data row (counted from 1), the lender's
column, the rule and the value as written in the file. Nothing is returned
partially.
"""

from __future__ import annotations

import tomllib
from datetime import date
from pathlib import Path
from typing import Any, Literal, NamedTuple

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, ValidationError

from linewise.data.files import read_table
from linewise.data.portfolio import Portfolio
from linewise.data.schemas import CUSTOMER_SCHEMA, OUTCOME_SCHEMA, PANEL_SCHEMA, Schema
from linewise.data.validate import ROWS_LISTED_PER_RULE, plain_value
from linewise.errors import InputError, Problem, SchemaMismatchError
from linewise.money import CURRENCY_EXPONENTS, currency_exponent
from linewise.textfiles import read_toml

__all__ = [
    "AMOUNT_COLUMNS",
    "ImportMapping",
    "ParsedAmounts",
    "TableMapping",
    "import_tabular",
    "parse_major_amounts",
    "read_mapping",
]

TableName = Literal["panel", "customers", "outcomes"]
SCHEMAS: dict[TableName, Schema] = {
    "panel": PANEL_SCHEMA,
    "customers": CUSTOMER_SCHEMA,
    "outcomes": OUTCOME_SCHEMA,
}
# The schemas' "int" columns that hold money (the others are counts: dpd, age ...).
AMOUNT_COLUMNS: dict[TableName, tuple[str, ...]] = {
    "panel": ("credit_limit", "balance", "amount_due", "amount_paid", "drawn_amount"),
    "customers": ("income_monthly", "assets", "external_debt"),
    "outcomes": (),
}
# int64 holds 18 digits safely; more is not an amount anyone lends.
_DIGITS_MAX = 18
_DECIMAL = r"[+-]?(?:\d+\.?\d*|\.\d+)"
_YEAR_MONTH = r"\d{4}-\d{1,2}"

Scalar = bool | int | float | str | date


class TableMapping(BaseModel):
    """One table: its file, linewise name -> their column, value maps and constants."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    file: str
    columns: dict[str, str] = {}
    values: dict[str, dict[str, Scalar]] = {}
    constants: dict[str, Scalar] = {}


class ImportMapping(BaseModel):
    """The whole mapping file (see the module docstring)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    currency: str
    amounts_in: Literal["major", "minor"]
    date_format: str | None = None
    source: str | None = None
    panel: TableMapping
    customers: TableMapping
    outcomes: TableMapping | None = None


class ParsedAmounts(NamedTuple):
    """Minor units (``Int64``, NA where absent or unreadable) and which values were bad."""

    minor: pd.Series
    not_a_number: pd.Series
    too_many_decimals: pd.Series


def parse_major_amounts(values: pd.Series, currency: str) -> ParsedAmounts:
    """Major-unit amounts (text such as ``"-1,234.50"``) as exact integer minor units.

    Vectorised over the column: the text is split on ``.``, the fraction padded to
    the currency's exponent and the digits cast to ``int64``; no value passes
    through ``float`` or a per-row Python loop. Trailing zeros beyond the exponent
    are allowed (``"12.340"`` is 1234 fen), other extra decimals are not.
    """
    exponent = currency_exponent(currency)
    if pd.api.types.is_integer_dtype(values.dtype):
        minor = values.astype("Int64") * 10**exponent
        no = pd.Series(False, index=values.index)
        return ParsedAmounts(minor, no, no)
    present = values.notna()
    text = values.astype("str").where(present, "").astype("str")
    text = text.str.strip().str.replace(",", "", regex=False).str.replace("_", "", regex=False)
    present &= text != ""
    readable = text.str.fullmatch(_DECIMAL).fillna(value=False).astype(bool)
    whole, _, fraction = (part for _, part in text.str.partition(".").items())
    fraction = fraction.str.rstrip("0")
    too_many = readable & (fraction.str.len() > exponent)
    unsigned = whole.str.lstrip("+-").str.lstrip("0")
    too_long = readable & (unsigned.str.len() + exponent > _DIGITS_MAX)
    good = present & readable & ~too_many & ~too_long
    digits = whole.str.replace("+", "", regex=False) + fraction.str.pad(exponent, side="right", fillchar="0")
    digits = digits.where(good, "0").replace({"-": "0", "": "0"})
    minor = digits.astype("int64").astype("Int64").where(good, pd.NA)
    return ParsedAmounts(minor, present & (~readable | too_long), present & too_many)


def read_mapping(path: Path) -> tuple[ImportMapping, list[Problem]]:
    """The mapping in ``path`` and the problems found with its keys.

    Unknown keys are listed and ignored, so that the files can still be checked;
    any other problem raises :class:`SchemaMismatchError` at once. A file that is not
    TOML, or not within the bounds of :mod:`linewise.textfiles` (size, nesting), is
    refused with :class:`InputError`.
    """
    if not path.is_file():
        raise InputError.for_field(
            "file_not_found", where=str(path), field="mapping", rule="an existing TOML file", value=str(path)
        )
    try:
        raw = read_toml(path)  # within the bounds of linewise.textfiles
    except tomllib.TOMLDecodeError as exc:
        raise InputError.for_field(
            "mapping_not_toml", where=str(path), field="mapping", rule="valid TOML", value=str(exc)
        ) from None
    problems: list[Problem] = []
    while True:
        try:
            mapping = ImportMapping.model_validate(raw)
        except ValidationError as exc:
            extras = [error["loc"] for error in exc.errors() if error["type"] == "extra_forbidden"]
            problems.extend(_mapping_problems(exc, str(path)))
            if len(extras) != len(exc.errors()):
                raise SchemaMismatchError(problems) from None
            for loc in extras:
                _drop_key(raw, loc)
            continue
        problems.extend(_column_problems(mapping, str(path)))
        if mapping.currency not in CURRENCY_EXPONENTS:
            problems.append(
                Problem(str(path), None, "currency", f"one of {sorted(CURRENCY_EXPONENTS)}", mapping.currency)
            )
            raise SchemaMismatchError(problems)
        return mapping, problems


def import_tabular(mapping_path: Path) -> Portfolio:
    """The portfolio the mapping file at ``mapping_path`` describes, validated.

    Raises :class:`SchemaMismatchError` listing every problem of the mapping and of
    every file, or :class:`InputError` when the mapping file cannot be read.
    """
    mapping, problems = read_mapping(mapping_path)
    frames: dict[TableName, pd.DataFrame] = {}
    files: dict[TableName, _Table] = {}
    for name in SCHEMAS:
        table = getattr(mapping, name)
        if table is None:
            continue
        path = mapping_path.parent / table.file
        try:
            raw = read_table(path)
        except InputError as exc:
            problems.append(
                Problem(str(mapping_path), None, f"{name}.file", "a readable CSV or Parquet file", exc.detail)
            )
            continue
        files[name] = _Table(name, table, str(path), raw)
        frames[name] = files[name].convert(mapping, problems)
    if "panel" not in frames or "customers" not in frames:
        raise SchemaMismatchError(problems)
    source = mapping.source or mapping_path.stem
    try:
        portfolio = Portfolio.from_frames(
            frames["panel"], frames["customers"], frames.get("outcomes"), currency=mapping.currency, source=source
        )
    except SchemaMismatchError as exc:
        problems.extend(_translate(exc.problems, source, files))
    if problems:
        raise SchemaMismatchError(problems)
    return portfolio


class _Table:
    """One lender file and what its mapping makes of it; remembers what it reported."""

    def __init__(self, name: TableName, mapping: TableMapping, path: str, raw: pd.DataFrame) -> None:
        self.name, self.mapping, self.path, self.raw = name, mapping, path, raw
        self.schema = SCHEMAS[name]
        self.their: dict[str, str] = {}
        self.reported_cells: set[tuple[str, int]] = set()
        self.reported_columns: set[str] = set()

    def convert(self, mapping: ImportMapping, problems: list[Problem]) -> pd.DataFrame:
        out = pd.DataFrame(index=self.raw.index)
        known = {column.name for column in (*self.schema.columns, *self.schema.optional)}
        for name, theirs in self.mapping.columns.items():
            if name not in known:
                continue  # reported with the mapping
            if theirs not in self.raw.columns:
                problems.append(
                    Problem(self.path, None, theirs, f"a column of the file (mapped to {self.name}.{name})", "missing")
                )
                self.reported_columns.add(name)
                continue
            self.their[name] = theirs
            out[name] = self.raw[theirs]
        for name, value in self.mapping.constants.items():
            if name in known and name not in out.columns:
                self.their[name] = f"constants.{name}"
                text = _constant_text(value)  # "" stands for missing, as in a CSV
                out[name] = pd.Series(text or None, index=self.raw.index, dtype="str")
        for name in list(out.columns):
            out[name] = self._convert_column(name, out[name], mapping, problems)
        return out

    def _convert_column(
        self, name: str, values: pd.Series, mapping: ImportMapping, problems: list[Problem]
    ) -> pd.Series:
        codes = self.mapping.values.get(name)
        if codes is not None:
            text = values.astype("str").where(values.notna(), None)
            unknown = text.notna() & ~text.isin(list(codes))
            self._report(unknown, values, name, f"one of {list(codes)} ({self.name}.values.{name})", problems)
            values = text.map(codes).astype("object").where(~unknown, None)
            return values
        kind = self.schema.column(name).kind
        if name in AMOUNT_COLUMNS[self.name] and mapping.amounts_in == "major":
            parsed = parse_major_amounts(values, mapping.currency)
            self._report(parsed.not_a_number, values, name, "a decimal number such as 1234.56", problems)
            exponent = currency_exponent(mapping.currency)
            self._report(
                parsed.too_many_decimals,
                values,
                name,
                f"given with at most {exponent} decimals for {mapping.currency}",
                problems,
            )
            return parsed.minor
        if kind in ("month", "date") and not pd.api.types.is_datetime64_any_dtype(values):
            parsed_dates, bad, rule = _parse_dates(values, is_month=kind == "month", date_format=mapping.date_format)
            self._report(bad, values, name, rule, problems)
            return parsed_dates
        return values

    def _report(self, mask: pd.Series, values: pd.Series, name: str, rule: str, problems: list[Problem]) -> None:
        rows = np.flatnonzero(mask.to_numpy(dtype=bool, na_value=False))
        for position in rows[:ROWS_LISTED_PER_RULE]:
            problems.append(
                Problem(self.path, int(position) + 1, self._label(name), rule, plain_value(values.iloc[position]))
            )
        if len(rows) > ROWS_LISTED_PER_RULE:
            problems.append(
                Problem(
                    self.path,
                    None,
                    self._label(name),
                    rule,
                    f"{len(rows) - ROWS_LISTED_PER_RULE} more rows like the above",
                )
            )
        self.reported_cells.update((name, int(position) + 1) for position in rows)

    def _label(self, name: str) -> str:
        theirs = self.their[name]
        return theirs if theirs == name else f"{theirs} ({name})"

    def translate(self, problem: Problem) -> Problem | None:
        """A validation problem in the lender's terms, or None if already reported."""
        if problem.row is not None and (problem.column, problem.row) in self.reported_cells:
            return None
        if problem.row is None and problem.column in self.reported_columns:
            return None
        theirs = self.their.get(problem.column)
        if theirs is None:
            if problem.row is None and problem.value == "missing":
                return None  # an unmapped required column, reported with the mapping
            return Problem(self.path, problem.row, problem.column, problem.rule, problem.value)
        label = self._label(problem.column)
        value = problem.value
        if problem.row is not None and theirs in self.raw.columns:
            value = plain_value(self.raw[theirs].iloc[problem.row - 1])
        return Problem(self.path, problem.row, label, problem.rule, value)


def _parse_dates(values: pd.Series, *, is_month: bool, date_format: str | None) -> tuple[pd.Series, pd.Series, str]:
    """Dates (month ends for a month column), which present values were unreadable, the rule."""
    text = values.astype("str").where(values.notna(), "").str.strip()
    present = text != ""
    year_month = pd.Series(False, index=text.index)
    if date_format is not None:
        parsed = pd.to_datetime(text, format=date_format, errors="coerce")
        if is_month and "%d" not in date_format:
            year_month = present
        rule = f"a date as {date_format}"
    else:
        if is_month:
            year_month = text.str.fullmatch(_YEAR_MONTH).astype(bool)
        days = pd.to_datetime(text.where(~year_month, ""), format="ISO8601", errors="coerce")
        months = pd.to_datetime(text.where(year_month, ""), format="%Y-%m", errors="coerce")
        parsed = days.where(~year_month, months)
        rule = "a date as YYYY-MM-DD or a month as YYYY-MM" if is_month else "a date as YYYY-MM-DD"
    parsed = parsed.astype("datetime64[ns]")
    parsed = parsed.where(~year_month, parsed + pd.offsets.MonthEnd(0))
    return parsed, present & parsed.isna(), rule


def _translate(problems: list[Problem], source: str, files: dict[TableName, _Table]) -> list[Problem]:
    by_source = {f"{source}/{name}": table for name, table in files.items()}
    out = []
    for problem in problems:
        table = by_source.get(problem.source)
        translated = problem if table is None else table.translate(problem)
        if translated is not None:
            out.append(translated)
    return out


def _mapping_problems(exc: ValidationError, source: str) -> list[Problem]:
    problems, seen = [], set()
    for error in exc.errors():
        loc = [str(part) for part in error["loc"]]
        while len(loc) > 1 and loc[-1] in {"bool", "int", "float", "str", "date"}:
            loc.pop()  # one error per key, not one per member of a union
        path = ".".join(loc)
        if path in seen:
            continue
        seen.add(path)
        if error["type"] == "extra_forbidden":
            parent = ".".join(loc[:-1]) or "the mapping"
            problems.append(Problem(source, None, parent, f"keys among {_known_keys(loc[:-1])}", loc[-1]))
        elif error["type"] == "missing":
            problems.append(Problem(source, None, path, "set", "missing"))
        else:
            rule = str(error["msg"]).removeprefix("Input should be ")
            problems.append(Problem(source, None, path, rule, plain_value(error["input"])))
    return problems


def _known_keys(loc: list[str]) -> list[str]:
    if not loc:
        return list(ImportMapping.model_fields)
    if len(loc) == 1 and loc[0] in SCHEMAS:
        return list(TableMapping.model_fields)
    return []


def _drop_key(raw: dict[str, Any], loc: tuple[int | str, ...]) -> None:
    node: Any = raw
    for part in loc[:-1]:
        node = node[part]
    node.pop(loc[-1], None)


def _column_problems(mapping: ImportMapping, source: str) -> list[Problem]:
    """Column names the schemas do not know, value maps of unmapped columns, unmapped required columns."""
    problems = []
    for name, schema in SCHEMAS.items():
        table: TableMapping | None = getattr(mapping, name)
        if table is not None:
            problems.extend(_table_problems(name, table, schema, source))
    return problems


def _table_problems(name: str, table: TableMapping, schema: Schema, source: str) -> list[Problem]:
    known = [column.name for column in (*schema.columns, *schema.optional)]
    rule = f"a column of the {name} table, one of {known}"
    problems = [
        Problem(source, None, f"{name}.{section}", rule, key)
        for section in ("columns", "values", "constants")
        for key in getattr(table, section)
        if key not in known
    ]
    problems += [
        Problem(source, None, f"{name}.values", f"a column mapped in [{name}.columns]", key)
        for key in table.values
        if key in known and key not in table.columns
    ]
    problems += [
        Problem(source, None, f"{name}.constants", f"a column not also mapped in [{name}.columns]", key)
        for key in table.constants
        if key in table.columns
    ]
    problems += [
        Problem(source, None, f"{name}.columns.{column}", f"set (a required column of the {name} table)", "missing")
        for column in schema.required_names
        if column not in table.columns and column not in table.constants
    ]
    return problems


def _constant_text(value: Scalar) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, date):
        return value.isoformat()
    return str(value)
