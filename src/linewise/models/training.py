"""Training with honest figures.

Stratified, shuffled k-fold cross-validation (seed 0), calibration on the
out-of-fold predictions, then the final fit on every row.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sklearn.model_selection import StratifiedKFold

from linewise.errors import InputError
from linewise.models.base import RiskModel
from linewise.models.calibration import fit_calibration
from linewise.models.evaluation import (
    calibration_by_band,
    discrimination,
    information_values,
    population_stability,
    ranking,
)
from linewise.models.gbm import GradientBoostedModel
from linewise.models.inputs import ModelInputs
from linewise.models.kinds import MODEL_KINDS, model_kind

__all__ = ["MODEL_KINDS", "TrainedModel", "cross_validate", "make_model", "train_model", "training_data_hash"]


@dataclass(frozen=True)
class TrainedModel:
    """The final model (calibrated) and its ``metrics`` (what ``metrics.json`` holds)."""

    model: RiskModel
    metrics: dict[str, Any]


def make_model(
    kind: str, *, monotone: Mapping[str, int] | None = None, special_codes: Sequence[float] = (), random_state: int = 0
) -> RiskModel:
    """A fresh, unfitted model of ``kind`` (one of :data:`~linewise.models.kinds.MODEL_KINDS`)."""
    return model_kind(kind, where="--kind").make(monotone, special_codes, random_state)


def _quiet(_: str) -> None:
    """Progress sink that reports nothing."""


def cross_validate(
    factory: Callable[[], RiskModel],
    inputs: ModelInputs,
    *,
    folds: int = 5,
    seed: int = 0,
    progress: Callable[[str], None] = _quiet,
) -> tuple[dict[str, Any], np.ndarray]:
    """Per-fold and summary figures, and the out-of-fold raw log-odds of every row.

    ``progress`` is told when each fold is done.
    """
    if folds < 2:
        raise InputError.for_field("cv_folds_too_few", where="--cv", field="cv", rule="at least 2", value=folds)
    # Each fold holds some of both outcomes, so there are at most as many folds as
    # rows of the rarer outcome.
    rarer = int(min(np.sum(np.asarray(inputs.bad) == 1), np.sum(np.asarray(inputs.bad) == 0)))
    if folds > rarer:
        raise InputError.for_field(
            "cv_folds_too_many",
            where="--cv",
            field="cv",
            rule=f"at most the {rarer} rows of the rarer outcome",
            value=folds,
        )
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    out_of_fold = np.zeros(len(inputs.bad))
    per_fold = []
    for fold, (train, test) in enumerate(splitter.split(inputs.features, inputs.bad), start=1):
        model = factory().fit(inputs.features.iloc[train], inputs.bad[train])
        raw_test = model.raw_log_odds(inputs.features.iloc[test])
        raw_train = model.raw_log_odds(inputs.features.iloc[train])
        out_of_fold[test] = raw_test
        figures = ranking(inputs.bad[test], raw_test)
        per_fold.append(
            {
                "fold": fold,
                "auc": figures["auc"],
                "ks": figures["ks"],
                "psi_train_vs_test": population_stability(raw_train, raw_test),
            }
        )
        progress(f"fold {fold} of {folds}: AUC {figures['auc']:.4f}")
    aucs = np.array([f["auc"] for f in per_fold])
    kss = np.array([f["ks"] for f in per_fold])
    summary = {
        "folds": per_fold,
        "n_folds": folds,
        "seed": seed,
        "auc_mean": round(float(aucs.mean()), 6),
        "auc_std": round(float(aucs.std()), 6),
        "ks_mean": round(float(kss.mean()), 6),
        "ks_std": round(float(kss.std()), 6),
    }
    return summary, out_of_fold


def train_model(
    inputs: ModelInputs,
    *,
    kind: str,
    folds: int = 5,
    monotone: Mapping[str, int] | None = None,
    special_codes: Sequence[float] = (),
    seed: int = 0,
    progress: Callable[[str], None] = _quiet,
) -> TrainedModel:
    """Cross-validate, calibrate on the out-of-fold predictions, fit on all rows.

    ``progress`` is told after each fold and after the final fit (``folds + 1`` steps).
    """

    def factory() -> RiskModel:
        return make_model(kind, monotone=monotone, special_codes=special_codes, random_state=seed)

    started = time.perf_counter()
    cv, out_of_fold = cross_validate(factory, inputs, folds=folds, seed=seed, progress=progress)
    calibration = fit_calibration(out_of_fold, inputs.bad)
    model = factory().fit(inputs.features, inputs.bad).calibrate(calibration)
    progress("final fit on every row")
    calibrated = calibration.apply(out_of_fold)
    metrics: dict[str, Any] = {
        "kind": kind,
        "n_rows": len(inputs.bad),
        "bad_rate": round(inputs.bad_rate, 6),
        "features": list(model.features_),
        "n_features_offered": inputs.features.shape[1],
        "cv": cv,
        "out_of_fold": {
            **discrimination(inputs.bad, calibrated),
            "calibration_by_band": calibration_by_band(inputs.bad, calibrated),
        },
        "information_value": information_values(inputs.features, inputs.bad),
        "calibration": {"intercept": round(calibration.intercept, 9), "slope": round(calibration.slope, 9)},
        "fit_seconds": round(time.perf_counter() - started, 2),
    }
    if isinstance(model, GradientBoostedModel):
        metrics["n_trees"] = model.n_trees
    return TrainedModel(model=model, metrics=metrics)


def training_data_hash(inputs: ModelInputs) -> str:
    """SHA-256 of the features, ids and outcomes the model learnt from."""
    digest = hashlib.sha256()
    digest.update(pd.util.hash_pandas_object(inputs.features, index=True).to_numpy().tobytes())
    digest.update(np.ascontiguousarray(inputs.bad).tobytes())
    digest.update(",".join(map(str, inputs.features.columns)).encode())
    return digest.hexdigest()
