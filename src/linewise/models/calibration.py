"""Calibration: a model's raw log-odds mapped to a probability of default.

Platt scaling (a logistic regression on the raw log-odds) fitted on out-of-fold
predictions, so that the PD of an account the model has not seen is honest. Two
numbers, stored in the manifest, readable by anyone.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.linear_model import LogisticRegression

__all__ = ["Calibration", "fit_calibration", "logit", "sigmoid"]


def sigmoid(values: np.ndarray) -> np.ndarray:
    """The logistic function, without overflow warnings at the extremes."""
    out: np.ndarray = 0.5 * (1.0 + np.tanh(0.5 * values))
    return out


def logit(probabilities: np.ndarray) -> np.ndarray:
    """Log-odds of ``probabilities`` (clipped away from 0 and 1)."""
    clipped = np.clip(probabilities, 1e-12, 1 - 1e-12)
    out: np.ndarray = np.log(clipped / (1 - clipped))
    return out


@dataclass(frozen=True)
class Calibration:
    """``pd = sigmoid(intercept + slope * raw_log_odds)``; the identity is (0, 1)."""

    intercept: float = 0.0
    slope: float = 1.0

    def apply(self, raw_log_odds: np.ndarray) -> np.ndarray:
        """Calibrated probabilities of default."""
        return sigmoid(self.intercept + self.slope * raw_log_odds)


def fit_calibration(raw_log_odds: np.ndarray, bad: np.ndarray) -> Calibration:
    """The Platt calibration of ``raw_log_odds`` to the observed ``bad`` flags."""
    regression = LogisticRegression(C=1e6, max_iter=1000)
    regression.fit(raw_log_odds.reshape(-1, 1), bad.astype(int))
    return Calibration(intercept=float(regression.intercept_[0]), slope=float(regression.coef_[0, 0]))
