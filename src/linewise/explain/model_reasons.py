"""Model reasons: the features that weighed most against a customer, each one verified true."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from linewise.explain.catalogue import model_code
from linewise.features import REGISTRY, RiskDirection
from linewise.models.base import RiskModel
from linewise.strategy.evaluate import ReasonCodes

__all__ = ["least_risky_value", "model_reasons"]

# The limit itself is the decision's own output: "your limit is low" is circular, not a reason.
_NOT_A_REASON = frozenset({"credit_limit"})
# Candidates checked per account, largest contribution first, to find the reasons told.
_CANDIDATES = 4
# Beyond every split and bin of any model, for features without a bound.
_FAR = 1e15


def least_risky_value(feature: str) -> float:
    """The value of ``feature`` with the least risk it can take (its bound on the safe side)."""
    spec = REGISTRY[feature]
    bound = spec.lowest if spec.risk_direction.sign > 0 else spec.highest
    return bound if math.isfinite(bound) else -_FAR if spec.risk_direction.sign > 0 else _FAR


def model_reasons(model: RiskModel, features: pd.DataFrame, pd_: np.ndarray, top: int) -> ReasonCodes:
    """Per row, the model codes of up to ``top`` features that weighed against the customer.

    Ranked by the model's reason contributions (largest adverse first; see
    :meth:`~linewise.models.base.RiskModel.reason_contributions`); a feature is told only
    when it is true for this customer: moving it to its least risky value lowers the
    PD (``pd_`` is the model's PD for ``features``). Features whose risk does not move
    one way are never told.
    """
    n = len(features)
    contributions = model.reason_contributions(features) if n else pd.DataFrame()
    eligible = [
        name
        for name in contributions.columns
        if name in REGISTRY and name not in _NOT_A_REASON and REGISTRY[name].risk_direction is not RiskDirection.NONE
    ]
    if not eligible or top <= 0:
        return ReasonCodes(np.asarray([], dtype=object), np.full((n, 0), -1, dtype="int64"))
    values = contributions[eligible].to_numpy(dtype="float64")
    # The few largest per row, then in order (a full sort of every row costs twice as much).
    width = min(_CANDIDATES, values.shape[1])
    few = np.argpartition(-values, width - 1, axis=1)[:, :width]
    order = np.take_along_axis(few, np.argsort(-np.take_along_axis(values, few, axis=1), axis=1, kind="stable"), axis=1)
    # A missing value is never a reason: "your X, unknown, weighed against you" says nothing.
    known = features[eligible].notna().to_numpy()
    adverse = (np.take_along_axis(values, order, axis=1) > 0) & np.take_along_axis(known, order, axis=1)
    true = np.zeros_like(adverse)
    for rank in range(order.shape[1]):
        # Checked in rank order, and only until ``top`` are found: most accounts need two.
        check = np.flatnonzero(adverse[:, rank] & (true.sum(axis=1) < top))
        if len(check) == 0:
            continue
        moved = features.iloc[check].copy()
        for position, name in enumerate(eligible):
            picked = order[check, rank] == position
            if picked.any():
                column = moved[name].to_numpy(dtype="float64", copy=True)
                column[picked] = least_risky_value(name)
                moved[name] = column
        true[check, rank] = model.predict_proba(moved) < pd_[check]
    told = np.cumsum(true, axis=1) <= top
    # Each row's told codes first, in rank order, then the -1s; ``top`` columns.
    picked = np.where(true & told, order, -1)
    by_rank = np.argsort(picked < 0, axis=1, kind="stable")
    kept = np.take_along_axis(picked, by_rank, axis=1)[:, :top]
    return ReasonCodes(np.asarray([model_code(name) for name in eligible], dtype=object), kept)
