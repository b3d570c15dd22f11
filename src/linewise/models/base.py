"""What every risk model promises: PD, score, per-feature contributions; sklearn conventions."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol, Self

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.exceptions import NotFittedError

from linewise.errors import InputError
from linewise.models.calibration import Calibration, logit

__all__ = ["ArtefactFiles", "ModelNotFittedError", "PointsScaling", "RiskModel"]


class ModelNotFittedError(InputError, NotFittedError):  # type: ignore[misc]  # sklearn has no type information
    """A model was asked to score before it was fitted (scikit-learn's ``NotFittedError``, with a code).

    Examples
    --------
    >>> raise ModelNotFittedError("Scorecard", ["features_"])
    Traceback (most recent call last):
    ...
    linewise.models.base.ModelNotFittedError: Scorecard: model must be fitted (fit, then score); got one without features_
    """

    def __init__(self, model: str, missing: Sequence[str]) -> None:
        super().__init__(
            "model_not_fitted",
            where=model,
            detail=f"model must be fitted (fit, then score); got one without {', '.join(missing)}",
        )


class ArtefactFiles(Protocol):
    """The files of a model's artefact directory, read within linewise's bounds by the caller."""

    def text(self, name: str) -> str:
        """The text of the file ``name``."""

    def json(self, name: str) -> Any:
        """The JSON value in the file ``name``."""


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

    def __init__(
        self, *, monotone: Mapping[str, int] | None = None, scaling: PointsScaling | None = None, random_state: int = 0
    ) -> None:
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

    @abstractmethod
    def artefact_files(self) -> dict[str, str]:
        """The files of the model's artefact (name -> text) that :meth:`from_artefact` reads back."""

    def artefact_manifest(self) -> dict[str, Any]:
        """What the model adds to its artefact's manifest (nothing unless a kind needs it)."""
        return {}

    @classmethod
    @abstractmethod
    def from_artefact(
        cls, files: ArtefactFiles, manifest: Mapping[str, Any], *, calibration: Calibration, scaling: PointsScaling
    ) -> Self:
        """The fitted model that :meth:`artefact_files` and :meth:`artefact_manifest` wrote."""

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
        """Calibrated probability of default per row; :class:`ModelNotFittedError` before ``fit``."""
        self._check_fitted("features_", "calibration_")
        return self.calibration_.apply(self.raw_log_odds(features))

    def score(self, features: pd.DataFrame) -> np.ndarray:
        """Score points of the calibrated PD (see :class:`PointsScaling`)."""
        return self.points_scaling.points(logit(self.predict_proba(features)))

    def _check_fitted(self, *attributes: str) -> None:
        """Raise :class:`ModelNotFittedError` unless the model has learnt each of ``attributes``."""
        missing = [name for name in attributes if not hasattr(self, name)]
        if missing:
            raise ModelNotFittedError(type(self).__name__, missing)

    def _checked(self, features: pd.DataFrame) -> pd.DataFrame:
        """``features``' columns the model scores, in its order; refused before ``fit``."""
        self._checked_columns(features)
        return features[self.features_]

    def _checked_columns(self, features: pd.DataFrame) -> None:
        """Raise unless the model is fitted and ``features`` has every column it scores."""
        self._check_fitted("features_")
        missing = [name for name in self.features_ if name not in features.columns]
        if missing:
            raise InputError.for_field(
                "feature_missing",
                where="features",
                field="columns",
                rule=f"to include the model's features {self.features_}",
                value=missing,
            )

    def _monotone_sign(self, name: str) -> int:
        return int((self.monotone or {}).get(name, 0))
