"""NaN-aware reductions over ``(accounts, months)`` arrays that never warn on empty rows."""

from __future__ import annotations

import numpy as np

__all__ = ["count_true", "safe_ratio", "window_max", "window_mean", "window_min", "window_sum"]


def window_sum(values: np.ndarray) -> np.ndarray:
    """Row sums ignoring NaN; NaN when the whole row is missing."""
    total = np.nansum(values, axis=1)
    return np.where(np.isnan(values).all(axis=1), np.nan, total)


def window_mean(values: np.ndarray) -> np.ndarray:
    """Row means ignoring NaN; NaN when the whole row is missing."""
    count = (~np.isnan(values)).sum(axis=1)
    return safe_ratio(np.nansum(values, axis=1), count.astype("float64"))


def window_max(values: np.ndarray) -> np.ndarray:
    """Row maxima ignoring NaN; NaN when the whole row is missing."""
    maxima: np.ndarray = np.fmax.reduce(values, axis=1)
    return maxima


def window_min(values: np.ndarray) -> np.ndarray:
    """Row minima ignoring NaN; NaN when the whole row is missing."""
    minima: np.ndarray = np.fmin.reduce(values, axis=1)
    return minima


def count_true(mask: np.ndarray) -> np.ndarray:
    """How many entries of each row are true, as floats."""
    if mask.ndim != 2:
        counted: np.ndarray = mask.sum(axis=1).astype("float64")
        return counted
    # A column at a time: a reduction along rows of a few months costs more than a few
    # additions over all rows (the counts are exact either way).
    counts = np.zeros(mask.shape[0], dtype="int64")
    for k in range(mask.shape[1]):
        counts += mask[:, k]
    return counts.astype("float64")


def safe_ratio(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    """``numerator / denominator``, NaN where the denominator is 0 or missing."""
    out = np.full(np.shape(numerator), np.nan)
    ok = np.isfinite(denominator) & (denominator != 0)
    np.divide(numerator, denominator, out=out, where=ok)
    return out
