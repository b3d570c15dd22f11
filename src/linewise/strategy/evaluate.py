"""Evaluate a policy on a batch of accounts: segment, grade, action, new limit and reasons.

Vectorised over accounts: every rule is one numpy operation over the batch, and one
account is a batch of one. The reasons of an account are the codes of everything
that held it back, ordered: the freeze or decrease rule that fired; then what
blocked an increase (segment, risk grade, each failing gate in the file's order,
the request limit, the cool-down, the top of the ladder); then the caps that cut
the increase short (or, for a blocked account, would stop it by themselves), the
one that withheld most first.
"""

from __future__ import annotations

import gc
import operator
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from linewise.errors import InputError
from linewise.inputs import parse_code
from linewise.strategy.compiled import Check, Policy, RulePolicy
from linewise.strategy.reasons import (
    ENGINE_REASONS,
    RULE_PRIORITY,
    CapInputs,
    EngineReason,
    ReasonKind,
    engine_reasons,
    unknown_code,
)
from linewise.strategy.spec import Operator

__all__ = [
    "ACTIONS",
    "MAX_REASONS",
    "Context",
    "ReasonCodes",
    "cap_limits",
    "evaluate_policy",
    "evaluate_policy_codes",
    "lists_of_codes",
    "paused_gc",
    "policy_actions",
    "policy_decision_arrays",
]

ACTIONS = ("increase", "hold", "decrease", "freeze")
# A customer reads at most this many reasons; more would bury the ones that matter.
MAX_REASONS = 4
_LIMIT_AT_TOP = ENGINE_REASONS["limit_at_top"]


@dataclass(frozen=True)
class Context:
    """What a decision needs beyond the features, one value per account (or one for all).

    ``last_limit_change_on`` is NaT when the limit never changed; ``requests_in_window``
    counts the customer's requests for more within the policy's window, this one included.
    ``month_so_far``: the features' last month is the as-of date's own month, read so far
    (a ledger read mid-month), not the last month closed before it.
    """

    as_of: date
    trigger: str = "review"
    last_limit_change_on: pd.Series | None = None
    requests_in_window: pd.Series | None = None
    month_so_far: bool = False

    def __post_init__(self) -> None:
        # Which triggers exist is the application layer's registry (linewise.review.triggers);
        # the engine reads only "review" and "request", and needs a code it can log.
        parse_code(self.trigger, "trigger")


@dataclass(frozen=True)
class ReasonCodes:
    """Reasons of a batch as integers: ``picked[i]`` indexes ``codes`` in order, -1 for none."""

    codes: np.ndarray
    picked: np.ndarray

    def lists(self) -> list[list[str]]:
        """Per account, its codes as a list."""
        return lists_of_codes(self.codes, self.picked)


def evaluate_policy(
    policy: Policy,
    features: pd.DataFrame,
    pd_: np.ndarray,
    context: Context,
    score: np.ndarray | None = None,
    *,
    reasons: bool = True,
) -> pd.DataFrame:
    """One row per account of ``features`` (same index): the decision of ``policy``.

    Columns: ``segment, risk_grade, action, current_limit, new_limit, tier_target,
    reasons`` (a list of codes, at most :data:`MAX_REASONS`; left out when ``reasons``
    is false). ``tier_target`` is the limit the ladder alone would give on an
    increase, before any cap.
    """
    decided, candidates = _evaluate(policy, features, pd_, context, score)
    out = pd.DataFrame(decided, index=features.index)
    if reasons:
        out["reasons"] = _ordered_reasons(candidates, len(features)).lists()
    return out


def evaluate_policy_codes(
    policy: Policy,
    features: pd.DataFrame,
    pd_: np.ndarray,
    context: Context,
    score: np.ndarray | None = None,
) -> tuple[pd.DataFrame, ReasonCodes]:
    """:func:`evaluate_policy` without the ``reasons`` column, and the reasons as :class:`ReasonCodes`."""
    decided, codes = policy_decision_arrays(policy, features, pd_, context, score)
    return pd.DataFrame(decided, index=features.index), codes


def policy_decision_arrays(
    policy: Policy,
    features: pd.DataFrame,
    pd_: np.ndarray,
    context: Context,
    score: np.ndarray | None = None,
) -> tuple[dict[str, np.ndarray], ReasonCodes]:
    """:func:`evaluate_policy_codes` with its columns as arrays (row for row): no frame to build."""
    decided, candidates = _evaluate(policy, features, pd_, context, score)
    return decided, _ordered_reasons(candidates, len(features))


def policy_actions(
    policy: Policy,
    features: pd.DataFrame,
    pd_: np.ndarray,
    context: Context,
    score: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Each account's ``action`` and ``new_limit`` (int64) as :func:`evaluate_policy` gives them.

    Without a frame or reasons: what a search that decides many candidates needs.
    """
    decided, _ = _evaluate(policy, features, pd_, context, score)
    return decided["action"], decided["new_limit"]


_Candidates = list[tuple[str, np.ndarray, np.ndarray]]  # (code, applies, priority) of each reason


def _evaluate(
    policy: Policy,
    features: pd.DataFrame,
    pd_: np.ndarray,
    context: Context,
    score: np.ndarray | None,
) -> tuple[dict[str, np.ndarray], _Candidates]:
    """:func:`evaluate_policy`'s columns as arrays, and every reason that could be told."""
    n = len(features)
    outputs = {"pd": pd_} if score is None else {"pd": pd_, "score": score}
    values = _Values(features, outputs)
    current = values.amounts("credit_limit")
    segment = _segments(policy, values, n)
    grade = np.searchsorted(policy.grade_pd_max, np.clip(pd_, 0.0, 1.0), side="left")
    grade = np.minimum(grade, len(policy.grade_names) - 1)

    candidates: _Candidates = []
    # A frozen line's reason is the freeze; a cut line's the cut: nothing else is shown.
    # A frozen line is cut too where a decrease rule holds, so that clearing the arrears
    # that froze it can never leave it with a lower limit than before.
    nobody = np.zeros(n, dtype=bool)
    frozen = _first_rule_firing(policy.freeze, values, nobody, candidates, RULE_PRIORITY[ReasonKind.FREEZE]) >= 0
    cut_by = _first_rule_firing(policy.decrease, values, nobody, candidates, RULE_PRIORITY[ReasonKind.DECREASE])
    cut = cut_by >= 0
    tiers_down = np.asarray([0, *(rule.tiers_down for rule in policy.decrease)])[cut_by + 1]

    blockers: list[tuple[str, np.ndarray, np.ndarray]] = []
    blocked = _blockers(policy, values, segment, grade, context, blockers)
    candidates += [(code, applies & ~frozen & ~cut, order) for code, applies, order in blockers]
    ladder = policy.ladder
    tier = np.searchsorted(ladder, current, side="right") - 1
    at_top = current >= ladder[-1]
    candidates.append((_LIMIT_AT_TOP.code, at_top & ~frozen & ~cut, np.full(n, _LIMIT_AT_TOP.priority)))
    target_tier = np.minimum(tier + policy.max_tiers_per_review, len(ladder) - 1)
    tier_target = np.where(at_top, current, ladder[np.maximum(target_tier, 0)])

    caps = _caps(policy, values, segment, current)
    capped = np.minimum(tier_target, np.min(np.stack(list(caps.values())), axis=0))
    raised = _highest_rung(ladder, capped, current)
    open_ = ~frozen & ~cut & ~at_top
    may_raise = open_ & ~blocked
    increase = may_raise & (raised > current)
    # A cap is a reason where it cut an increase short, and where, blocked for another
    # reason, it would stop any increase by itself (so that it is not a surprise later).
    for code, cap in caps.items():
        withheld = (tier_target - cap).astype("float64")
        stops = _highest_rung(ladder, np.minimum(tier_target, cap), current) <= current
        binding = open_ & (cap < tier_target) & (may_raise | stops)
        floor = ENGINE_REASONS[code].priority
        candidates.append((code, binding, floor + 1.0 / (1.0 + np.maximum(withheld, 0.0))))

    above_rung = current > ladder[np.maximum(tier, 0)]
    down_index = np.clip(tier - tiers_down + above_rung.astype("int64"), 0, len(ladder) - 1)
    lowered = np.where(tier >= 0, ladder[down_index], current)
    decrease = cut & (lowered < current)

    action = np.full(n, "hold", dtype=object)
    action[increase] = "increase"
    action[decrease] = "decrease"
    action[frozen] = "freeze"
    new_limit = np.where(increase, raised, np.where(decrease, lowered, current))
    decided = {
        "segment": np.asarray([s.name for s in policy.segments], dtype=object)[segment],
        "risk_grade": np.asarray(policy.grade_names, dtype=object)[grade],
        "action": action,
        "current_limit": current,
        "new_limit": new_limit.astype("int64"),
        "tier_target": tier_target.astype("int64"),
    }
    return decided, candidates


def _highest_rung(ladder: np.ndarray, at_most: np.ndarray, fallback: np.ndarray) -> np.ndarray:
    """The highest rung of ``ladder`` not above ``at_most``; ``fallback`` below the floor."""
    rung = np.searchsorted(ladder, at_most, side="right") - 1
    return np.where(rung >= 0, ladder[np.maximum(rung, 0)], fallback)


# --- inputs -----------------------------------------------------------------------------


class _Values:
    """The features of a batch as float arrays; a feature not in the frame is all missing.

    ``outputs`` are the model's (``pd``, ``score``), which conditions may test too.
    """

    def __init__(self, features: pd.DataFrame, outputs: dict[str, np.ndarray]) -> None:
        self._features = features
        self._cache: dict[str, np.ndarray] = {
            name: np.asarray(array, dtype="float64") for name, array in outputs.items()
        }
        # A small all-float frame is read as one matrix: taking a column of it as a
        # Series costs tens of microseconds, for a frame of one account as for a thousand.
        self._matrix: np.ndarray | None = None
        self._position = {name: i for i, name in enumerate(features.columns)}
        if len(features) <= _MATRIX_ROWS and (features.dtypes == np.float64).all():
            self._matrix = features.to_numpy()

    def get(self, name: str) -> np.ndarray:
        if name not in self._cache:
            if self._matrix is not None and name in self._position:
                self._cache[name] = self._matrix[:, self._position[name]]
            elif name in self._position:
                column = pd.to_numeric(self._features[name], errors="coerce")
                self._cache[name] = column.to_numpy(dtype="float64", na_value=np.nan)
            else:
                self._cache[name] = np.full(len(self._features), np.nan)
        return self._cache[name]

    def amounts(self, name: str) -> np.ndarray:
        values = self.get(name)
        if np.isnan(values).any():
            first = self._features.index[np.isnan(values)][0]
            raise InputError.for_field(
                "feature_missing", where=str(first), field=name, rule="known for every account", value=None
            )
        return values.astype("int64")


# Rows up to which an all-float frame is read as one matrix (a copy, for a frame of many blocks).
_MATRIX_ROWS = 10_000

_COMPARE = {
    Operator.LT: operator.lt,
    Operator.LE: operator.le,
    Operator.GT: operator.gt,
    Operator.GE: operator.ge,
    Operator.EQ: operator.eq,
    Operator.NE: operator.ne,
}


def _holds(check: Check, values: np.ndarray) -> np.ndarray:
    """Where ``check`` holds; a missing value fails a comparison unless the check lets it pass."""
    missing: np.ndarray = np.isnan(values)
    if check.op is Operator.PRESENT:
        return ~missing
    if check.op is Operator.MISSING:
        return missing
    assert check.value is not None
    result: np.ndarray = _COMPARE[check.op](values, check.value)
    return np.where(missing, check.passes_if_missing, result)


def _all_hold(checks: tuple[Check, ...], values: _Values, n: int) -> np.ndarray:
    out = np.ones(n, dtype=bool)
    for check in checks:
        out &= _holds(check, values.get(check.feature))
    return out


def _segments(policy: Policy, values: _Values, n: int) -> np.ndarray:
    segment = np.full(n, len(policy.segments) - 1, dtype="int64")
    unassigned = np.ones(n, dtype=bool)
    for index, seg in enumerate(policy.segments):
        takes = unassigned & _all_hold(seg.when, values, n)
        segment[takes] = index
        unassigned &= ~takes
    return segment


# --- rules, blockers, caps -----------------------------------------------------------------


def _first_rule_firing(
    rules: tuple[RulePolicy, ...],
    values: _Values,
    excluded: np.ndarray,
    candidates: list[tuple[str, np.ndarray, np.ndarray]],
    priority: float,
) -> np.ndarray:
    """Per account, the index of the first of ``rules`` that fires (-1 if none or ``excluded``).

    Only that rule's reason is appended to ``candidates``.
    """
    first = np.full(len(excluded), -1, dtype="int64")
    for index, rule in enumerate(rules):
        fires = (first < 0) & ~excluded & _all_hold(rule.when, values, len(excluded))
        candidates.append((rule.code, fires, np.full(len(excluded), priority + index)))
        first[fires] = index
    return first


def _blockers(
    policy: Policy,
    values: _Values,
    segment: np.ndarray,
    grade: np.ndarray,
    context: Context,
    candidates: list[tuple[str, np.ndarray, np.ndarray]],
) -> np.ndarray:
    """Where something stops any increase; appends each blocker's reason."""
    n = len(segment)
    blocked = np.zeros(n, dtype=bool)

    def block(code: str, applies: np.ndarray, priority: float) -> None:
        nonlocal blocked
        candidates.append((code, applies, np.full(n, priority)))
        blocked |= applies

    def block_for(reason: EngineReason, applies: np.ndarray) -> None:
        assert reason.kind.blocks, reason.code
        block(reason.code, applies, reason.priority)

    no_increase = np.asarray([not s.may_increase for s in policy.segments])[segment]
    block_for(ENGINE_REASONS["segment_not_raised"], no_increase)
    allowed = np.asarray([name in policy.increase_grades for name in policy.grade_names])
    block_for(ENGINE_REASONS["risk_grade_too_low"], ~allowed[grade])
    gates: list[tuple[Check, np.ndarray | None]] = [(g, None) for g in policy.gates]
    for index, seg in enumerate(policy.segments):
        gates += [(g, segment == index) for g in seg.gates]
    if context.trigger == "request":
        gates += [(g, None) for g in policy.request_gates]
        count = _per_account(context.requests_in_window, n, 0.0)
        block_for(ENGINE_REASONS["request_limit_reached"], count > policy.max_requests)
    for index, (check, where) in enumerate(gates):
        subject = values.get(check.feature)
        fails = ~_holds(check, subject)
        if where is not None:
            fails &= where
        priority = RULE_PRIORITY[ReasonKind.GATE] + index / 100.0
        if check.op.takes_value:
            # Not knowing a value is a different reason from a value on the wrong side.
            unknown = fails & np.isnan(subject)
            block(unknown_code(check.feature), unknown, priority)
            fails &= ~unknown
        block(check.code, fails, priority)
    changed_on = context.last_limit_change_on
    if changed_on is not None and policy.cooldown_days > 0:
        recent = _days_since(changed_on, context.as_of) < policy.cooldown_days
        block_for(ENGINE_REASONS["cooldown_active"], recent)
    return blocked


def _days_since(changed_on: pd.Series, as_of: date) -> np.ndarray:
    """Whole days (floored) from each of ``changed_on`` to ``as_of``; infinite where never (NaT)."""
    dtype = changed_on.dtype
    naive = isinstance(dtype, np.dtype) and dtype.kind == "M"
    stamps = changed_on.to_numpy() if naive else pd.to_datetime(changed_on).to_numpy()
    missing = np.isnat(stamps)
    elapsed: np.ndarray = np.datetime64(pd.Timestamp(as_of)) - stamps
    with np.errstate(invalid="ignore"):  # NaT divides to nothing: masked just below
        days = elapsed // np.timedelta64(1, "D")
    return np.where(missing, np.inf, days.astype("float64"))


def cap_limits(policy: Policy, features: pd.DataFrame, segment: np.ndarray) -> dict[str, np.ndarray]:
    """Per cap, the highest limit it allows each account of ``features`` (int64).

    ``segment`` indexes ``policy.segments`` per account; a cap that does not apply to
    an account is far above any limit.
    """
    values = _Values(features, {})
    return _caps(policy, values, segment, values.amounts("credit_limit"))


def _per_account(series: pd.Series | None, n: int, default: float) -> np.ndarray:
    if series is None:
        return np.full(n, default)
    return series.to_numpy(dtype="float64", na_value=default)


def _caps(policy: Policy, values: _Values, segment: np.ndarray, current: np.ndarray) -> dict[str, np.ndarray]:
    """Each cap's highest limit per account (int64; ``NO_CAP`` where none applies), in the table's order."""
    given = CapInputs(policy=policy, current=current, segment=segment, value=values.get)
    return {reason.code: reason.cap(given) for reason in engine_reasons(ReasonKind.CAP) if reason.cap is not None}


def _ordered_reasons(candidates: list[tuple[str, np.ndarray, np.ndarray]], n: int) -> ReasonCodes:
    """Per account, the codes that apply, by priority, at most :data:`MAX_REASONS`."""
    if not candidates:
        return ReasonCodes(np.asarray([], dtype=object), np.full((n, 0), -1, dtype="int64"))
    codes = np.asarray([code for code, _, _ in candidates], dtype=object)
    priority = np.stack([np.where(applies, order, np.inf) for _, applies, order in candidates], axis=1)
    ranked = np.argsort(priority, axis=1, kind="stable")[:, :MAX_REASONS]
    taken = np.isfinite(np.take_along_axis(priority, ranked, axis=1))
    return ReasonCodes(codes, np.where(taken, ranked, -1))


def lists_of_codes(codes: np.ndarray, picked: np.ndarray) -> list[list[str]]:
    """Per row of ``picked`` (indices into ``codes``, -1 for none), the list of those codes.

    Rows repeat a few hundred combinations at most: each distinct one is built once
    (a Python loop over a million rows of numpy indexing would take seconds).
    """
    n, width = picked.shape
    if n == 0:
        return []
    base = len(codes) + 1
    keys = np.zeros(n, dtype="int64")
    for column in range(width):
        keys = keys * base + (picked[:, column] + 1)
    _, first, inverse = np.unique(keys, return_index=True, return_inverse=True)
    built = [tuple(codes[i] for i in picked[row] if i >= 0) for row in first]
    with paused_gc():
        return [list(built[i]) for i in inverse.tolist()]


@contextmanager
def paused_gc() -> Iterator[None]:
    """No cyclic garbage collection inside the block.

    Building a million small lists makes the collector walk every live object many
    times over (two thirds of the time); lists of strings cannot form cycles, so
    nothing is lost by collecting after the block instead.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
