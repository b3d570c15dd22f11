"""Static checks of a strategy that the field-by-field spec cannot see.

Errors: grades that overlap or leave PDs without a grade, a ladder that does not
rise, caps below the ladder's floor, segments nobody can reach, gates no value can
pass, arms whose shares do not add up. Warnings: settings that are legal but
almost surely not meant, such as a segment whose own condition makes every
increase impossible.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from linewise.features import REGISTRY
from linewise.money import CURRENCY_EXPONENTS
from linewise.strategy.spec import Condition, Operator, StrategySpec

__all__ = ["FieldPath", "Finding", "check_strategy", "conditions_can_hold"]

FieldPath = tuple[str | int, ...]


@dataclass(frozen=True)
class Finding:
    """One problem of a strategy: where (a path into the file), the rule it breaks, the value."""

    path: FieldPath
    rule: str
    value: Any
    warning: bool = False
    # Other top-level sections the finding compares against.
    depends: tuple[str, ...] = ()


def check_strategy(spec: StrategySpec, arms: Mapping[str, StrategySpec]) -> list[Finding]:
    """Every finding of ``spec`` and of each arm's merged settings (arm findings once each)."""
    findings = list(_check_one(spec, ()))
    seen = {(f.path, f.rule) for f in findings}
    for index, arm in enumerate(spec.arms):
        merged = arms.get(arm.name)
        if merged is None:
            continue
        for finding in _check_one(merged, ("arms", index, "overrides")):
            stripped = finding.path[3:]
            if (stripped, finding.rule) not in seen:
                findings.append(finding)
    findings += _check_arms(spec)
    return findings


def _check_one(spec: StrategySpec, prefix: FieldPath) -> Iterator[Finding]:
    for finding in (
        *_check_grades(spec),
        *_check_ladder(spec),
        *_check_segments(spec),
        *_check_gates(spec),
        *_check_rules(spec),
        *_check_amounts(spec),
    ):
        yield Finding((*prefix, *finding.path), finding.rule, finding.value, finding.warning, finding.depends)


def _check_grades(spec: StrategySpec) -> Iterator[Finding]:
    names = [g.name for g in spec.grades]
    for index, grade in enumerate(spec.grades):
        if grade.name in names[:index]:
            yield Finding(("grades", index, "name"), "unique among the grades", grade.name)
        if index and grade.pd_max <= spec.grades[index - 1].pd_max:
            yield Finding(
                ("grades", index, "pd_max"),
                f"above the previous grade's {spec.grades[index - 1].pd_max} (grades must not overlap)",
                grade.pd_max,
            )
    if spec.grades[-1].pd_max < 1.0:
        yield Finding(
            ("grades", len(spec.grades) - 1, "pd_max"),
            "1.0 on the last grade, or PDs above it would have no grade",
            spec.grades[-1].pd_max,
        )
    for index, name in enumerate(spec.increase.grades):
        if name not in names:
            yield Finding(("increase", "grades", index), f"one of the grades {names}", name, depends=("grades",))


def _check_ladder(spec: StrategySpec) -> Iterator[Finding]:
    ladder = spec.ladder
    for index in range(1, len(ladder)):
        if ladder[index] <= ladder[index - 1]:
            yield Finding(("ladder", index), f"above the tier before it, {ladder[index - 1]}", ladder[index])
    if ladder[0] <= 0:
        yield Finding(("ladder", 0), "a positive amount", ladder[0])
    floor = ladder[0]
    increase = spec.increase
    if increase.ceiling < floor:
        yield Finding(
            ("increase", "ceiling"),
            f"at least the ladder's floor {floor} (no line could ever be raised)",
            increase.ceiling,
            depends=("ladder",),
        )
    if increase.unverified_income_ceiling < floor:
        yield Finding(
            ("increase", "unverified_income_ceiling"),
            f"at least the ladder's floor {floor}, or no customer without verified income can ever be raised",
            increase.unverified_income_ceiling,
            warning=True,
        )
    for index, segment in enumerate(spec.segments):
        if segment.ceiling is not None and segment.ceiling < floor:
            yield Finding(
                ("segments", index, "ceiling"), f"at least the ladder's floor {floor}", segment.ceiling, warning=True
            )
    smallest_step = min((b - a for a, b in itertools.pairwise(ladder)), default=Decimal(0))
    if 0 < increase.step_amount_max < smallest_step:
        yield Finding(
            ("increase", "step_amount_max"),
            f"at least the smallest step of the ladder, {smallest_step}, or some tiers can never be climbed",
            increase.step_amount_max,
            warning=True,
        )
    steep = [
        (a, b)
        for a, b in itertools.pairwise(ladder)
        if a > 0 and (b - a) * 100 > Decimal(str(increase.step_pct_max)) * a
    ]
    if steep and increase.step_pct_max > 0:
        low, high = steep[0]
        yield Finding(
            ("increase", "step_pct_max"),
            f"at least the steepest step of the ladder ({low} to {high} is "
            f"{(high - low) * 100 / low:.0f}%), or lines at {low} can never be raised",
            increase.step_pct_max,
            warning=True,
        )


def _check_segments(spec: StrategySpec) -> Iterator[Finding]:
    names = [s.name for s in spec.segments]
    catch_all = next((i for i, s in enumerate(spec.segments) if not s.when), None)
    for index, segment in enumerate(spec.segments):
        if segment.name in names[:index]:
            yield Finding(("segments", index, "name"), "unique among the segments", segment.name)
        if catch_all is not None and index > catch_all:
            yield Finding(
                ("segments", index, "when"),
                f"reachable: segment {names[catch_all]!r} before it takes every account",
                segment.name,
            )
        elif not conditions_can_hold(segment.when):
            yield Finding(("segments", index, "when"), "a set of conditions some account can meet", segment.name)
        elif segment.may_increase and not conditions_can_hold([*segment.when, *spec.increase.gates, *segment.gates]):
            yield Finding(
                ("segments", index, "when"),
                "compatible with the increase gates, or no account of the segment "
                "can ever be raised (say may_increase: false if that is meant)",
                segment.name,
                warning=True,
            )
    if catch_all is None:
        yield Finding(
            ("segments", len(spec.segments) - 1, "when"),
            "empty on the last segment, so that every account has a segment",
            names[-1],
        )


def _check_gates(spec: StrategySpec) -> Iterator[Finding]:
    groups: list[tuple[FieldPath, Sequence[Condition]]] = [
        (("increase", "gates"), spec.increase.gates),
        (("requests", "gates"), spec.requests.gates),
        *((("segments", i, "gates"), s.gates) for i, s in enumerate(spec.segments)),
    ]
    for path, gates in groups:
        for index, gate in enumerate(gates):
            if not conditions_can_hold([gate]):
                yield Finding(
                    (*path, index, "value"), f"a threshold some value of {gate.feature} can pass", _shown(gate.value)
                )
        if gates and all(conditions_can_hold([g]) for g in gates) and not conditions_can_hold(gates):
            yield Finding(
                path,
                "a set of gates some account can pass together",
                [f"{g.feature} {g.op.value} {_shown(g.value)}" for g in gates],
            )


def _check_rules(spec: StrategySpec) -> Iterator[Finding]:
    for kind, rules in (("freeze", spec.freeze), ("decrease", spec.decrease)):
        for index, rule in enumerate(rules):
            if not conditions_can_hold(rule.when):
                yield Finding((kind, index, "when"), "conditions some account can meet", rule.code)


def _check_amounts(spec: StrategySpec) -> Iterator[Finding]:
    """Every amount exact in minor units of the strategy's currency (no half cents)."""
    exponent = CURRENCY_EXPONENTS[spec.currency]
    increase = spec.increase
    amounts: list[tuple[FieldPath, Decimal | None]] = [
        *((("ladder", i), v) for i, v in enumerate(spec.ladder)),
        (("increase", "step_amount_max"), increase.step_amount_max),
        (("increase", "unverified_income_ceiling"), increase.unverified_income_ceiling),
        (("increase", "ceiling"), increase.ceiling),
        *((("segments", i, "ceiling"), s.ceiling) for i, s in enumerate(spec.segments)),
        *(((*path, "value"), c.value) for path, c in _conditions(spec) if c.is_amount),
    ]
    for path, amount in amounts:
        if amount is not None and amount.scaleb(exponent) != amount.scaleb(exponent).to_integral_value():
            yield Finding(
                path, f"given with at most {exponent} decimals for {spec.currency}", amount, depends=("currency",)
            )


def _conditions(spec: StrategySpec) -> Iterator[tuple[FieldPath, Condition]]:
    """Every condition and gate of ``spec`` with its path."""
    groups: list[tuple[FieldPath, Sequence[Condition]]] = [
        (("increase", "gates"), spec.increase.gates),
        (("requests", "gates"), spec.requests.gates),
        *((("segments", i, "when"), s.when) for i, s in enumerate(spec.segments)),
        *((("segments", i, "gates"), s.gates) for i, s in enumerate(spec.segments)),
        *(
            ((kind, i, "when"), r.when)
            for kind, rules in (("freeze", spec.freeze), ("decrease", spec.decrease))
            for i, r in enumerate(rules)
        ),
    ]
    for path, conditions in groups:
        for index, condition in enumerate(conditions):
            yield (*path, index), condition


def _check_arms(spec: StrategySpec) -> Iterator[Finding]:
    names = [a.name for a in spec.arms]
    for index, arm in enumerate(spec.arms):
        if arm.name in names[:index]:
            yield Finding(("arms", index, "name"), "unique among the arms", arm.name)
    total = sum(a.share for a in spec.arms)
    if not math.isclose(total, 1.0, abs_tol=1e-9):
        yield Finding(("arms",), "shares adding up to 1", round(total, 6))


# --- can some value satisfy these conditions? -----------------------------------------


def conditions_can_hold(conditions: Iterable[Condition]) -> bool:
    """Whether some value of each feature meets every condition on it (``!=`` aside)."""
    by_feature: dict[str, list[Condition]] = {}
    for condition in conditions:
        by_feature.setdefault(condition.feature, []).append(condition)
    return all(_one_feature_can_hold(name, group) for name, group in by_feature.items())


Bound = tuple[float, bool]  # (value, strict)


# The model's outputs have no registry entry: a PD is a probability, a score any number.
_OUTPUT_RANGES = {"pd": (0.0, 1.0), "score": (-math.inf, math.inf)}


def _value_range(feature: str) -> tuple[Bound, Bound]:
    """The values ``feature`` can take, as the registry declares them (both ends included)."""
    spec = REGISTRY.get(feature)
    lowest, highest = (spec.lowest, spec.highest) if spec is not None else _OUTPUT_RANGES[feature]
    return (lowest, math.isinf(lowest)), (highest, math.isinf(highest))


def _one_feature_can_hold(feature: str, conditions: Sequence[Condition]) -> bool:
    ops = {c.op for c in conditions}
    if Operator.MISSING in ops:
        return ops == {Operator.MISSING}
    low, high = _value_range(feature)
    for condition in conditions:
        if condition.value is None:
            continue
        value, op = float(condition.value), condition.op
        if op in (Operator.GT, Operator.GE, Operator.EQ):
            low = max(low, (value, op is Operator.GT))
        if op in (Operator.LT, Operator.LE, Operator.EQ):
            high = min(high, (value, op is Operator.LT), key=lambda b: (b[0], not b[1]))
    return low[0] < high[0] or (low[0] == high[0] and not low[1] and not high[1])


def _shown(value: Decimal | None) -> Any:
    return None if value is None else (int(value) if value == value.to_integral_value() else float(value))
