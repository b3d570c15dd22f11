"""Behaviour scorecard: optbinning bins with monotone trends, points fitted bin by bin.

The fitted scorecard *is* its table (:class:`ScorecardTable`): for each feature its
bins (numeric split points or category groups), the points of each bin, of the
missing bin and of the special-codes bin. Scoring, the JSON artefact and the SQL
export all read that one table, so they cannot disagree.

The points of every bin of every feature are fitted together, by one penalised
logistic regression on the bins (not one coefficient per feature on its WoE): a
feature's bins then carry what it says *given* the other features, which the
marginal WoE of correlated features cannot. A feature with a risk direction keeps
it: its points can only fall (or only rise) from bin to bin.

Missing values and special codes get their own bins. When the training data had
none, their points are neutral (the feature's average points).
"""

from __future__ import annotations

import dataclasses
import json
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal, Self

import numpy as np
import pandas as pd
from optbinning import OptimalBinning
from scipy.optimize import minimize

from linewise.models.base import ArtefactFiles, PointsScaling, RiskModel
from linewise.models.calibration import Calibration
from linewise.models.inputs import split_kinds

__all__ = ["Scorecard", "ScorecardFeature", "ScorecardTable"]

_TREND = {1: "ascending", -1: "descending", 0: "auto"}
# L-BFGS-B needs a few hundred iterations on the UCI portfolio; the bound stops a
# pathological table from running on. The tolerances are tight enough that the points,
# printed to 0.01, no longer move (scipy's defaults leave them 0.1 off).
_MAX_ITERATIONS = 2000
_SOLVER_OPTIONS = {"maxiter": _MAX_ITERATIONS, "gtol": 1e-9, "ftol": 1e-14}
# A feature whose fitted points differ by less than this across its bins adds nothing.
_FLAT_LOG_ODDS = 1e-6


@dataclass(frozen=True)
class ScorecardFeature:
    """One feature's bins and points.

    Numeric bins are ``(-inf, s0), [s0, s1), ..., [s_last, inf)`` for the split
    points ``splits``; categorical bins are the groups in ``categories``. An
    unknown category scores as missing.
    """

    name: str
    kind: Literal["numeric", "categorical"]
    points: tuple[float, ...]
    missing_points: float
    special_points: float
    labels: tuple[str, ...]
    splits: tuple[float, ...] = ()
    categories: tuple[tuple[str, ...], ...] = ()
    special_codes: tuple[float, ...] = ()
    information_value: float = 0.0
    neutral_points: float = 0.0

    def points_of(self, values: pd.Series) -> np.ndarray:
        """Points for each value: bin lookup, missing and special codes included."""
        table = np.asarray(self.points, dtype="float64")
        if self.kind == "numeric":
            numbers = values.to_numpy(dtype="float64", na_value=np.nan)
            out = table[np.searchsorted(np.asarray(self.splits), numbers, side="right")]
            out = np.where(np.isnan(numbers), self.missing_points, out)
            if self.special_codes:
                out = np.where(np.isin(numbers, self.special_codes), self.special_points, out)
            return out
        lookup = {category: index for index, group in enumerate(self.categories) for category in group}
        codes = values.astype("str").map(lookup).where(values.notna())
        index = codes.to_numpy(dtype="float64", na_value=np.nan)
        known = ~np.isnan(index)
        out = np.full(len(values), self.missing_points)
        out[known] = table[index[known].astype(int)]
        return out


@dataclass(frozen=True)
class ScorecardTable:
    """The whole scorecard: features and the scaling its points follow."""

    features: tuple[ScorecardFeature, ...]
    scaling: PointsScaling = field(default_factory=PointsScaling)

    def points(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Points per account (rows) and feature (columns)."""
        return pd.DataFrame({f.name: f.points_of(frame[f.name]) for f in self.features}, index=frame.index)

    def rows(self) -> pd.DataFrame:
        """The readable table: one row per feature and bin with its points."""
        records = []
        for feature in self.features:
            for label, points in zip(feature.labels, feature.points, strict=True):
                records.append((feature.name, label, points))
            records.append((feature.name, "Missing", feature.missing_points))
            if feature.special_codes:
                records.append((feature.name, f"Special {list(feature.special_codes)}", feature.special_points))
        return pd.DataFrame(records, columns=["feature", "bin", "points"])


class Scorecard(RiskModel):
    """Scorecard estimator (sklearn conventions: ``__init__`` only stores).

    Parameters
    ----------
    monotone
        Feature name to +1/-1/0: the bins' bad rate must rise, fall, or may do either.
    special_codes
        Numeric values that mean something other than their size (e.g. -999).
    max_n_bins, min_bin_size
        Limits on the binning of each feature.
    min_information_value
        Features whose bins' information value is below it are left out. It is low:
        a feature weak on its own can still sharpen the others (the bill amount next
        to the payment), and the penalty keeps the points of a useless one near 0.
    regularisation_c
        Inverse strength of the ridge penalty on the bins' log-odds (scikit-learn's
        ``C``); for a feature with a direction the penalty is on the steps between
        its bins, which smooths them.
    max_n_prebins, min_prebin_size
        optbinning's pre-binning, from which the bins are merged.

    A feature named in ``monotone`` with 0 has no direction: its bins may take any
    points. A feature not named there (a table without a registry) keeps the
    direction of its own bins' bad rates when they move one way, else has none.
    """

    kind: ClassVar[str] = "scorecard"
    table_: ScorecardTable

    def __init__(
        self,
        *,
        monotone: Mapping[str, int] | None = None,
        scaling: PointsScaling | None = None,
        random_state: int = 0,
        special_codes: Sequence[float] = (),
        max_n_bins: int = 8,
        min_bin_size: float = 0.03,
        min_information_value: float = 0.005,
        regularisation_c: float = 0.03,
        max_n_prebins: int = 20,
        min_prebin_size: float = 0.05,
    ) -> None:
        super().__init__(monotone=monotone, scaling=scaling, random_state=random_state)
        self.special_codes = special_codes
        self.max_n_bins = max_n_bins
        self.min_bin_size = min_bin_size
        self.min_information_value = min_information_value
        self.regularisation_c = regularisation_c
        self.max_n_prebins = max_n_prebins
        self.min_prebin_size = min_prebin_size

    def fit(self, features: pd.DataFrame, bad: np.ndarray) -> Self:
        """Bin every feature, keep the informative ones, fit every bin's points together."""
        numeric, _ = split_kinds(features)
        layouts: dict[str, ScorecardFeature] = {}
        signs: dict[str, int] = {}
        for name in features.columns:
            binned = self._bin(features[name], bad, numeric=name in numeric)
            if binned is not None and binned[0].binning_table.iv >= self.min_information_value:
                binning, bins = binned
                layouts[name] = self._layout(binning, bins, is_numeric=name in numeric)
                signs[name] = self._points_sign(name, bins, layouts[name], is_numeric=name in numeric)
        # Each row's bin, found by the lookup that scores it: regular bins 0..k-1, missing
        # k, special k+1 (the layout's points are those indices).
        codes = {name: layout.points_of(features[name]).astype("int64") for name, layout in layouts.items()}
        levels, intercept = _fit_levels(
            codes, {n: len(f.points) for n, f in layouts.items()}, signs, bad, c=self.regularisation_c
        )
        self.table_ = self._table(layouts, codes, levels, intercept)
        self.features_ = [f.name for f in self.table_.features]
        self.calibration_ = Calibration()
        return self

    def _bin(self, column: pd.Series, bad: np.ndarray, *, numeric: bool) -> tuple[OptimalBinning, pd.DataFrame] | None:
        """The fitted binning and its table's bins (the Totals row dropped); None if it failed."""
        name = str(column.name)
        binning = OptimalBinning(
            name=name,
            dtype="numerical" if numeric else "categorical",
            monotonic_trend=_TREND[self._monotone_sign(name)] if numeric else None,
            special_codes=list(self.special_codes) if numeric and self.special_codes else None,
            max_n_bins=self.max_n_bins,
            min_bin_size=self.min_bin_size,
            max_n_prebins=self.max_n_prebins,
            min_prebin_size=self.min_prebin_size,
        )
        values = _values(column, numeric=numeric)
        with warnings.catch_warnings():
            # optbinning warns on constant columns (we skip them), and its table's Totals
            # row sets text into float columns, which pandas 3 deprecates (the table is right).
            warnings.simplefilter("ignore")
            binning.fit(values, bad)
            if binning.status not in ("OPTIMAL", "FEASIBLE"):
                return None
            bins: pd.DataFrame = binning.binning_table.build().drop(index="Totals")
        return binning, bins

    def _layout(self, binning: OptimalBinning, bins: pd.DataFrame, *, is_numeric: bool) -> ScorecardFeature:
        """The feature's bins, each bin's index as its points (missing ``k``, special ``k + 1``).

        Scoring a column with it gives each row's bin by the very lookup that will
        score the fitted feature.
        """
        labels = [str(label) for label in bins["Bin"] if str(label) not in ("Special", "Missing")]
        k = len(labels)
        return self._feature(
            binning,
            is_numeric=is_numeric,
            labels=labels,
            points=np.arange(k, dtype="float64"),
            missing=float(k),
            special=float(k + 1),
            neutral=0.0,
        )

    def _points_sign(self, name: str, bins: pd.DataFrame, layout: ScorecardFeature, *, is_numeric: bool) -> int:
        """+1 when the log-odds may only rise from bin to bin, -1 only fall, 0 either."""
        if not is_numeric:
            return 0
        if self.monotone is not None and name in self.monotone:
            return self._monotone_sign(name)
        rates = bins["Event rate"].to_numpy(dtype="float64")[: len(layout.points)]
        steps = np.diff(rates)
        if (steps >= 0).all():
            return 1
        return -1 if (steps <= 0).all() else 0

    def _table(
        self,
        layouts: Mapping[str, ScorecardFeature],
        codes: Mapping[str, np.ndarray],
        levels: Mapping[str, np.ndarray],
        intercept: float,
    ) -> ScorecardTable:
        """Points from the fitted log-odds of each bin; features whose bins all agree are left out."""
        scaling = self.points_scaling
        kept = [name for name in layouts if np.ptp(levels[name][np.unique(codes[name])]) > _FLAT_LOG_ODDS]
        share = (scaling.offset - scaling.factor * intercept) / max(len(kept), 1)
        features = []
        for name in kept:
            layout, level = layouts[name], levels[name]
            k = len(layout.points)
            points = np.round(share - scaling.factor * level, 2)
            neutral = float(np.round(share - scaling.factor * level[codes[name]].mean(), 2))
            seen = np.bincount(codes[name], minlength=k + 2) > 0
            features.append(
                dataclasses.replace(
                    layout,
                    points=tuple(float(p) for p in points[:k]),
                    missing_points=float(points[k]) if seen[k] else neutral,
                    special_points=float(points[k + 1]) if seen[k + 1] else neutral,
                    neutral_points=neutral,
                )
            )
        return ScorecardTable(features=tuple(features), scaling=scaling)

    def _feature(
        self,
        binning: OptimalBinning,
        *,
        is_numeric: bool,
        labels: list[str],
        points: np.ndarray,
        missing: float,
        special: float,
        neutral: float,
    ) -> ScorecardFeature:
        common: dict[str, Any] = {
            "name": binning.name,
            "points": tuple(float(p) for p in points),
            "missing_points": missing,
            "special_points": special,
            "labels": tuple(labels),
            "information_value": round(float(binning.binning_table.iv), 6),
            "neutral_points": neutral,
        }
        if is_numeric:
            return ScorecardFeature(
                kind="numeric",
                splits=tuple(float(s) for s in binning.splits),
                special_codes=tuple(float(c) for c in self.special_codes),
                **common,
            )
        groups = tuple(tuple(str(c) for c in group) for group in binning.splits)
        return ScorecardFeature(kind="categorical", categories=groups, **common)

    def artefact_files(self) -> dict[str, str]:
        """``scorecard.json`` (the table, read back on load) and ``scorecard.csv`` (for a spreadsheet)."""
        self._check_fitted("table_")
        return {
            "scorecard.json": json.dumps(dataclasses.asdict(self.table_), indent=2, ensure_ascii=False, sort_keys=False)
            + "\n",
            "scorecard.csv": self.table_.rows().to_csv(index=False),
        }

    @classmethod
    def from_artefact(
        cls,
        files: ArtefactFiles,
        manifest: Mapping[str, Any],  # noqa: ARG003 - the table says it all
        *,
        calibration: Calibration,
        scaling: PointsScaling,
    ) -> Self:
        """The scorecard whose table ``scorecard.json`` holds."""
        raw = files.json("scorecard.json")
        table = ScorecardTable(features=tuple(_feature_from_json(item) for item in raw["features"]), scaling=scaling)
        return cls.from_table(table, calibration)

    @classmethod
    def from_table(cls, table: ScorecardTable, calibration: Calibration) -> Self:
        """A fitted scorecard from its table (as loaded from an artefact)."""
        model = cls(scaling=table.scaling)
        model.table_ = table
        model.features_ = [f.name for f in table.features]
        model.calibration_ = calibration
        return model

    def points(self, features: pd.DataFrame) -> pd.DataFrame:
        """Points per account and feature."""
        checked = self._checked(features)
        return self.table_.points(checked)

    def raw_log_odds(self, features: pd.DataFrame) -> np.ndarray:
        """Log-odds of default of the summed points."""
        points = self.points(features).to_numpy(dtype="float64")
        # Column by column, so that an account's sum does not depend on the batch it is in
        # (a row-wise reduction is ordered differently for one row and for many).
        total = np.zeros(len(points))
        for column in range(points.shape[1]):
            total += points[:, column]
        return self.table_.scaling.log_odds(total)

    def contributions(self, features: pd.DataFrame) -> pd.DataFrame:
        """Points below the feature's neutral points, in log-odds (positive adds risk)."""
        points = self.points(features)
        neutral = pd.Series({f.name: f.neutral_points for f in self.table_.features})
        return (neutral - points) / self.table_.scaling.factor


def _feature_from_json(item: dict[str, Any]) -> ScorecardFeature:
    tuples = ("points", "labels", "splits", "special_codes")
    values: dict[str, Any] = {key: tuple(value) if key in tuples else value for key, value in item.items()}
    values["categories"] = tuple(tuple(group) for group in item.get("categories", ()))
    return ScorecardFeature(**values)


def _values(column: pd.Series, *, numeric: bool) -> np.ndarray:
    if numeric:
        return column.to_numpy(dtype="float64", na_value=np.nan)
    return column.astype("object").where(column.notna(), np.nan).to_numpy()


def _design(k: int, sign: int) -> tuple[np.ndarray, list[tuple[float | None, float | None]]]:
    """Map from a feature's parameters to the log-odds of its bins 0..k-1, missing, special.

    Bin 0 is the reference (0). With a direction the parameters are the steps from
    bin to bin, bounded to one sign; without, each bin's own level. Missing and
    special are always free.
    """
    transform = np.zeros((k + 2, k + 1))
    for j in range(1, k):
        if sign:
            transform[j, :j] = 1.0
        else:
            transform[j, j - 1] = 1.0
    transform[k, k - 1] = transform[k + 1, k] = 1.0
    step: tuple[float | None, float | None] = (0.0, None) if sign > 0 else (None, 0.0)
    bounds = [step if sign else (None, None)] * (k - 1) + [(None, None)] * 2
    return transform, bounds


def _fit_levels(
    codes: Mapping[str, np.ndarray], sizes: Mapping[str, int], signs: Mapping[str, int], bad: np.ndarray, *, c: float
) -> tuple[dict[str, np.ndarray], float]:
    """Log-odds of every bin (by feature) and the intercept: ridge logistic regression.

    The loss is the mean log-loss plus ``|theta|^2 / (2 c n)`` (scikit-learn's scale
    of ``C``). Rows are never expanded into indicator columns: each feature's part of
    the log-odds is a lookup, its gradient a ``bincount``, so memory stays O(rows).
    """
    y = np.asarray(bad, dtype="float64")
    n = len(y)
    designs = {name: _design(sizes[name], signs[name]) for name in codes}
    slices: dict[str, slice] = {}
    bounds: list[tuple[float | None, float | None]] = [(None, None)]  # the intercept
    start = 1
    for name, (transform, feature_bounds) in designs.items():
        slices[name] = slice(start, start + transform.shape[1])
        bounds += feature_bounds
        start += transform.shape[1]
    rate = float(np.clip(y.mean(), 1e-6, 1 - 1e-6))

    def loss_and_gradient(theta: np.ndarray) -> tuple[float, np.ndarray]:
        z = np.full(n, theta[0])
        for name, (transform, _) in designs.items():
            z += (transform @ theta[slices[name]])[codes[name]]
        loss = float(np.mean(np.logaddexp(0.0, z) - y * z))
        residual = (0.5 * (1.0 + np.tanh(0.5 * z)) - y) / n  # sigmoid without overflow
        gradient = np.empty_like(theta)
        gradient[0] = residual.sum()
        for name, (transform, _) in designs.items():
            by_bin = np.bincount(codes[name], weights=residual, minlength=transform.shape[0])
            gradient[slices[name]] = transform.T @ by_bin
        penalty = theta[1:] / (c * n)
        gradient[1:] += penalty
        return loss + 0.5 * float(theta[1:] @ penalty), gradient

    start_theta = np.zeros(start)
    start_theta[0] = np.log(rate / (1 - rate))
    result = minimize(
        loss_and_gradient, start_theta, jac=True, method="L-BFGS-B", bounds=bounds, options=_SOLVER_OPTIONS
    )
    theta = np.asarray(result.x, dtype="float64")
    levels = {name: transform @ theta[slices[name]] for name, (transform, _) in designs.items()}
    return levels, float(theta[0])
