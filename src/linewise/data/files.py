"""Reading and writing tables and portfolio directories (CSV or Parquet).

A portfolio directory holds ``panel.parquet``, ``customers.parquet``, optionally
``outcomes.parquet``, and ``portfolio.json`` (currency, source, attribution).
Dates are written as Parquet ``date32``.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from linewise.data.portfolio import Portfolio
from linewise.decision_schema import DECISION_COLUMNS, decision_arrow_schema
from linewise.errors import InputError
from linewise.money import CURRENCY_EXPONENTS
from linewise.textfiles import read_json

__all__ = [
    "MANIFEST_FILE",
    "read_decisions",
    "read_portfolio",
    "read_table",
    "write_decisions",
    "write_portfolio",
    "write_table",
]

MANIFEST_FILE = "portfolio.json"


def read_table(path: Path) -> pd.DataFrame:
    """A CSV or Parquet file as a frame; CSV values are read as text, types come later."""
    if not path.is_file():
        raise InputError.for_field(
            "file_not_found", where=str(path), field="file", rule="an existing CSV or Parquet file", value=str(path)
        )
    suffix = "".join(path.suffixes[-2:]).lower()
    try:
        if path.suffix.lower() == ".parquet":
            return pd.read_parquet(path)
        if suffix.endswith((".csv", ".csv.gz")):
            return pd.read_csv(path, dtype="str", keep_default_na=False, na_values=[""])
    except (OSError, ValueError, pa.ArrowException) as exc:
        raise InputError.for_field(
            "file_unreadable", where=str(path), field="file", rule="a readable CSV or Parquet file", value=str(exc)
        ) from None
    raise InputError.for_field(
        "file_type_unknown", where=str(path), field="file", rule="a .csv, .csv.gz or .parquet file", value=path.name
    )


def write_table(frame: pd.DataFrame, path: Path) -> None:
    """Write ``frame`` as Parquet, with datetime columns stored as dates; creates missing folders."""
    table = pa.Table.from_pandas(frame, preserve_index=False)
    for index, field in enumerate(table.schema):
        if pa.types.is_timestamp(field.type):
            table = table.set_column(index, field.name, table.column(index).cast(pa.date32()))
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, path)


def read_decisions(path: Path) -> pd.DataFrame:
    """Decisions as :func:`write_decisions` writes them; ``decision_incomplete`` when a column is missing."""
    frame = read_table(path)
    missing = [name for name in DECISION_COLUMNS if name not in frame.columns]
    if missing:
        raise InputError.for_field(
            "decision_incomplete",
            where=str(path),
            field="columns",
            rule="the decision contract's columns (linewise review --out writes them)",
            value=missing[:5],
        )
    return frame


def write_decisions(decisions: pd.DataFrame, path: Path) -> None:
    """Write decisions as Parquet in the decision contract's columns and types; creates missing folders."""
    frame = decisions[list(DECISION_COLUMNS)]
    table = pa.Table.from_pandas(frame, schema=decision_arrow_schema(), preserve_index=False)
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, path)


def write_portfolio(portfolio: Portfolio, directory: Path) -> list[Path]:
    """Write the portfolio's tables and manifest into ``directory``; the paths written."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name in ("panel", "customers", "outcomes"):
        frame = getattr(portfolio, name)
        if frame is not None:
            path = directory / f"{name}.parquet"
            write_table(frame, path)
            written.append(path)
    manifest = {
        "currency": portfolio.currency,
        "source": portfolio.source,
        "attribution": portfolio.attribution,
        "accounts": portfolio.n_accounts,
        "panel_rows": len(portfolio.panel),
    }
    (directory / MANIFEST_FILE).write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    written.append(directory / MANIFEST_FILE)
    return written


def read_portfolio(directory: Path) -> Portfolio:
    """The validated portfolio in ``directory`` (see the module docstring for the layout)."""
    manifest_path = directory / MANIFEST_FILE
    if not manifest_path.is_file():
        raise InputError.for_field(
            "portfolio_not_found",
            where=str(directory),
            field=MANIFEST_FILE,
            rule="present in a portfolio directory (write one with `linewise data uci --out DIR`)",
            value=str(manifest_path),
        )
    manifest = _read_manifest(manifest_path)
    outcomes_path = directory / "outcomes.parquet"
    # Problems are reported against the directory; the portfolio keeps its origin's name.
    portfolio = Portfolio.from_frames(
        read_table(directory / "panel.parquet"),
        read_table(directory / "customers.parquet"),
        read_table(outcomes_path) if outcomes_path.exists() else None,
        currency=manifest["currency"],
        source=str(directory),
        attribution=manifest.get("attribution", ""),
    )
    return dataclasses.replace(portfolio, source=manifest.get("source", str(directory)))


# The manifest's text fields; anything else in it (counts) is informative only.
_MANIFEST_TEXT = ("currency", "source", "attribution")


def _read_manifest(path: Path) -> dict[str, str]:
    """The text fields of ``portfolio.json``: currency (required), source and attribution.

    Raises :class:`InputError` (``portfolio_manifest_invalid``) naming the first field
    that is missing or not text, or the file's syntax error; the file is read within
    the bounds of :mod:`linewise.textfiles`.
    """
    try:
        raw = read_json(path)
    except json.JSONDecodeError as exc:
        raise _manifest_error(path, "file", "valid JSON", f"{exc.msg} at line {exc.lineno}") from None
    if not isinstance(raw, dict):
        raise _manifest_error(path, "file", "a JSON object of currency, source and attribution", type(raw).__name__)
    if "currency" not in raw:
        raise _manifest_error(path, "currency", "given", "nothing")
    for field in _MANIFEST_TEXT:
        if field in raw and not isinstance(raw[field], str):
            raise _manifest_error(path, field, "text", raw[field])
    if raw["currency"] not in CURRENCY_EXPONENTS:
        raise _manifest_error(path, "currency", f"one of {sorted(CURRENCY_EXPONENTS)}", raw["currency"])
    return {field: raw[field] for field in _MANIFEST_TEXT if field in raw}


def _manifest_error(path: Path, field: str, rule: str, value: object) -> InputError:
    return InputError.for_field("portfolio_manifest_invalid", where=str(path), field=field, rule=rule, value=value)
