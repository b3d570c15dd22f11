"""How decisions fall across protected attributes that are never inputs.

For each attribute a portfolio carries (sex, education, marital status, age in bands),
per group: the rate of increases, of cuts and of freezes and the mean limit change,
each with a 95% bootstrap interval. The favourable outcomes (raised, not cut, not
frozen) are compared with the best-treated group's: a group whose rate is under four
fifths of it is flagged (the "four-fifths rule" of adverse impact).

The bootstrap resamples each group's accounts with replacement. Every figure here is
a mean of a variable with few distinct values (an action, a ladder step), so a
resample is drawn as multinomial counts over those values: exact, and as fast for a
million accounts as for a hundred.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from linewise.data.schemas import PROTECTED_ATTRIBUTES

__all__ = ["AGE_BANDS", "FOUR_FIFTHS", "fairness"]

AGE_BANDS = ((0, 25, "under 26"), (26, 35, "26-35"), (36, 45, "36-45"), (46, 55, "46-55"), (56, 200, "56 and over"))
FOUR_FIFTHS = 0.8
RESAMPLES = 400
# A group this small is reported, never flagged; the best-treated group, which the
# others are measured against, is one of at least BENCHMARK_GROUP accounts and of
# BENCHMARK_SHARE of them, so that a handful of lucky accounts does not set the bar.
MIN_GROUP = 30
BENCHMARK_GROUP = 100
BENCHMARK_SHARE = 0.01


def fairness(decisions: pd.DataFrame, customers: pd.DataFrame, *, seed: int = 0) -> dict[str, Any]:
    """Per protected attribute in ``customers``, per group: the decisions' rates and mean change.

    Groups of fewer than :data:`MIN_GROUP` accounts are reported but not flagged; the
    best-treated group is among those of at least :data:`BENCHMARK_GROUP` accounts and
    :data:`BENCHMARK_SHARE` of all. Groups come in their natural order (age bands
    youngest first), others by name.
    """
    rng = np.random.default_rng(seed)
    joined = decisions.set_index("account_id").join(customers.set_index("account_id"), how="left")
    outcomes = {
        "increase": (joined["action"] == "increase").to_numpy(dtype=np.float64),
        "not_decreased": (joined["action"] != "decrease").to_numpy(dtype=np.float64),
        "not_frozen": (joined["action"] != "freeze").to_numpy(dtype=np.float64),
    }
    change = (joined["new_limit"] - joined["current_limit"]).to_numpy(dtype=np.float64)
    report: dict[str, Any] = {}
    for attribute in PROTECTED_ATTRIBUTES:
        if attribute not in joined.columns or joined[attribute].isna().all():
            continue
        groups = _groups(joined[attribute])
        rows: dict[str, dict[str, Any]] = {}
        present = set(groups.dropna())
        ordered = [label for _, _, label in AGE_BANDS] if attribute == "age" else sorted(present)
        for name in [label for label in ordered if label in present]:
            chosen = (groups == name).to_numpy()
            row: dict[str, Any] = {"accounts": int(chosen.sum())}
            for outcome, values in outcomes.items():
                row[outcome] = _mean_with_interval(values[chosen], rng)
            row["mean_limit_change"] = _mean_with_interval(change[chosen], rng)
            rows[str(name)] = row
        _flag(rows, benchmark=max(BENCHMARK_GROUP, BENCHMARK_SHARE * len(joined)))
        report[attribute] = rows
    return report


def _groups(values: pd.Series) -> pd.Series:
    """The attribute's groups: age in bands, anything else as it is."""
    if values.name != "age":
        return values.astype(object).where(values.notna())
    ages = values.astype("float64")
    banded = pd.Series(None, index=values.index, dtype=object)
    for low, high, label in AGE_BANDS:
        banded[(ages >= low) & (ages <= high)] = label
    return banded


def _mean_with_interval(values: np.ndarray, rng: np.random.Generator) -> dict[str, float | None]:
    if len(values) == 0:
        return {"value": None, "low": None, "high": None}
    distinct, counts = np.unique(values, return_counts=True)
    resampled = rng.multinomial(len(values), counts / counts.sum(), size=RESAMPLES) @ distinct / len(values)
    low, high = np.quantile(resampled, [0.025, 0.975])
    return {"value": round(float(values.mean()), 6), "low": round(float(low), 6), "high": round(float(high), 6)}


def _flag(rows: dict[str, dict[str, Any]], *, benchmark: float) -> None:
    """Each favourable rate's ratio to the best-treated group's, flagged under four fifths."""
    for outcome in ("increase", "not_decreased", "not_frozen"):
        large = [row[outcome]["value"] for row in rows.values() if row["accounts"] >= benchmark]
        best = max(large, default=None)
        for row in rows.values():
            rate = row[outcome]["value"]
            ratio = None if not best or rate is None else round(rate / best, 4)
            row[outcome]["ratio_to_best"] = ratio
            row[outcome]["flagged"] = bool(ratio is not None and ratio < FOUR_FIFTHS and row["accounts"] >= MIN_GROUP)
