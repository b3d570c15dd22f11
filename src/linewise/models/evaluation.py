"""How good a PD is: ranking, accuracy, stability and each feature's information value.

Ranking is ROC AUC, KS and Gini; accuracy the Brier score and calibration by band;
stability the population stability index (PSI).
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd
from optbinning import OptimalBinning
from sklearn.metrics import brier_score_loss, roc_auc_score, roc_curve

__all__ = [
    "calibration_by_band",
    "discrimination",
    "information_values",
    "population_stability",
    "ranking",
]


def ranking(bad: np.ndarray, risk: np.ndarray) -> dict[str, float]:
    """ROC AUC, KS and Gini of any risk measure (higher is riskier) against the outcomes."""
    auc = float(roc_auc_score(bad, risk))
    false_positive, true_positive, _ = roc_curve(bad, risk)
    return {
        "auc": round(auc, 6),
        "ks": round(float(np.max(true_positive - false_positive)), 6),
        "gini": round(2 * auc - 1, 6),
    }


def discrimination(bad: np.ndarray, pd_: np.ndarray) -> dict[str, float]:
    """:func:`ranking` plus the Brier score of predicted PDs."""
    return {**ranking(bad, pd_), "brier": round(float(brier_score_loss(bad, pd_)), 6)}


def calibration_by_band(bad: np.ndarray, pd_: np.ndarray, bands: int = 10) -> list[dict[str, Any]]:
    """Per PD band (equal-count, lowest risk first): accounts, mean PD and observed bad rate."""
    frame = pd.DataFrame({"bad": bad, "pd": pd_})
    frame["band"] = pd.qcut(frame["pd"].rank(method="first"), bands, labels=False) + 1
    summary = frame.groupby("band").agg(accounts=("bad", "size"), pd_mean=("pd", "mean"), bad_rate=("bad", "mean"))
    accounts = summary["accounts"].to_numpy()
    pd_mean = summary["pd_mean"].to_numpy()
    bad_rate = summary["bad_rate"].to_numpy()
    return [
        {
            "band": band + 1,
            "accounts": int(accounts[band]),
            "pd_mean": round(float(pd_mean[band]), 6),
            "bad_rate": round(float(bad_rate[band]), 6),
        }
        for band in range(len(summary))
    ]


def population_stability(expected: np.ndarray, actual: np.ndarray, bands: int = 10) -> float:
    """PSI of ``actual`` against ``expected`` over the expected sample's deciles.

    Below 0.1 is stable, 0.1-0.25 worth a look, above 0.25 a shift.
    """
    edges = np.unique(np.quantile(expected, np.linspace(0, 1, bands + 1)[1:-1]))
    expected_share = np.bincount(np.searchsorted(edges, expected, side="right"), minlength=len(edges) + 1) / len(
        expected
    )
    actual_share = np.bincount(np.searchsorted(edges, actual, side="right"), minlength=len(edges) + 1) / len(actual)
    expected_share = np.clip(expected_share, 1e-6, None)
    actual_share = np.clip(actual_share, 1e-6, None)
    return round(float(np.sum((actual_share - expected_share) * np.log(actual_share / expected_share))), 6)


def information_values(features: pd.DataFrame, bad: np.ndarray) -> dict[str, float]:
    """Each feature's information value after optimal binning (missing in its own bin)."""
    values = {}
    for name in features.columns:
        column = features[name]
        numeric = pd.api.types.is_numeric_dtype(column)
        binning = OptimalBinning(name=str(name), dtype="numerical" if numeric else "categorical")
        data = (
            column.to_numpy(dtype="float64", na_value=np.nan)
            if numeric
            else column.astype("object").where(column.notna(), np.nan).to_numpy()
        )
        with warnings.catch_warnings():
            # Constant columns (IV 0, said below); optbinning 1.0's table uses pandas
            # idioms that pandas 3 warns about for categorical features.
            warnings.simplefilter("ignore")
            binning.fit(data, bad)
            if binning.status in ("OPTIMAL", "FEASIBLE"):
                binning.binning_table.build()
                values[str(name)] = round(float(binning.binning_table.iv), 6)
            else:
                values[str(name)] = 0.0
    return values
