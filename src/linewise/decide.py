"""``decide``: features -> model -> strategy -> explain, for a batch of accounts.

The one entry every adapter calls (CLI, batch runner, service). Pure: frames in, a
frame out, nothing read or written. One account is a batch of one.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

import numpy as np
import pandas as pd

from linewise.decision_schema import DECISION_COLUMNS
from linewise.explain.catalogue import code_feature
from linewise.explain.model_reasons import model_reasons
from linewise.explain.recourse import after_decision, find_recourse
from linewise.features.projection import History
from linewise.models.base import RiskModel
from linewise.models.calibration import logit
from linewise.strategy.compiled import Policy, Strategy
from linewise.strategy.evaluate import (
    MAX_REASONS,
    Context,
    ReasonCodes,
    paused_gc,
    policy_decision_arrays,
)
from linewise.strategy.reasons import ENGINE_REASONS
from linewise.strategy.spec import DECISION_SUBJECTS

__all__ = ["BATCH", "DECISION_COLUMNS", "MODEL_REASONS", "decide", "replay"]

# Accounts decided together: a batch this size stays in the CPU's caches (a million at
# once is 40% slower), and is still large enough for every step to be vectorised.
BATCH = 50_000
# Model reasons told after a risk-based reason: enough to say why, few enough to leave
# room for the strategy's own.
MODEL_REASONS = 2


def decide(
    features: pd.DataFrame,
    *,
    model: RiskModel,
    model_ref: str,
    strategy: Strategy,
    context: Context,
    history: History | None = None,
    recourse: bool = True,
) -> pd.DataFrame:
    """One decision per row of ``features`` (indexed by account id), as DESIGN.md's decision contract.

    ``context`` carries the as-of date, the trigger and, per account (indexed like
    ``features``), the last limit change and the requests in the window. ``reasons``
    are ordered codes, at most four; ``recourse`` the encoded steps that would raise
    the line (empty when increased or when none is within reach), with
    ``recourse_limit`` and ``recourse_on`` what they would give and when. Recourse is
    lived on ``history`` (what the features were computed from, for at least these
    accounts), which it needs.
    """
    if recourse and history is None:
        raise ValueError(
            "decide: recourse is lived on the accounts' history; pass history= "
            "(linewise.features.projection.history_of) or recourse=False"
        )
    history = None if not recourse or history is None else history.rows(history.position_of(features.index))
    batches = [
        _decide_batch(
            features.iloc[start : start + BATCH],
            model=model,
            model_ref=model_ref,
            strategy=strategy,
            context=_context_rows(context, features.index[start : start + BATCH]),
            history=None if history is None else history.rows(np.arange(start, min(start + BATCH, len(features)))),
        )
        for start in range(0, max(len(features), 1), BATCH)
    ]
    return batches[0] if len(batches) == 1 else pd.concat(batches, ignore_index=True)


def _decide_batch(
    features: pd.DataFrame,
    *,
    model: RiskModel,
    model_ref: str,
    strategy: Strategy,
    context: Context,
    history: History | None,
) -> pd.DataFrame:
    """:func:`decide` on at most :data:`BATCH` accounts, ``history`` row for row (None: no recourse)."""
    pd_, score = _pd_and_points(model, features)
    arms = strategy.assign_arms(features.index.to_numpy())
    parts = []
    for arm, policy in strategy.policies.items():
        rows = np.flatnonzero(arms == arm)
        if len(rows) == 0:
            continue
        every = len(rows) == len(features)  # one arm for all: its rows in order, nothing to take
        parts.append(
            (
                rows,
                _decide_arm(
                    policy,
                    features if every else features.iloc[rows],
                    pd_ if every else pd_[rows],
                    score if every else score[rows],
                    model,
                    _context_rows(context, features.index[rows]),
                    None if history is None else history if every else history.rows(rows),
                ),
            )
        )
    if len(parts) == 1 and len(parts[0][0]) == len(features):
        decided: dict[str, Any] = parts[0][1]
    else:
        joined = (
            pd.concat([pd.DataFrame(columns, index=features.index[rows]) for rows, columns in parts]).reindex(
                features.index
            )
            if parts
            else _empty(features.index)
        )
        decided = {name: joined[name].to_numpy() for name in _ARM_COLUMNS}
        decided["recourse_limit"] = joined["recourse_limit"].array
    out = pd.DataFrame(
        {
            "account_id": features.index.astype("str"),
            "as_of": pd.Timestamp(context.as_of).date(),
            "trigger": context.trigger,
            **{name: decided[name] for name in ("action", "current_limit", "new_limit")},
            "pd": pd_,
            "score": score,
            **{name: decided[name] for name in ("risk_grade", "segment", "reasons", "recourse")},
            "recourse_limit": decided["recourse_limit"],  # integer minor units, NA where none
            "recourse_on": decided["recourse_on"],
            "strategy": strategy.ref,
            "model": model_ref,
            "arm": arms,
        }
    )
    return out.reset_index(drop=True)


# The columns :func:`_decide_arm` gives.
_ARM_COLUMNS = (
    "action",
    "current_limit",
    "new_limit",
    "risk_grade",
    "segment",
    "reasons",
    "recourse",
    "recourse_limit",
    "recourse_on",
)


def _decide_arm(
    policy: Policy,
    features: pd.DataFrame,
    pd_: np.ndarray,
    score: np.ndarray,
    model: RiskModel,
    context: Context,
    history: History | None,
) -> dict[str, Any]:
    """The decisions of ``policy`` for ``features``, as :data:`_ARM_COLUMNS` arrays (row for row)."""
    decided, codes = policy_decision_arrays(policy, features, pd_, context, score)
    n = len(features)
    with paused_gc():
        steps: list[list[str]] = [[] for _ in range(n)]
    limits = np.zeros(n, dtype="int64")
    on: list[date | None] = [None] * n
    if history is not None:
        rows = np.flatnonzero(decided["action"] != "increase")
        searched, searched_context = _as_decided(
            decided, rows, _taken(features, rows), _context_rows(context, features.index[rows])
        )
        found = find_recourse(
            policy, searched, history.rows(rows), lambda frame: _pd_and_points(model, frame), searched_context
        )
        for position, row in enumerate(rows.tolist()):
            steps[row], on[row] = found.steps[position], found.on[position]
        limits[rows] = found.new_limit
    return {
        **{name: decided[name] for name in ("action", "current_limit", "new_limit", "risk_grade", "segment")},
        "reasons": _objects(_with_model_reasons(policy, codes, features, pd_, model).lists()),
        "recourse": _objects(steps),
        "recourse_limit": pd.arrays.IntegerArray(limits, limits == 0),  # NA where there is none
        "recourse_on": _objects(on),
    }


def _objects(values: Sequence[object]) -> np.ndarray:
    """``values`` as a one-dimensional object array (lists kept whole, as a frame's column holds them)."""
    out = np.empty(len(values), dtype=object)
    for i, value in enumerate(values):
        out[i] = value
    return out


def _taken(frame: pd.DataFrame, rows: np.ndarray) -> pd.DataFrame:
    """``frame.iloc[rows]``; ``frame`` itself when that is every row in order (no copy of one account's frame)."""
    return frame if np.array_equal(rows, np.arange(len(frame))) else frame.iloc[rows]


def _pd_and_points(model: RiskModel, features: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    pd_ = model.predict_proba(features)
    return pd_, model.points_scaling.points(logit(pd_))


def _as_decided(
    decided: dict[str, np.ndarray], rows: np.ndarray, features: pd.DataFrame, context: Context
) -> tuple[pd.DataFrame, Context]:
    """Features and context (``rows`` of ``decided``) as they stand once the decisions take effect.

    A cut line starts from its new limit, and its cool-down from today; recourse is
    what would raise it from there.
    """
    new_limit = decided["new_limit"][rows]
    cut = new_limit < decided["current_limit"][rows]
    if not cut.any():
        return features, context
    moved = after_decision(features, new_limit)
    changed = (
        pd.Series(pd.NaT, index=features.index, dtype="datetime64[ns]")
        if context.last_limit_change_on is None
        else pd.to_datetime(context.last_limit_change_on).reindex(features.index)
    )
    changed[cut] = pd.Timestamp(context.as_of)
    return moved, Context(
        as_of=context.as_of,
        trigger=context.trigger,
        last_limit_change_on=changed,
        month_so_far=context.month_so_far,
        requests_in_window=context.requests_in_window,
    )


def _risk_codes(policy: Policy) -> set[str]:
    """The codes whose cause is the model's assessment (the grade, rules and gates on PD or score)."""
    codes = {reason.code for reason in ENGINE_REASONS.values() if reason.from_model}
    codes |= {
        rule.code
        for rule in (*policy.freeze, *policy.decrease)
        if any(check.feature in DECISION_SUBJECTS for check in rule.when)
    }
    codes |= {check.code for check in policy.all_gates if check.feature in DECISION_SUBJECTS}
    return codes


def _with_model_reasons(
    policy: Policy, reasons: ReasonCodes, features: pd.DataFrame, pd_: np.ndarray, model: RiskModel
) -> ReasonCodes:
    """``reasons`` with the model's adverse features told right after a risk-based reason."""
    risk_codes = _risk_codes(policy)
    risk = np.isin(reasons.picked, [i for i, code in enumerate(reasons.codes) if code in risk_codes])
    rows = np.flatnonzero(risk.any(axis=1))
    if len(rows) == 0:
        return reasons
    told = model_reasons(model, features.iloc[rows], pd_[rows], MODEL_REASONS)
    offset = len(reasons.codes)
    vocabulary = np.concatenate([reasons.codes, told.codes])
    feature_of = [code_feature(str(code), policy) for code in vocabulary]
    extra = np.where(told.picked >= 0, told.picked + offset, -1)
    merged = np.full((len(reasons.picked), MAX_REASONS), -1, dtype="int64")
    merged[:, : reasons.picked.shape[1]] = reasons.picked
    # Few distinct (reasons, model reasons) pairs: each is merged once.
    pairs = np.concatenate([reasons.picked[rows], extra], axis=1)
    distinct, firsts, inverse = np.unique(pairs, axis=0, return_index=True, return_inverse=True)
    width = reasons.picked.shape[1]
    last_risk = width - 1 - np.argmax(risk[rows][:, ::-1], axis=1)
    built = np.full((len(distinct), MAX_REASONS), -1, dtype="int64")
    for k, row in enumerate(distinct):
        at = int(last_risk[firsts[k]]) + 1
        own = [int(c) for c in row[:width] if c >= 0]
        # A feature a gate already names is not named again as a model reason.
        named = {feature_of[c] for c in own}
        added = [int(c) for c in row[width:] if c >= 0 and feature_of[c] not in named]
        codes = [*own[:at], *added, *own[at:]][:MAX_REASONS]
        built[k, : len(codes)] = codes
    merged[rows] = built[inverse.reshape(-1)]
    return ReasonCodes(vocabulary, merged)


def _context_rows(context: Context, index: pd.Index) -> Context:
    def rows(series: pd.Series | None) -> pd.Series | None:
        if series is None or series.index.equals(index):
            return series  # nothing writes to a context's series: no copy is needed
        return series.reindex(index)

    return Context(
        as_of=context.as_of,
        trigger=context.trigger,
        last_limit_change_on=rows(context.last_limit_change_on),
        requests_in_window=rows(context.requests_in_window),
        month_so_far=context.month_so_far,
    )


def _empty(index: pd.Index) -> pd.DataFrame:
    return pd.DataFrame({name: pd.Series(dtype=object) for name in _ARM_COLUMNS}, index=index)


def replay(
    stored: pd.DataFrame,
    features: pd.DataFrame,
    context: Context,
    *,
    model: RiskModel,
    model_ref: str,
    strategy: Strategy,
    history: History | None = None,
    recourse: bool = True,
) -> pd.DataFrame:
    """Where deciding ``stored``'s accounts again differs from what was stored, one row per difference.

    ``stored`` is one run's decisions (the decision contract's columns), ``features``,
    ``context`` and ``history`` what they were made from, ``recourse`` whether the run
    worked recourse out. Columns of the result: ``account_id,
    column, stored, replayed``; empty when every decision is reproduced bit for bit.
    """
    accounts = pd.Index(stored["account_id"].astype("str"))
    again = decide(
        features.set_axis(features.index.astype("str")).loc[accounts],
        model=model,
        model_ref=model_ref,
        strategy=strategy,
        context=context,
        history=history,
        recourse=recourse,
    )
    differences = []
    for column in DECISION_COLUMNS:
        before = [_comparable(v) for v in stored[column]]
        after = [_comparable(v) for v in again[column]]
        for account, old, new in zip(accounts, before, after, strict=True):
            if old != new:
                differences.append({"account_id": account, "column": column, "stored": old, "replayed": new})
    return pd.DataFrame(differences, columns=["account_id", "column", "stored", "replayed"])


def _comparable(value: object) -> object:
    """``value`` in one form whatever store it came back from: lists as tuples, missing as None."""
    if isinstance(value, list | tuple | np.ndarray):
        return tuple(str(v) for v in value)
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float) and np.isnan(value):
        return None
    if isinstance(value, pd.Timestamp):
        return value.date()
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    return value
