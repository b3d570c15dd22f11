"""Watching a model and a strategy month by month: drift, discrimination, calibration, fairness.

For every month of a portfolio the book as of that month end is decided through the
application layer (as a review would decide it, without recourse or logging), and
compared with a reference month: the stability of the score and of every feature
(:mod:`.drift`), the mix of actions and its stability. Where the portfolio knows
the outcomes that opened at a month: the model's AUC and KS on them and its
calibration by risk grade (the PD predicted against the rate observed, with a
binomial test). At the last month: how the decisions fall across protected
attributes (:mod:`.fairness`).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import binomtest, ks_2samp
from sklearn.metrics import roc_auc_score

from linewise.data import Portfolio
from linewise.errors import InputError
from linewise.review.run import Decider, ReviewRequest, decide_book
from linewise.review.sources import book_of
from linewise.simulate.drift import stability
from linewise.simulate.fairness import fairness
from linewise.strategy.evaluate import ACTIONS

__all__ = ["CALIBRATION_ALPHA", "monitor"]

# A grade whose observed rate a binomial test puts this far from its PD is flagged.
CALIBRATION_ALPHA = 0.01


def monitor(
    portfolio: Portfolio,
    decider: Decider,
    *,
    reference: date | None = None,
    on_month: Callable[[date], None] | None = None,
) -> dict[str, Any]:
    """Every month of ``portfolio`` decided and compared with ``reference`` (default: the first month).

    Raises InputError (``month_not_found``) when ``reference`` is not a month of the
    portfolio.
    """
    months = [month.date() for month in portfolio.months]
    base = reference if reference is not None else months[0]
    if base not in months:
        raise InputError.for_field(
            "month_not_found",
            where=portfolio.source,
            field="--reference",
            rule=f"a month end of the portfolio ({months[0]} to {months[-1]})",
            value=str(base),
        )

    def decided(month: date) -> tuple[pd.DataFrame, pd.DataFrame]:
        if on_month is not None:
            on_month(month)
        run = decide_book(book_of(portfolio, month), decider, ReviewRequest(recourse=False, log=False), log=None)
        return run.decisions, run.features

    # The reference month is decided first and kept; every other month is decided,
    # compared and let go, so that memory holds two months whatever the portfolio's span.
    ref_decisions, ref_features = decided(base)
    report: dict[str, Any] = {
        "source": portfolio.source,
        "reference": base.isoformat(),
        "model": decider.model_ref,
        "strategy": decider.strategy.ref,
        "months": [],
    }
    last_decisions = ref_decisions
    for month in months:
        decisions, features = (ref_decisions, ref_features) if month == base else decided(month)
        report["months"].append(
            _month(month, decisions, features, ref_decisions, ref_features, portfolio.outcomes, decider)
        )
        last_decisions = decisions
        del features
    report["fairness"] = {"as_of": months[-1].isoformat(), **fairness(last_decisions, portfolio.customers)}
    return report


def _month(
    month: date,
    decisions: pd.DataFrame,
    features: pd.DataFrame,
    ref_decisions: pd.DataFrame,
    ref_features: pd.DataFrame,
    outcomes: pd.DataFrame | None,
    decider: Decider,
) -> dict[str, Any]:
    score = stability(ref_decisions["pd"], decisions["pd"])
    drifting: dict[str, Any] = {}
    for name in features.columns:
        if name in ref_features.columns:
            found = stability(ref_features[name], features[name])
            if found is not None:
                drifting[str(name)] = found.as_dict()
    actions = decisions["action"].value_counts(normalize=True)
    action_stability = stability(ref_decisions["action"], decisions["action"])
    out: dict[str, Any] = {
        "month": month.isoformat(),
        "accounts": len(decisions),
        "score": None if score is None else score.as_dict(),
        "features": drifting,
        # Most moved first.
        "features_drifting": sorted(
            (name for name, found in drifting.items() if found["drift"]), key=lambda name: -drifting[name]["psi"]
        ),
        "model_features_drifting": sorted(
            (name for name, found in drifting.items() if found["drift"] and name in decider.model.features_),
            key=lambda name: -drifting[name]["psi"],
        ),
        "model_features": len(decider.model.features_),
        "actions": {action: round(float(actions.get(action, 0.0)), 6) for action in ACTIONS},
        "actions_stability": None if action_stability is None else action_stability.as_dict(),
    }
    realised = _realised_at(outcomes, month, decisions)
    if realised is not None:
        out["performance"], out["calibration"] = _performance(decisions, realised)
    return out


def _realised_at(outcomes: pd.DataFrame | None, month: date, decisions: pd.DataFrame) -> np.ndarray | None:
    """Per decision, whether its account went bad in the window that opened at ``month`` (NaN: unknown)."""
    if outcomes is None:
        return None
    rows = outcomes.loc[pd.to_datetime(outcomes["as_of"]) == pd.Timestamp(month)]
    if rows.empty:
        return None
    went_bad = rows.set_index("account_id")["default"].astype("float64")
    return went_bad.reindex(decisions["account_id"]).to_numpy()


def _performance(decisions: pd.DataFrame, realised: np.ndarray) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    known = ~np.isnan(realised)
    bad = realised[known].astype(bool)
    pd_ = decisions["pd"].to_numpy()[known]
    both = bad.any() and (~bad).any()
    performance = {
        "accounts": int(known.sum()),
        "bad_rate": round(float(bad.mean()), 6) if known.any() else None,
        "auc": round(float(roc_auc_score(bad, pd_)), 6) if both else None,
        "ks": round(float(ks_2samp(pd_[bad], pd_[~bad]).statistic), 6) if both else None,
    }
    grades = decisions["risk_grade"].to_numpy()[known]
    calibration = []
    for grade in sorted(set(grades)):
        chosen = grades == grade
        n, k, predicted = int(chosen.sum()), int(bad[chosen].sum()), float(pd_[chosen].mean())
        p_value = float(binomtest(k, n, min(max(predicted, 1e-9), 1 - 1e-9)).pvalue)
        calibration.append(
            {
                "grade": str(grade),
                "accounts": n,
                "predicted": round(predicted, 6),
                "observed": round(k / n, 6),
                "p_value": round(p_value, 6),
                "flagged": p_value < CALIBRATION_ALPHA,
            }
        )
    return performance, calibration
