"""Reason codes: the stable names of everything that can shape a decision.

Codes are API and never renamed; their customer and analyst texts live in the
explain package's catalogues. A gate's code is named in the strategy file or
derived here from its feature and operator.

The codes the engine gives itself, whatever the file says, are declared once, in
:data:`ENGINE_REASONS`: each with its kind, the priority that orders an account's
reasons, the setting of the strategy it comes from and, for a cap, the highest limit
it allows. Evaluation, the notices, the reason catalogue and the tests all loop over
that table, so a new cap is one entry here plus its texts in
:mod:`linewise.explain.catalogue`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

import numpy as np

from linewise.features import REGISTRY, RiskDirection
from linewise.strategy.spec import Operator

if TYPE_CHECKING:
    from linewise.strategy.compiled import Policy

__all__ = [
    "ENGINE_REASONS",
    "NO_CAP",
    "OPERATOR_SUFFIX",
    "RULE_PRIORITY",
    "CapInputs",
    "EngineReason",
    "ReasonKind",
    "engine_reasons",
    "gate_code",
    "unknown_code",
]

# Far above any limit, and exact as a float64 (2**62), so float caps compare safely.
NO_CAP = 2**62


class ReasonKind(StrEnum):
    """What a reason does to a decision.

    ``freeze`` and ``decrease`` rules and ``gate`` conditions are the strategy file's
    (their codes are its own); the others are the engine's.
    """

    FREEZE = "freeze"  # a freeze rule fired: the line is frozen
    DECREASE = "decrease"  # a decrease rule fired: the line is cut
    SEGMENT = "segment"  # the account's segment is never raised
    GRADE = "grade"  # the model's risk grade is not one that is raised
    GATE = "gate"  # an increase or request gate failed
    REQUEST = "request"  # too many requests for more in the window
    COOLDOWN = "cooldown"  # the limit changed too recently
    LADDER = "ladder"  # the line is at the top of the ladder
    CAP = "cap"  # a cap cut the increase short (or would stop it)

    @property
    def blocks(self) -> bool:
        """Whether a reason of this kind stops any increase by itself."""
        return self in _BLOCKING


_BLOCKING = frozenset({ReasonKind.SEGMENT, ReasonKind.GRADE, ReasonKind.GATE, ReasonKind.REQUEST, ReasonKind.COOLDOWN})

# The priorities of the file's own reasons: the n-th freeze rule is told at 0 + n, the
# n-th decrease rule at 10 + n, the n-th gate at 30 + n / 100. A lower priority is told
# first; the engine's reasons (below) sit between and after them.
RULE_PRIORITY: dict[ReasonKind, float] = {
    ReasonKind.FREEZE: 0.0,
    ReasonKind.DECREASE: 10.0,
    ReasonKind.GATE: 30.0,
}


@dataclass(frozen=True)
class CapInputs:
    """What a cap's highest limit is computed from, for a batch of accounts.

    ``current`` is each account's limit (int64), ``segment`` the index of its segment
    in ``policy.segments``, and ``value(name)`` a feature's values (float64, NaN where
    missing).
    """

    policy: Policy
    current: np.ndarray
    segment: np.ndarray
    value: Callable[[str], np.ndarray]


Cap = Callable[[CapInputs], np.ndarray]


@dataclass(frozen=True)
class EngineReason:
    """A code the engine gives: its kind, priority and the setting it comes from.

    ``priority`` orders an account's reasons (lower first; see
    :data:`RULE_PRIORITY` for the file's own). A cap's priority is a floor: within
    it, the cap that withheld most is told first. ``cap`` is a cap's highest limit
    per account (int64; :data:`NO_CAP` where it does not apply). ``from_model``
    says the reason's cause is the model's assessment (its adverse features are
    told next to it). ``setting`` is where the strategy file sets it.
    """

    code: str
    kind: ReasonKind
    priority: float
    meaning: str
    setting: str
    cap: Cap | None = None
    from_model: bool = False

    def __post_init__(self) -> None:
        assert (self.kind is ReasonKind.CAP) == (self.cap is not None), self.code
        assert self.kind not in RULE_PRIORITY, self.code


# --- the caps: each account's highest limit ------------------------------------------------


def _step_pct(given: CapInputs) -> np.ndarray:
    capped: np.ndarray = (given.current * (1.0 + given.policy.step_pct_max / 100.0)).astype("int64")
    return capped


def _step_amount(given: CapInputs) -> np.ndarray:
    capped: np.ndarray = given.current + given.policy.step_amount_max
    return capped


def _segment_ceiling(given: CapInputs) -> np.ndarray:
    ceilings = np.asarray([NO_CAP if s.ceiling is None else s.ceiling for s in given.policy.segments], dtype="int64")
    capped: np.ndarray = ceilings[given.segment]
    return capped


def _ceiling(given: CapInputs) -> np.ndarray:
    return np.full(len(given.current), given.policy.ceiling, dtype="int64")


def _unverified_income(given: CapInputs) -> np.ndarray:
    verified = ~np.isnan(given.value("income_verified_monthly"))
    capped: np.ndarray = np.where(verified, NO_CAP, given.policy.unverified_income_ceiling)
    return capped


def _affordability(given: CapInputs) -> np.ndarray:
    """The highest limit whose repayments, with other debts', fit the verified income."""
    policy = given.policy
    income = given.value("income_verified_monthly")
    external = np.nan_to_num(given.value("external_debt"), nan=0.0)
    verified = ~np.isnan(income)
    with np.errstate(invalid="ignore"):
        room = np.nan_to_num(income) * policy.debt_service_ratio_max - external * policy.external_payment_rate
    affordable = np.floor(np.maximum(room, 0.0) / policy.line_payment_rate)
    capped: np.ndarray = np.where(verified, np.minimum(affordable, NO_CAP), NO_CAP).astype("int64")
    return capped


def _cap(code: str, meaning: str, setting: str, limit: Cap) -> EngineReason:
    return EngineReason(code, ReasonKind.CAP, 100.0, meaning, setting, cap=limit)


# In the order they are tried; caps that withheld the same are told in this order.
_TABLE = (
    EngineReason(
        "segment_not_raised",
        ReasonKind.SEGMENT,
        20.0,
        "the customer's segment is never raised",
        "segments[].may_increase",
    ),
    EngineReason(
        "risk_grade_too_low",
        ReasonKind.GRADE,
        21.0,
        "the risk grade is not one that may be raised",
        "increase.grades",
        from_model=True,
    ),
    EngineReason(
        "request_limit_reached",
        ReasonKind.REQUEST,
        60.0,
        "too many requests for more within the window",
        "requests.max_requests",
    ),
    EngineReason(
        "cooldown_active", ReasonKind.COOLDOWN, 70.0, "the last limit change is too recent", "increase.cooldown_days"
    ),
    EngineReason("limit_at_top", ReasonKind.LADDER, 90.0, "the line is at the top of the ladder", "ladder"),
    _cap("cap_step_pct", "the step is capped in percent of the current limit", "increase.step_pct_max", _step_pct),
    _cap("cap_step_amount", "the step is capped in amount", "increase.step_amount_max", _step_amount),
    _cap("cap_segment_ceiling", "the segment's ceiling caps the limit", "segments[].ceiling", _segment_ceiling),
    _cap("cap_ceiling", "the strategy's ceiling caps the limit", "increase.ceiling", _ceiling),
    _cap(
        "cap_unverified_income",
        "without verified income the limit is capped lower",
        "increase.unverified_income_ceiling",
        _unverified_income,
    ),
    _cap(
        "cap_affordability",
        "the debt service on a higher limit would not fit the verified income",
        "increase.affordability",
        _affordability,
    ),
)

# Every code the engine gives itself, whatever the strategy file says.
ENGINE_REASONS: dict[str, EngineReason] = {reason.code: reason for reason in _TABLE}


def engine_reasons(kind: ReasonKind) -> tuple[EngineReason, ...]:
    """The engine's reasons of ``kind``, in the table's order."""
    return tuple(reason for reason in _TABLE if reason.kind is kind)


# How a failing gate's code ends, by its operator.
OPERATOR_SUFFIX = {
    Operator.GE: "below_min",
    Operator.GT: "below_min",
    Operator.LE: "above_max",
    Operator.LT: "above_max",
    Operator.EQ: "not_required_value",
    Operator.NE: "excluded_value",
    Operator.PRESENT: "missing",
    Operator.MISSING: "present",
}


def gate_code(feature: str, op: Operator) -> str:
    """The reason code of a gate on ``feature`` with ``op`` that fails, e.g. ``dpd_max_6m_above_max``.

    A gate ``== value`` on a feature with a risk direction fails on the risky side:
    ``dpd_max_6m == 0`` fails as ``dpd_max_6m_above_max``.
    """
    spec = REGISTRY.get(feature)
    if op is Operator.EQ and spec is not None and spec.risk_direction is not RiskDirection.NONE:
        return f"{feature}_{'above_max' if spec.risk_direction.sign > 0 else 'below_min'}"
    return f"{feature}_{OPERATOR_SUFFIX[op]}"


def unknown_code(feature: str) -> str:
    """The reason code of a gate on ``feature`` that fails because the value is not known."""
    return f"{feature}_unknown"
