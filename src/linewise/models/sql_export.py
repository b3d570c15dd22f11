"""A fitted scorecard as one SQL expression, for scoring inside a database.

The expression is the scorecard table read aloud: for each feature a ``CASE`` whose
branches are the bins' points, summed, then turned into the calibrated score (and,
if asked, the PD) exactly as :meth:`RiskModel.score` and
:meth:`RiskModel.predict_proba` do. It is written for three dialects, ``sqlite``,
``postgresql`` and ``spark``, and runs unchanged on a table whose columns hold the
features as :func:`~linewise.models.inputs.features_from_table` reads them
(numbers as numbers, categories as trimmed text, missing as ``NULL``).

Each feature's ``CASE`` follows the Python lookup in
:meth:`ScorecardFeature.points_of`, in its order of precedence:

- numeric: missing (``NULL``, and ``NaN`` where the dialect has it) → missing
  points; a special code → special points; otherwise the bin, whose lower edge is
  closed: ``x < s0``, ``s0 <= x < s1``, ..., ``x >= s_last`` (``np.searchsorted``
  with ``side="right"``);
- categorical: missing → missing points; a category of a group → the group's
  points; an unknown category → missing points (a category listed in two groups
  belongs to the later one, as in Python).

Every number is written as the IEEE double Python holds (``repr``, which round-trips),
typed as a double in each dialect (PostgreSQL and Spark would otherwise read
``1.5`` as an exact decimal), so the database computes in the same arithmetic as
Python. The points are summed left to right in the table's feature order.

Python's score and PD are computed from ``z``, the calibrated log-odds of default:
``z = a + b * (offset - points) / factor`` (calibration ``a, b``), the same
operations in the same order, so a database that neither fuses nor reorders float
operations gets the same ``z`` to the bit. Then:

- PD ``= 0.5 * (1 + tanh(z / 2))``, Python's sigmoid written the same way (``tanh``
  exists in PostgreSQL 12+, Spark, and SQLite 3.35+ built with its math functions,
  as Python's usually is; where it is missing, export the score alone with
  ``include_pd=False``). ``tanh`` saturates, so nothing overflows. The database's
  ``tanh`` may differ from numpy's in the last bit: the PDs agree to about 1e-16.
- score ``= offset - factor * z``, clamped to the scores of PD ``1 - 1e-12`` and
  ``1e-12``, where Python's ``logit`` clips. Python computes it as
  ``offset - factor * logit(sigmoid(z))``, a round trip that returns ``z`` only up
  to ``~2e-16 / (pd * (1 - pd))``: the scores agree to about
  ``factor * 4e-16 / (pd * (1 - pd))`` points (about 1e-12 for PDs between 1% and
  99%, 1e-9 at a PD of 1e-5). The SQL score is the more exact of the two.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
from sklearn.utils.validation import check_is_fitted

from linewise.errors import InputError, Problem, SchemaMismatchError
from linewise.models.base import PointsScaling, RiskModel
from linewise.models.calibration import logit
from linewise.models.scorecard import Scorecard, ScorecardFeature, ScorecardTable

__all__ = [
    "SQL_DIALECTS",
    "SqlDialect",
    "render_pd_sql",
    "render_score_sql",
    "render_select_sql",
]

SqlDialect = Literal["sqlite", "postgresql", "spark"]
SQL_DIALECTS: tuple[SqlDialect, ...] = ("sqlite", "postgresql", "spark")


@dataclass(frozen=True)
class _Dialect:
    """How one dialect writes identifiers, doubles, strings, NaN tests and clamps."""

    name: SqlDialect
    quote: str
    greatest: str
    least: str

    def identifier(self, name: str) -> str:
        return f"{self.quote}{name.replace(self.quote, self.quote * 2)}{self.quote}"

    def number(self, value: float) -> str:
        number = float(value)
        assert not math.isnan(number), "NaN has no SQL literal; the table was validated"
        if math.isinf(number):
            sign = "-" if number < 0 else ""
            return {
                "sqlite": f"{sign}9e999",
                "postgresql": f"'{sign}Infinity'::float8",
                "spark": f"CAST('{sign}Infinity' AS DOUBLE)",
            }[self.name]
        # repr round-trips; ``::float8`` and ``D`` make it a double, not a decimal.
        # A leading minus is safe: every operator is written with spaces around it.
        return {"sqlite": repr(number), "postgresql": f"{number!r}::float8", "spark": f"{number!r}D"}[self.name]

    def string(self, text: str) -> str:
        if self.name == "spark":  # Spark reads backslash escapes in string literals
            return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"
        return "'" + text.replace("'", "''") + "'"

    def is_missing(self, column: str) -> str:
        # PostgreSQL and Spark store NaN, which sorts above every number; Python
        # reads it as missing. SQLite stores NaN as NULL.
        nan = {"sqlite": "", "postgresql": f" OR {column} = 'NaN'::float8", "spark": f" OR isnan({column})"}[self.name]
        return f"{column} IS NULL{nan}"


_DIALECTS = {
    "sqlite": _Dialect("sqlite", '"', greatest="MAX", least="MIN"),
    "postgresql": _Dialect("postgresql", '"', greatest="GREATEST", least="LEAST"),
    "spark": _Dialect("spark", "`", greatest="GREATEST", least="LEAST"),
}


def render_score_sql(model: RiskModel, *, dialect: SqlDialect = "sqlite") -> str:
    """The SQL expression of ``model.score`` for one row of a table of features.

    Parameters
    ----------
    model
        A fitted or loaded :class:`Scorecard`; any other model is refused.
    dialect
        ``sqlite``, ``postgresql`` or ``spark``.

    Raises
    ------
    InputError
        ``model_not_exportable`` for a model that is not a scorecard,
        ``sql_dialect_unknown`` for another dialect, ``schema_mismatch`` for a
        scorecard table with non-finite numbers, unsorted splits or a point
        missing for a bin.
    """
    scorecard, sql = _checked(model, dialect)
    return _score_of(_log_odds_sql(scorecard, sql), scorecard.points_scaling, sql)


def render_pd_sql(model: RiskModel, *, dialect: SqlDialect = "sqlite") -> str:
    """The SQL expression of ``model.predict_proba`` (see :func:`render_score_sql`)."""
    scorecard, sql = _checked(model, dialect)
    return _pd_of(_log_odds_sql(scorecard, sql), sql)


def render_select_sql(
    model: RiskModel, *, table: str, id_column: str, dialect: SqlDialect = "sqlite", include_pd: bool = True
) -> str:
    """``SELECT id, score[, pd]`` for every row of ``table``.

    ``table`` may be qualified (``schema.table``): each dotted part is quoted on its
    own. With the PD, the points are summed once, in a derived table (``scored``)
    holding the calibrated log-odds of default (``log_odds``), which the score and
    the PD are read from.
    """
    scorecard, sql = _checked(model, dialect)
    if not table.strip() or not id_column.strip():
        raise InputError.for_field(
            "sql_name_empty", where="sql export", field="table and id", rule="non-empty names", value=(table, id_column)
        )
    source = ".".join(sql.identifier(part) for part in table.split("."))
    key = sql.identifier(id_column)
    log_odds = _log_odds_sql(scorecard, sql)
    if not include_pd:
        score = _score_of(log_odds, scorecard.points_scaling, sql)
        return f"SELECT\n  {key},\n  {_indent(score, 1)} AS score\nFROM {source}"
    score = _score_of("log_odds", scorecard.points_scaling, sql)
    inner = f"SELECT\n    {key},\n    {_indent(log_odds, 2)} AS log_odds\n  FROM {source}"
    return f"SELECT\n  {key},\n  {score} AS score,\n  {_pd_of('log_odds', sql)} AS pd\nFROM (\n  {inner}\n) AS scored"


def _checked(model: RiskModel, dialect: str) -> tuple[Scorecard, _Dialect]:
    if not isinstance(model, Scorecard):
        raise InputError.for_field(
            "model_not_exportable",
            where="model",
            field="kind",
            rule="'scorecard' (only scorecards export to SQL)",
            value=model.kind,
        )
    if dialect not in _DIALECTS:
        raise InputError.for_field(
            "sql_dialect_unknown", where="dialect", field="dialect", rule=f"one of {list(SQL_DIALECTS)}", value=dialect
        )
    check_is_fitted(model, "table_")
    problems = [problem for feature in model.table_.features for problem in _problems(feature)]
    if problems:
        raise SchemaMismatchError(problems)
    return model, _DIALECTS[dialect]


def _problems(feature: ScorecardFeature) -> list[Problem]:
    numbers = {
        "points": feature.points,
        "missing_points": (feature.missing_points,),
        "special_points": (feature.special_points,),
        "splits": feature.splits,
    }
    problems = [
        Problem("scorecard", None, f"{feature.name}.{field}", "finite numbers", list(values))
        for field, values in numbers.items()
        if not np.all(np.isfinite(values))
    ]
    if np.any(np.diff(feature.splits) <= 0):
        problems.append(
            Problem("scorecard", None, f"{feature.name}.splits", "strictly increasing", list(feature.splits))
        )
    expected = len(feature.splits) + 1 if feature.kind == "numeric" else len(feature.categories)
    if len(feature.points) != expected:
        problems.append(
            Problem("scorecard", None, f"{feature.name}.points", f"one per bin ({expected})", len(feature.points))
        )
    return problems


def _points_sql(table: ScorecardTable, sql: _Dialect) -> str:
    if not table.features:
        return sql.number(0.0)
    cases = [_numeric_case(f, sql) if f.kind == "numeric" else _categorical_case(f, sql) for f in table.features]
    return "\n+ ".join(cases)


def _numeric_case(feature: ScorecardFeature, sql: _Dialect) -> str:
    column = sql.identifier(feature.name)
    branches = [(sql.is_missing(column), feature.missing_points)]
    codes = [code for code in feature.special_codes if not math.isnan(code)]
    if codes:
        branches.append((f"{column} IN ({_listed([sql.number(c) for c in codes])})", feature.special_points))
    branches += [
        (f"{column} < {sql.number(split)}", points)
        for split, points in zip(feature.splits, feature.points, strict=False)
    ]
    return _case(branches, feature.points[-1], sql)


def _categorical_case(feature: ScorecardFeature, sql: _Dialect) -> str:
    column = sql.identifier(feature.name)
    # The later group wins a category listed twice, as in the Python lookup.
    owner = {category: index for index, group in enumerate(feature.categories) for category in group}
    branches = [(f"{column} IS NULL", feature.missing_points)]
    for index, points in enumerate(feature.points):
        members = [sql.string(c) for c in feature.categories[index] if owner[c] == index]
        if members:
            branches.append((f"{column} IN ({_listed(members)})", points))
    return _case(branches, feature.missing_points, sql)


def _case(branches: Sequence[tuple[str, float]], otherwise: float, sql: _Dialect) -> str:
    lines = [f"  WHEN {condition} THEN {sql.number(points)}" for condition, points in branches]
    return "(CASE\n" + "\n".join(lines) + f"\n  ELSE {sql.number(otherwise)}\nEND)"


def _log_odds_sql(scorecard: Scorecard, sql: _Dialect) -> str:
    """``z``: the calibration applied to the log-odds of the summed points."""
    n = sql.number
    scaling, calibration = scorecard.table_.scaling, scorecard.calibration_
    points = _points_sql(scorecard.table_, sql)
    raw = f"({n(scaling.offset)} - (\n  {_indent(points, 1)}\n)) / {n(scaling.factor)}"
    return f"{n(calibration.intercept)} + {n(calibration.slope)} * {raw}"


def _score_of(log_odds: str, scaling: PointsScaling, sql: _Dialect) -> str:
    n = sql.number
    # Python's logit clips the PD to [1e-12, 1 - 1e-12]: the score is clamped there.
    low, high = (float(value) for value in scaling.points(logit(np.array([1.0, 0.0]))))
    score = f"{n(scaling.offset)} - {n(scaling.factor)} * ({log_odds})"
    return f"{sql.greatest}({n(low)}, {sql.least}({n(high)}, {score}))"


def _pd_of(log_odds: str, sql: _Dialect) -> str:
    # Python's sigmoid, written the same way: tanh saturates, so nothing overflows.
    n = sql.number
    return f"{n(0.5)} * ({n(1.0)} + TANH({n(0.5)} * ({log_odds})))"


def _listed(items: Sequence[str]) -> str:
    return ", ".join(items)


def _indent(text: str, levels: int) -> str:
    return text.replace("\n", "\n" + "  " * levels)
