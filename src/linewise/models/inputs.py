"""Model inputs from any table: features, a binary target, ids; nothing dropped silently."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from linewise.data.portfolio import Portfolio
from linewise.errors import InputError, Problem, SchemaMismatchError
from linewise.features.compute import compute_features

__all__ = [
    "ModelInputs",
    "categorical_features",
    "features_from_table",
    "inputs_from_portfolio",
    "inputs_from_table",
    "portfolio_outcome_as_of",
    "split_kinds",
]


@dataclass(frozen=True)
class ModelInputs:
    """``features`` (numeric columns as float64, the rest as text), ``bad`` (0/1), ``ids``."""

    features: pd.DataFrame
    bad: np.ndarray
    ids: pd.Index

    @property
    def bad_rate(self) -> float:
        """Share of rows that went bad."""
        return float(self.bad.mean())


def split_kinds(features: pd.DataFrame) -> tuple[list[str], list[str]]:
    """Names of the numeric and of the categorical columns."""
    numeric = [c for c in features.columns if pd.api.types.is_numeric_dtype(features[c])]
    return numeric, [c for c in features.columns if c not in numeric]


def _as_numeric_when_possible(column: pd.Series) -> pd.Series:
    if pd.api.types.is_bool_dtype(column):
        return column.astype("float64")
    if pd.api.types.is_numeric_dtype(column):
        return column.astype("float64")
    text = column.astype("str").str.strip().where(column.notna(), None)
    text = text.where(text != "", None)
    numbers = pd.to_numeric(text, errors="coerce")
    if numbers.notna().sum() == text.notna().sum():
        return numbers.astype("float64")
    return text


def categorical_features(model: object) -> list[str]:
    """The features a fitted scorecard or GBM treats as categories (text)."""
    table = getattr(model, "table_", None)
    if table is not None:
        return [feature.name for feature in table.features if feature.kind == "categorical"]
    return list(getattr(model, "categories_", {}))


def _as_text(column: pd.Series) -> pd.Series:
    if pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column):
        # A text category read back from a typed file: 1.0 was written "1".
        numbers = column.astype("float64")
        text = numbers.map(lambda x: f"{x:.17g}" if x != int(x) else str(int(x)), na_action="ignore")
        return text.astype("object").where(numbers.notna(), None)
    text = column.astype("str").str.strip().where(column.notna(), None)
    return text.where(text != "", None)


def inputs_from_table(
    table: pd.DataFrame,
    *,
    target: str,
    bad_value: str = "1",
    id_column: str | None = None,
    exclude: Sequence[str] = (),
    source: str = "data",
) -> ModelInputs:
    """Features and target of ``table``; every problem named at once.

    The target must hold exactly two values, one of them ``bad_value`` (compared as
    text, so ``1``, ``1.0``, ``"Bad"`` all work as the file wrote them); a row
    without a target is an error, not a silent drop. Every column other than the
    target, the id and ``exclude`` is a feature: numeric when all its present values
    are numbers, categorical otherwise. Missing values stay missing.
    """
    problems = [
        Problem(source, None, name, "a column of the table", "missing")
        for name in (target, id_column, *exclude)
        if name and name not in table.columns
    ]
    if problems:
        raise SchemaMismatchError(problems)
    raw_target = table[target]
    text_target = raw_target.astype("str").str.strip()
    normalised_bad = _normalise(bad_value)
    normalised = text_target.map(_normalise)
    missing = raw_target.isna() | (text_target == "")
    for position in np.flatnonzero(missing.to_numpy()):
        problems.append(Problem(source, int(position) + 1, target, "present (0/1 target)", None))
    values = sorted(set(normalised[~missing]))
    if normalised_bad not in values:
        problems.append(
            Problem(source, None, target, f"a column holding the bad value {bad_value!r}", f"values {values[:5]}")
        )
    elif len(values) != 2:
        problems.append(
            Problem(source, None, target, "binary (exactly two values)", f"{len(values)} values, e.g. {values[:5]}")
        )
    if problems:
        raise SchemaMismatchError(problems)
    ids = pd.Index(table[id_column].astype("str") if id_column else table.index.astype("str"), name=id_column or "row")
    dropped = {target, *(exclude or ()), *([id_column] if id_column else [])}
    features = pd.DataFrame(
        {name: _as_numeric_when_possible(table[name]) for name in table.columns if name not in dropped}
    )
    if features.shape[1] == 0:
        raise InputError.for_field(
            "no_features",
            where=source,
            field="columns",
            rule="at least one feature besides target, id and excluded",
            value=list(table.columns),
        )
    features.index = ids
    return ModelInputs(features=features, bad=(normalised == normalised_bad).to_numpy().astype("int8"), ids=ids)


def features_from_table(
    table: pd.DataFrame, *, id_column: str | None, source: str, text_columns: Collection[str] = ()
) -> pd.DataFrame:
    """A table's columns as model features, typed as :func:`inputs_from_table` types them.

    ``text_columns`` (a model's categorical features) stay text whatever values this
    batch holds, so that a category such as ``"1"`` scores the same in any batch.
    """
    if id_column and id_column not in table.columns:
        raise SchemaMismatchError([Problem(source, None, id_column, "a column of the table", "missing")])
    ids = table[id_column].astype("str") if id_column else table.index.astype("str")
    features = pd.DataFrame(
        {
            name: _as_text(table[name]) if name in text_columns else _as_numeric_when_possible(table[name])
            for name in table.columns
            if name != id_column
        }
    )
    features.index = pd.Index(ids, name=id_column or "row")
    return features


def _normalise(value: object) -> str:
    text = str(value).strip()
    try:
        number = float(text)
    except ValueError:
        return text
    return f"{number:g}"


def portfolio_outcome_as_of(portfolio: Portfolio) -> pd.Timestamp:
    """The month the portfolio's outcomes are observed from (the last panel month if none)."""
    if portfolio.outcomes is not None and len(portfolio.outcomes):
        months = portfolio.outcomes["as_of"].unique()
        if len(months) == 1:
            return pd.Timestamp(months[0])
    return portfolio.months[-1]


def inputs_from_portfolio(portfolio: Portfolio, as_of: date | pd.Timestamp | None = None) -> ModelInputs:
    """Registry features as of ``as_of`` (default: the outcomes' month) and the outcome flags.

    Only accounts with both a feature row and an outcome are used; an account with
    features but no outcome is an error, never a silent drop.
    """
    if portfolio.outcomes is None:
        raise InputError.for_field(
            "outcome_missing",
            where=portfolio.source,
            field="outcomes",
            rule="present to train a model (outcomes.parquet)",
            value=None,
        )
    when = pd.Timestamp(as_of) if as_of is not None else portfolio_outcome_as_of(portfolio)
    features = compute_features(portfolio.panel, portfolio.customers, when)
    outcomes = portfolio.outcomes.set_index("account_id")["default"]
    unknown = features.index.difference(outcomes.index)
    if len(unknown):
        raise InputError.for_field(
            "outcome_missing",
            where=portfolio.source,
            field="outcomes",
            rule="known for every account with a panel row at the as-of month",
            value=f"{len(unknown)} accounts, e.g. {list(unknown[:3])}",
        )
    usable = features.loc[:, features.notna().any()]
    bad = outcomes.reindex(usable.index).astype("int8").to_numpy()
    return ModelInputs(features=usable, bad=bad, ids=usable.index)
