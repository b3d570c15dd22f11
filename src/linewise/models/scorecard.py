"""Behaviour scorecard: optbinning bins with monotone trends, WoE, logistic regression, points.

The fitted scorecard *is* its table (:class:`ScorecardTable`): for each feature its
bins (numeric split points or category groups), the points of each bin, of the
missing bin and of the special-codes bin. Scoring, the JSON artefact and the SQL
export all read that one table, so they cannot disagree.

Missing values and special codes get their own bins. When the training data had
none, their points are neutral (the feature's average points).
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal, Self

import numpy as np
import pandas as pd
from optbinning import OptimalBinning
from sklearn.linear_model import LogisticRegression

from linewise.models.base import PointsScaling, RiskModel
from linewise.models.calibration import Calibration
from linewise.models.inputs import split_kinds

__all__ = ["Scorecard", "ScorecardFeature", "ScorecardTable"]

_TREND = {1: "ascending", -1: "descending", 0: "auto"}


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
        return pd.DataFrame({f.name: f.points_of(frame[f.name]) for f in self.features},
                            index=frame.index)

    def rows(self) -> pd.DataFrame:
        """The readable table: one row per feature and bin with its points."""
        records = []
        for feature in self.features:
            for label, points in zip(feature.labels, feature.points, strict=True):
                records.append((feature.name, label, points))
            records.append((feature.name, "Missing", feature.missing_points))
            if feature.special_codes:
                records.append((feature.name, f"Special {list(feature.special_codes)}",
                                feature.special_points))
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
        Features below it are left out.
    """

    kind: ClassVar[str] = "scorecard"
    table_: ScorecardTable

    def __init__(self, *, monotone: Mapping[str, int] | None = None,
                 scaling: PointsScaling | None = None, random_state: int = 0,
                 special_codes: Sequence[float] = (), max_n_bins: int = 8,
                 min_bin_size: float = 0.03, min_information_value: float = 0.02,
                 regularisation_c: float = 1.0, max_n_prebins: int = 20,
                 min_prebin_size: float = 0.05) -> None:
        super().__init__(monotone=monotone, scaling=scaling, random_state=random_state)
        self.special_codes = special_codes
        self.max_n_bins = max_n_bins
        self.min_bin_size = min_bin_size
        self.min_information_value = min_information_value
        self.regularisation_c = regularisation_c
        self.max_n_prebins = max_n_prebins
        self.min_prebin_size = min_prebin_size

    def fit(self, features: pd.DataFrame, bad: np.ndarray) -> Self:
        """Bin every feature, keep the informative ones, fit the regression, scale points."""
        numeric, _ = split_kinds(features)
        binnings: dict[str, OptimalBinning] = {}
        for name in features.columns:
            binning = self._bin(features[name], bad, numeric=name in numeric)
            if binning is not None and binning.binning_table.iv >= self.min_information_value:
                binnings[name] = binning
        woe = pd.DataFrame({name: b.transform(_values(features[name], numeric=name in numeric), metric="woe")
                            for name, b in binnings.items()}, index=features.index)
        names = list(binnings)
        coefficients, intercept = self._regress(woe, bad, names)
        self.table_ = self._table(binnings, coefficients, intercept, woe, numeric)
        self.features_ = [f.name for f in self.table_.features]
        self.calibration_ = Calibration()
        return self

    def _bin(self, column: pd.Series, bad: np.ndarray, *, numeric: bool) -> OptimalBinning | None:
        name = str(column.name)
        binning = OptimalBinning(
            name=name, dtype="numerical" if numeric else "categorical",
            monotonic_trend=_TREND[self._monotone_sign(name)] if numeric else None,
            special_codes=list(self.special_codes) if numeric and self.special_codes else None,
            max_n_bins=self.max_n_bins, min_bin_size=self.min_bin_size,
            max_n_prebins=self.max_n_prebins, min_prebin_size=self.min_prebin_size,
        )
        values = _values(column, numeric=numeric)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # optbinning warns on constant columns; we skip them
            binning.fit(values, bad)
        if binning.status not in ("OPTIMAL", "FEASIBLE"):
            return None
        binning.binning_table.build()
        return binning

    def _regress(self, woe: pd.DataFrame, bad: np.ndarray, names: list[str]) -> tuple[dict[str, float], float]:
        """Logistic regression on WoE; a feature whose sign flips (collinearity) is dropped."""
        while True:
            if not names:
                return {}, float(np.log(bad.mean() / (1 - bad.mean())))
            regression = LogisticRegression(C=self.regularisation_c, max_iter=2000)
            regression.fit(woe[names].to_numpy(), bad)
            coefficients = dict(zip(names, regression.coef_[0], strict=True))
            # optbinning's WoE falls as the bad rate rises, so a sound coefficient is < 0.
            worst = max(coefficients, key=lambda name: coefficients[name])
            if coefficients[worst] < 0:
                return {k: float(v) for k, v in coefficients.items()}, float(regression.intercept_[0])
            names.remove(worst)

    def _table(self, binnings: Mapping[str, OptimalBinning], coefficients: Mapping[str, float],
               intercept: float, woe: pd.DataFrame, numeric: list[str]) -> ScorecardTable:
        scaling = self.points_scaling
        n = max(len(coefficients), 1)
        share = (scaling.offset - scaling.factor * intercept) / n
        features = []
        for name, coefficient in coefficients.items():
            built = binnings[name].binning_table.build()
            bins = built.drop(index="Totals")
            labels = [str(label) for label in bins["Bin"] if str(label) not in ("Special", "Missing")]
            woe_of = dict(zip(bins["Bin"].astype("str"), bins["WoE"].astype("float64"), strict=True))
            regular = bins.iloc[: len(labels)]["WoE"].astype("float64").to_numpy()
            average = float(woe[name].mean())

            def to_points(values: np.ndarray, coef: float = coefficient) -> np.ndarray:
                return np.round(share - scaling.factor * coef * values, 2)

            neutral = float(to_points(np.array([average]))[0])
            empty_missing = int(bins.loc[bins["Bin"].astype("str") == "Missing", "Count"].sum()) == 0
            empty_special = int(bins.loc[bins["Bin"].astype("str") == "Special", "Count"].sum()) == 0
            features.append(self._feature(
                binnings[name], is_numeric=name in numeric, labels=labels, points=to_points(regular),
                missing=neutral if empty_missing else float(to_points(np.array([woe_of["Missing"]]))[0]),
                special=neutral if empty_special else float(to_points(np.array([woe_of["Special"]]))[0]),
                neutral=neutral,
            ))
        return ScorecardTable(features=tuple(features), scaling=scaling)

    def _feature(self, binning: OptimalBinning, *, is_numeric: bool, labels: list[str],
                 points: np.ndarray, missing: float, special: float,
                 neutral: float) -> ScorecardFeature:
        common: dict[str, Any] = {
            "name": binning.name, "points": tuple(float(p) for p in points),
            "missing_points": missing, "special_points": special, "labels": tuple(labels),
            "information_value": round(float(binning.binning_table.iv), 6),
            "neutral_points": neutral,
        }
        if is_numeric:
            return ScorecardFeature(kind="numeric", splits=tuple(float(s) for s in binning.splits),
                                    special_codes=tuple(float(c) for c in self.special_codes),
                                    **common)
        groups = tuple(tuple(str(c) for c in group) for group in binning.splits)
        return ScorecardFeature(kind="categorical", categories=groups, **common)

    @classmethod
    def from_table(cls, table: ScorecardTable, calibration: Calibration) -> Scorecard:
        """A fitted scorecard from its table (as loaded from an artefact)."""
        model = cls(scaling=table.scaling)
        model.table_ = table
        model.features_ = [f.name for f in table.features]
        model.calibration_ = calibration
        return model

    def points(self, features: pd.DataFrame) -> pd.DataFrame:
        """Points per account and feature."""
        return self.table_.points(self._checked(features))

    def raw_log_odds(self, features: pd.DataFrame) -> np.ndarray:
        """Log-odds of default of the summed points."""
        total = self.points(features).sum(axis=1).to_numpy()
        return self.table_.scaling.log_odds(total)

    def contributions(self, features: pd.DataFrame) -> pd.DataFrame:
        """Points below the feature's neutral points, in log-odds (positive adds risk)."""
        points = self.points(features)
        neutral = pd.Series({f.name: f.neutral_points for f in self.table_.features})
        return (neutral - points) / self.table_.scaling.factor


def _values(column: pd.Series, *, numeric: bool) -> np.ndarray:
    if numeric:
        return column.to_numpy(dtype="float64", na_value=np.nan)
    return column.astype("object").where(column.notna(), np.nan).to_numpy()
