"""A strategy ready to evaluate: amounts in minor units, risk appetite applied, one policy per arm.

The spec is what the file says; a :class:`Policy` is what the engine runs. Risk
appetite scales the PD bands of every grade but the last and the step caps
(percent and amount); gates, cool-down and income-based caps are lending rules and
do not move with it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from decimal import Decimal

import numpy as np

from linewise.money import to_minor
from linewise.strategy.loader import LoadedSpec
from linewise.strategy.reasons import gate_code
from linewise.strategy.spec import Condition, Gate, Operator, Rule, StrategySpec

__all__ = ["Check", "Policy", "Strategy", "compile_strategy"]

# Arms are assigned from this many buckets of an account's hash: shares to 0.01%.
_BUCKETS = 10_000


@dataclass(frozen=True)
class Check:
    """A compiled condition: ``feature op value``, the value in the feature's own units."""

    feature: str
    op: Operator
    value: float | None
    code: str
    passes_if_missing: bool


@dataclass(frozen=True)
class SegmentPolicy:
    """A compiled segment: who it takes, the gates it adds and its ceiling."""

    name: str
    when: tuple[Check, ...]
    gates: tuple[Check, ...]
    ceiling: int | None
    may_increase: bool


@dataclass(frozen=True)
class RulePolicy:
    """A compiled freeze or decrease rule."""

    code: str
    when: tuple[Check, ...]
    tiers_down: int


@dataclass(frozen=True)
class Policy:
    """One arm of a strategy, ready to evaluate; every amount in minor units."""

    strategy: str
    arm: str
    currency: str
    grade_names: tuple[str, ...]
    grade_pd_max: np.ndarray
    increase_grades: frozenset[str]
    ladder: np.ndarray
    segments: tuple[SegmentPolicy, ...]
    gates: tuple[Check, ...]
    max_tiers_per_review: int
    step_pct_max: float
    step_amount_max: int
    cooldown_days: int
    unverified_income_ceiling: int
    debt_service_ratio_max: float
    line_payment_rate: float
    external_payment_rate: float
    ceiling: int
    freeze: tuple[RulePolicy, ...]
    decrease: tuple[RulePolicy, ...]
    max_requests: int
    request_window_days: int
    request_gates: tuple[Check, ...]
    # The minimum payment in basis points of the bill, when it counts as on time.
    minimum_payment_bp: int | None = None

    @property
    def all_gates(self) -> tuple[Check, ...]:
        """Every gate: the increase gates, the request gates, then each segment's own."""
        return (*self.gates, *self.request_gates, *(gate for segment in self.segments for gate in segment.gates))


@dataclass(frozen=True)
class Strategy:
    """A loaded strategy: its spec, the text it came from and one policy per arm."""

    loaded: LoadedSpec
    policies: dict[str, Policy]

    @property
    def ref(self) -> str:
        """``id@version``."""
        return self.loaded.spec.ref

    def assign_arms(self, account_ids: np.ndarray) -> np.ndarray:
        """Each account's arm, sticky: the same account and strategy id give the same arm."""
        names = [arm.name for arm in self.loaded.spec.arms]
        if len(names) == 1:  # no hashing for the common single-arm strategy
            return np.full(len(account_ids), names[0], dtype=object)
        edges = np.cumsum([round(arm.share * _BUCKETS) for arm in self.loaded.spec.arms])
        salt = self.loaded.spec.strategy.encode()
        buckets = np.fromiter(
            (
                int.from_bytes(hashlib.blake2b(salt + str(a).encode(), digest_size=8).digest(), "big") % _BUCKETS
                for a in account_ids
            ),
            dtype=np.int64,
            count=len(account_ids),
        )
        index = np.minimum(np.searchsorted(edges, buckets, side="right"), len(names) - 1)
        return np.asarray(names, dtype=object)[index]


def compile_strategy(loaded: LoadedSpec) -> Strategy:
    """Every arm of ``loaded`` as a :class:`Policy`."""
    return Strategy(loaded, {name: _policy(spec, name) for name, spec in loaded.arms.items()})


def _policy(spec: StrategySpec, arm: str) -> Policy:
    currency = spec.currency
    appetite = spec.risk_appetite

    def amount(value: Decimal, field: str) -> int:
        return int(to_minor(value, currency, field=field, allow_zero=True))

    bands = [min(1.0, g.pd_max * appetite) for g in spec.grades]
    bands[-1] = spec.grades[-1].pd_max
    increase = spec.increase
    return Policy(
        strategy=spec.ref,
        arm=arm,
        currency=currency,
        grade_names=tuple(g.name for g in spec.grades),
        grade_pd_max=np.asarray(bands, dtype="float64"),
        increase_grades=frozenset(increase.grades),
        ladder=np.asarray([amount(v, "ladder") for v in spec.ladder], dtype="int64"),
        segments=tuple(
            SegmentPolicy(
                s.name,
                tuple(_check(c, currency) for c in s.when),
                tuple(_check(g, currency) for g in s.gates),
                None if s.ceiling is None else amount(s.ceiling, "ceiling"),
                s.may_increase,
            )
            for s in spec.segments
        ),
        gates=tuple(_check(g, currency) for g in increase.gates),
        max_tiers_per_review=increase.max_tiers_per_review,
        step_pct_max=increase.step_pct_max * appetite,
        step_amount_max=int(amount(increase.step_amount_max, "step_amount_max") * appetite),
        cooldown_days=increase.cooldown_days,
        unverified_income_ceiling=amount(increase.unverified_income_ceiling, "unverified_income_ceiling"),
        debt_service_ratio_max=increase.affordability.debt_service_ratio_max,
        line_payment_rate=increase.affordability.line_payment_rate,
        external_payment_rate=increase.affordability.external_payment_rate,
        ceiling=amount(increase.ceiling, "ceiling"),
        freeze=tuple(_rule(r, currency) for r in spec.freeze),
        decrease=tuple(_rule(r, currency) for r in spec.decrease),
        max_requests=spec.requests.max_requests,
        request_window_days=spec.requests.window_days,
        request_gates=tuple(_check(g, currency) for g in spec.requests.gates),
        minimum_payment_bp=None if spec.minimum_payment_pct is None else int(spec.minimum_payment_pct * 100),
    )


def _check(condition: Condition, currency: str) -> Check:
    value = condition.value
    if value is not None and condition.is_amount:
        compiled: float | None = float(to_minor(abs(value), currency, field=condition.feature, allow_zero=True)) * (
            1 if value >= 0 else -1
        )
    else:
        compiled = None if value is None else float(value)
    if isinstance(condition, Gate):
        code = condition.code or gate_code(condition.feature, condition.op)
        passes = condition.if_missing == "pass"
    else:
        code, passes = gate_code(condition.feature, condition.op), False
    return Check(condition.feature, condition.op, compiled, code, passes)


def _rule(rule: Rule, currency: str) -> RulePolicy:
    return RulePolicy(rule.code, tuple(_check(c, currency) for c in rule.when), rule.tiers_down)
