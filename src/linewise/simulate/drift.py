"""Population stability: how far a sample's distribution has moved from a reference.

The population stability index over bins ``b`` is ``sum((q_b - p_b) ln(q_b / p_b))``
for the reference's shares ``p`` and the current sample's ``q``. Numbers are binned at
the reference's deciles (edges open at both ends, so a value beyond the reference's
range falls in an end bin); categories are their own bins; a missing value is a bin
of its own. Every bin either sample has is counted, with half an observation added to
each side (so a bin that appears in only one sample weighs in rather than dropping
out or giving an infinite index).

Whether an index is drift depends on the samples' sizes: with no drift at all, PSI
is about ``(1/n + 1/m) chi2(B - 1)`` for samples of ``n`` and ``m`` and ``B`` bins, so
a fixed 0.10 cries wolf on small months and misses real moves on large ones. A PSI is
flagged when it lies above the 99th percentile of that no-drift distribution.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.stats import chi2

__all__ = ["BINS", "NO_DRIFT_QUANTILE", "Stability", "stability"]

BINS = 10
NO_DRIFT_QUANTILE = 0.99
_MISSING = "<missing>"


@dataclass(frozen=True)
class Stability:
    """A PSI, the value no-drift samples of these sizes stay under, and whether it is drift."""

    psi: float
    threshold: float
    bins: int

    @property
    def drift(self) -> bool:
        """Whether the index lies above what chance gives samples of these sizes."""
        return self.psi > self.threshold

    def as_dict(self) -> dict[str, object]:
        """The figures as monitor.json holds them."""
        return {
            "psi": round(self.psi, 6),
            "threshold": round(self.threshold, 6),
            "bins": self.bins,
            "drift": self.drift,
        }


def stability(reference: pd.Series, current: pd.Series) -> Stability | None:
    """How far ``current`` has moved from ``reference`` (None when either sample is empty)."""
    if len(reference) == 0 or len(current) == 0:
        return None
    expected, actual = _binned(reference, current)
    seen = (expected + actual) > 0
    expected, actual = expected[seen], actual[seen]
    bins = len(expected)
    p = (expected + 0.5) / (expected.sum() + 0.5 * bins)
    q = (actual + 0.5) / (actual.sum() + 0.5 * bins)
    psi = float(np.sum((q - p) * np.log(q / p)))
    n, m = len(reference), len(current)
    threshold = float((1 / n + 1 / m) * chi2.ppf(NO_DRIFT_QUANTILE, max(bins - 1, 1)))
    return Stability(psi, threshold, bins)


def _binned(reference: pd.Series, current: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Counts per bin of both samples, bins taken from ``reference``."""
    if _numeric(reference) and _numeric(current):
        ref = reference.to_numpy(dtype=np.float64, na_value=np.nan)
        cur = current.to_numpy(dtype=np.float64, na_value=np.nan)
        known = ref[~np.isnan(ref)]
        edges = np.unique(np.quantile(known, np.linspace(0, 1, BINS + 1)[1:-1])) if len(known) else np.array([])

        def counts(values: np.ndarray) -> np.ndarray:
            present = values[~np.isnan(values)]
            by_bin = np.bincount(np.searchsorted(edges, present, side="right"), minlength=len(edges) + 1)
            return np.append(by_bin, np.isnan(values).sum()).astype(np.float64)

        return counts(ref), counts(cur)
    ref_labels = reference.astype(object).where(reference.notna(), _MISSING).astype(str)
    cur_labels = current.astype(object).where(current.notna(), _MISSING).astype(str)
    categories = sorted(set(ref_labels) | set(cur_labels))
    return (
        ref_labels.value_counts().reindex(categories, fill_value=0).to_numpy(dtype=np.float64),
        cur_labels.value_counts().reindex(categories, fill_value=0).to_numpy(dtype=np.float64),
    )


def _numeric(values: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values)
