"""Reason codes: the stable names of everything that can shape a decision.

Codes are API and never renamed; their customer and analyst texts live in the
explain package's catalogues. A gate's code is named in the strategy file or
derived here from its feature and operator.
"""

from __future__ import annotations

from linewise.features import REGISTRY, RiskDirection
from linewise.strategy.spec import Operator

__all__ = ["FIXED_CODES", "OPERATOR_SUFFIX", "gate_code", "unknown_code"]

# Codes the engine itself gives, whatever the strategy file says.
FIXED_CODES: dict[str, str] = {
    "segment_not_raised": "the customer's segment is never raised",
    "risk_grade_too_low": "the risk grade is not one that may be raised",
    "cooldown_active": "the last limit change is too recent",
    "request_limit_reached": "too many requests for more within the window",
    "limit_at_top": "the line is at the top of the ladder",
    "cap_step_pct": "the step is capped in percent of the current limit",
    "cap_step_amount": "the step is capped in amount",
    "cap_segment_ceiling": "the segment's ceiling caps the limit",
    "cap_ceiling": "the strategy's ceiling caps the limit",
    "cap_unverified_income": "without verified income the limit is capped lower",
    "cap_affordability": "the debt service on a higher limit would not fit the verified income",
}

# How a failing gate's code ends, by its operator.
OPERATOR_SUFFIX = {
    Operator.GE: "below_min", Operator.GT: "below_min",
    Operator.LE: "above_max", Operator.LT: "above_max",
    Operator.EQ: "not_required_value", Operator.NE: "excluded_value",
    Operator.PRESENT: "missing", Operator.MISSING: "present",
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
