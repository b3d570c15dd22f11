"""What every risk model promises: PD, score, per-feature contributions; sklearn conventions."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar, Self

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from linewise.errors import InputError
from linewise.models.calibration import Calibration, logit

__all__ = ["PointsScaling", "RiskModel"]


@dataclass(frozen=True)
class PointsScaling:
    """Score points: ``base_score`` at good:bad odds of ``base_odds``; ``pdo`` points double the odds."""

    base_score: float = 600.0
    base_odds: float = 50.0
    pdo: float = 20.0

    @property
    def factor(self) -> float:
        """Points per unit of log-odds."""
        return self.pdo / float(np.log(2.0))

    @property
    def offset(self) -> float:
        """The score at even odds."""
        return self.base_score - self.factor * float(np.log(self.base_odds))

    def points(self, log_odds_bad: np.ndarray) -> np.ndarray:
        """Score points for log-odds of default (higher points, lower risk)."""
        out: np.ndarray = self.offset - self.factor * log_odds_bad
        return out

    def log_odds(self, points: np.ndarray) -> np.ndarray:
        """Log-odds of default for score points."""
        out: np.ndarray = (self.offset - points) / self.factor
        return out


class RiskModel(BaseEstimator, ABC):  # type: ignore[misc]  # sklearn has no type information
    """A fitted model maps features to a PD, a score and per-feature contributions.

    Contributions are in log-odds of default, positive when the feature adds risk,
    relative to the training average; they are what reasons rank. ``monotone`` maps
    a feature name to +1 (more risk as it grows), -1 (less) or 0 (no constraint).
    """

    kind: ClassVar[str]
    features_: list[str]
    calibration_: Calibration

    def __init__(self, *, monotone: Mapping[str, int] | None = None,
                 scaling: PointsScaling | None = None, random_state: int = 0) -> None:
        self.monotone = monotone
        self.scaling = scaling
        self.random_state = random_state

    @property
    def points_scaling(self) -> PointsScaling:
        """The scaling in use (the default when none was given)."""
        return self.scaling or PointsScaling()

    @abstractmethod
    def fit(self, features: pd.DataFrame, bad: np.ndarray) -> Self:
        """Learn from ``features`` and the 0/1 ``bad`` flags; returns ``self``."""

    @abstractmethod
    def raw_log_odds(self, features: pd.DataFrame) -> np.ndarray:
        """Uncalibrated log-odds of default."""

    @abstractmethod
    def contributions(self, features: pd.DataFrame) -> pd.DataFrame:
        """Per-account, per-feature log-odds contributions (see the class docstring)."""

    def reason_contributions(self, features: pd.DataFrame) -> pd.DataFrame:
        """Contributions to rank a customer's model reasons by.

        :meth:`contributions` unless a model has a faster decomposition that adds up to
        the same log-odds.
        """
        return self.contributions(features)

    def calibrate(self, calibration: Calibration) -> Self:
        """Use ``calibration`` from now on; returns ``self``."""
        self.calibration_ = calibration
        return self

    def predict_proba(self, features: pd.DataFrame) -> np.ndarray:
        """Calibrated probability of default per row."""
        return self.calibration_.apply(self.raw_log_odds(features))

    def score(self, features: pd.DataFrame) -> np.ndarray:
        """Score points of the calibrated PD (see :class:`PointsScaling`)."""
        return self.points_scaling.points(logit(self.predict_proba(features)))

    def _checked(self, features: pd.DataFrame) -> pd.DataFrame:
        check_is_fitted(self, "features_")
        missing = [name for name in self.features_ if name not in features.columns]
        if missing:
            raise InputError.for_field("feature_missing", where="features", field="columns",
                                       rule=f"to include the model's features {self.features_}",
                                       value=missing)
        return features[self.features_]

    def _monotone_sign(self, name: str) -> int:
        return int((self.monotone or {}).get(name, 0))
