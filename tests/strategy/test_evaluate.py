"""Evaluating a strategy: the vectorised engine equals a plain row-by-row reading of the rules."""

from __future__ import annotations

import math
from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.strategies import scaled
from tests.strategy.texts import edited

from linewise.errors import InputError
from linewise.strategy import default_strategy_text, read_strategy
from linewise.strategy.compiled import Check, Policy, compile_strategy
from linewise.strategy.evaluate import ACTIONS, MAX_REASONS, Context, evaluate_policy
from linewise.strategy.reasons import ENGINE_REASONS, unknown_code
from linewise.strategy.spec import Operator

AS_OF = date(2025, 6, 30)


@pytest.fixture(scope="module")
def policy() -> Policy:
    return compile_strategy(read_strategy(default_strategy_text())).policies["champion"]


def variant(**replacements: str) -> Policy:
    return compile_strategy(read_strategy(edited(*replacements.items()))).policies["champion"]


# --- a plain reading of the rules, one account at a time ---------------------------------


def check_holds(check: Check, value: float) -> bool:
    if check.op is Operator.PRESENT:
        return not math.isnan(value)
    if check.op is Operator.MISSING:
        return math.isnan(value)
    if math.isnan(value):
        return check.passes_if_missing
    compare = {
        "<": value < check.value,
        "<=": value <= check.value,
        ">": value > check.value,
        ">=": value >= check.value,
        "==": value == check.value,
        "!=": value != check.value,
    }
    return compare[check.op.value]


def reference_decision(policy: Policy, row: dict, pd_value: float, changed_on, requests, trigger: str) -> dict:
    def value(name):
        if name == "pd":
            return pd_value
        v = row.get(name)
        return math.nan if v is None or pd.isna(v) else float(v)

    def all_hold(checks):
        return all(check_holds(c, value(c.feature)) for c in checks)

    current = int(row["credit_limit"])
    segment = next(s for s in policy.segments if all_hold(s.when))
    grade = next(
        i for i, band in enumerate(policy.grade_pd_max) if pd_value <= band or i == len(policy.grade_pd_max) - 1
    )
    ladder = [int(x) for x in policy.ladder]
    below = [i for i, rung in enumerate(ladder) if rung <= current]
    tier = below[-1] if below else -1
    top = current >= ladder[-1]
    target = current if top else ladder[max(min(tier + policy.max_tiers_per_review, len(ladder) - 1), 0)]
    out = {
        "segment": segment.name,
        "risk_grade": policy.grade_names[grade],
        "current_limit": current,
        "tier_target": target,
    }

    freeze = next((r for r in policy.freeze if all_hold(r.when)), None)
    cut = next((r for r in policy.decrease if all_hold(r.when)), None)
    lowered = current
    if cut is not None:
        index = tier - cut.tiers_down + (1 if tier >= 0 and current > ladder[tier] else 0)
        lowered = ladder[max(index, 0)] if tier >= 0 else current
    # A frozen line is cut as well where a decrease rule holds.
    if freeze is not None:
        return {
            **out,
            "action": "freeze",
            "new_limit": lowered,
            "reasons": [freeze.code, *([cut.code] if cut is not None else [])],
        }
    if cut is not None:
        action = "decrease" if lowered < current else "hold"
        return {**out, "action": action, "new_limit": lowered, "reasons": [cut.code]}

    blockers = []
    if not segment.may_increase:
        blockers.append("segment_not_raised")
    if policy.grade_names[grade] not in policy.increase_grades:
        blockers.append("risk_grade_too_low")
    gates = [*policy.gates, *segment.gates, *(policy.request_gates if trigger == "request" else ())]
    request_limit = ["request_limit_reached"] if trigger == "request" and requests > policy.max_requests else []
    blockers += [
        f"{g.feature}_unknown" if g.op.takes_value and math.isnan(value(g.feature)) else g.code
        for g in gates
        if not check_holds(g, value(g.feature))
    ]
    blockers += request_limit
    if changed_on is not None and (AS_OF - changed_on).days < policy.cooldown_days:
        blockers.append("cooldown_active")
    if top:
        return {**out, "action": "hold", "new_limit": current, "reasons": [*blockers, "limit_at_top"][:MAX_REASONS]}

    income, external = value("income_verified_monthly"), value("external_debt")
    external = 0.0 if math.isnan(external) else external
    huge = 2**62
    caps = {
        "cap_step_pct": int(current * (1.0 + policy.step_pct_max / 100.0)),
        "cap_step_amount": current + policy.step_amount_max,
        "cap_segment_ceiling": huge if segment.ceiling is None else segment.ceiling,
        "cap_ceiling": policy.ceiling,
        "cap_unverified_income": huge if not math.isnan(income) else policy.unverified_income_ceiling,
        "cap_affordability": huge
        if math.isnan(income)
        else min(
            huge,
            math.floor(
                max(income * policy.debt_service_ratio_max - external * policy.external_payment_rate, 0.0)
                / policy.line_payment_rate
            ),
        ),
    }

    def highest_rung(at_most):
        rungs = [rung for rung in ladder if rung <= at_most]
        return rungs[-1] if rungs else current

    binding = sorted((code for code, cap in caps.items() if cap < target), key=lambda code: -(target - caps[code]))
    if blockers:
        # Blocked: the caps that would stop an increase by themselves are told too.
        stopping = [code for code in binding if highest_rung(min(target, caps[code])) <= current]
        return {**out, "action": "hold", "new_limit": current, "reasons": [*blockers, *stopping][:MAX_REASONS]}
    raised = highest_rung(min(target, *caps.values()))
    action = "increase" if raised > current else "hold"
    return {
        **out,
        "action": action,
        "new_limit": raised if action == "increase" else current,
        "reasons": binding[:MAX_REASONS],
    }


# --- random accounts -------------------------------------------------------------------------


def _maybe(strategy):
    return st.one_of(st.none(), strategy)


account_rows = st.fixed_dictionaries(
    {
        "credit_limit": st.sampled_from(
            [500_000, 1_000_000, 2_000_000, 2_500_000, 14_000_000, 20_000_000, 99_000_000, 100_000_000, 150_000_000]
        ),
        "months_on_book": st.integers(0, 30),
        "dpd_current": st.sampled_from([0, 0, 0, 5, 30]),
        "dpd_max_6m": st.sampled_from([0, 0, 0, 30]),
        "on_time_ratio_6m": _maybe(st.sampled_from([1.0, 1.0, 0.8])),
        "missed_payment_months_6m": st.sampled_from([0, 0, 1]),
        "utilisation_current": st.sampled_from([0.1, 0.5, 0.95, 0.96, 1.2]),
        "external_dpd_max_12m": _maybe(st.sampled_from([0, 30])),
        "bureau_enquiries_6m": _maybe(st.integers(0, 9)),
        "bureau_score": _maybe(st.integers(300, 900)),
        "income_verified_monthly": _maybe(st.sampled_from([100_000, 3_000_000, 8_000_000, 50_000_000])),
        "external_debt": _maybe(st.sampled_from([0, 10_000_000, 200_000_000])),
        "drawn_to_limit_3m": _maybe(st.sampled_from([0.0, 0.5, 1.5])),
    }
)
accounts = st.lists(
    st.tuples(account_rows, st.floats(0.0, 1.0), _maybe(st.integers(0, 200)), st.integers(0, 4)),
    min_size=1,
    max_size=40,
)


@settings(max_examples=scaled(150), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(batch=accounts, trigger=st.sampled_from(["review", "request"]))
def test_the_engine_equals_a_row_by_row_reading_of_the_rules(policy, batch, trigger):
    rows = [row for row, *_ in batch]
    features = pd.DataFrame(rows, index=[f"A{i}" for i in range(len(rows))]).astype("float64")
    pds = np.asarray([p for _, p, _, _ in batch])
    changed = [None if days is None else AS_OF - timedelta(days=days) for _, _, days, _ in batch]
    requests = [r for *_, r in batch]
    context = Context(
        as_of=AS_OF,
        trigger=trigger,
        last_limit_change_on=pd.Series(pd.to_datetime(changed), index=features.index),
        requests_in_window=pd.Series(requests, index=features.index),
    )
    decided = evaluate_policy(policy, features, pds, context)
    for i, account in enumerate(features.index):
        expected = reference_decision(policy, rows[i], float(pds[i]), changed[i], requests[i], trigger)
        actual = decided.loc[account]
        for column, value in expected.items():
            assert actual[column] == value, (account, column, rows[i], pds[i])


# --- what the default strategy does on the real portfolio -----------------------------------


def test_no_line_is_raised_above_a_cap_or_off_the_ladder(policy, uci_decisions):
    decided = uci_decisions
    raised = decided[decided["action"] == "increase"]
    assert len(raised) > 1000
    assert raised["new_limit"].isin(policy.ladder).all()
    assert (raised["new_limit"] <= raised["tier_target"]).all()
    assert (raised["new_limit"] <= raised["current_limit"] * (1 + policy.step_pct_max / 100)).all()
    assert (raised["new_limit"] <= policy.unverified_income_ceiling).all()  # UCI has no verified income


def test_raised_lines_are_far_less_risky_than_frozen_ones(uci_decisions, uci_inputs):
    bad = pd.Series(uci_inputs.bad, index=uci_inputs.features.index)
    rate = bad.groupby(uci_decisions["action"]).mean()
    assert rate["increase"] < bad.mean() / 2 < rate["freeze"]


def test_every_account_gets_at_most_four_reasons_and_every_hold_at_least_one(uci_decisions):
    assert set(uci_decisions["action"]) <= set(ACTIONS)
    counts = uci_decisions["reasons"].map(len)
    assert counts.max() <= MAX_REASONS
    not_raised = uci_decisions["action"] != "increase"
    assert (counts[not_raised] >= 1).all()


def test_every_reason_given_is_a_code_the_catalogue_or_the_strategy_declares(policy, uci_decisions):
    declared = set(ENGINE_REASONS) | {rule.code for rule in (*policy.freeze, *policy.decrease)}
    for check in (*policy.gates, *policy.request_gates, *(g for s in policy.segments for g in s.gates)):
        declared |= {check.code, unknown_code(check.feature)}
    given_codes = {code for reasons in uci_decisions["reasons"] for code in reasons}
    assert given_codes and given_codes <= declared, given_codes - declared


def test_repaying_on_time_alone_never_raises_a_line(policy, uci_inputs, uci_pd):
    """Perfect repayment, but a risk grade outside the increase grades: not raised, and told why."""
    features = uci_inputs.features.copy()
    perfect = {
        "dpd_current": 0,
        "dpd_max_6m": 0,
        "on_time_ratio_6m": 1.0,
        "missed_payment_months_6m": 0,
        "utilisation_current": 0.3,
    }
    for name, value in perfect.items():
        features[name] = value
    decided = evaluate_policy(policy, features, uci_pd, Context(as_of=AS_OF))
    poor_grade = ~decided["risk_grade"].isin(policy.increase_grades)
    assert poor_grade.sum() > 1000
    assert (decided.loc[poor_grade, "action"] != "increase").all()
    held = poor_grade & (decided["action"] == "hold")
    assert held.sum() > 1000
    # Unless a decrease rule fired on a line already at the floor (then that is the reason).
    told = decided.loc[held, "reasons"].map(lambda r: "risk_grade_too_low" in r or r == ["risk_grown"])
    assert told.all()


@pytest.mark.parametrize(
    ("reason", "loosened"),
    [
        ("cooldown_active", {"cooldown_days: 90": "cooldown_days: 0"}),
        ("utilisation_current_above_max", {'op: "<=", value: 0.95}': 'op: "<=", value: 5}'}),
        ("risk_grade_too_low", {"grades: [A, B]": "grades: [A, B, C, D, E]"}),
        ("cap_unverified_income", {"unverified_income_ceiling: 200000": "unverified_income_ceiling: 1000000"}),
        (
            "missed_payment_months_6m_above_max",
            {'missed_payment_months_6m, op: "==", value: 0}': 'missed_payment_months_6m, op: "<=", value: 6}'},
        ),
        ("overdue_now", {'op: ">", value: 0}': 'op: ">", value: 999}'}),
        ("on_time_ratio_6m_unknown", {'op: ">=", value: 1}': 'op: ">=", value: 1, if_missing: pass}'}),
    ],
)
def test_removing_the_constraint_a_sole_reason_names_changes_the_decision(policy, uci_inputs, uci_pd, reason, loosened):
    # Every other line's limit changed a month ago.
    changed = pd.Series(pd.NaT, index=uci_inputs.features.index, dtype="datetime64[ns]")
    changed.iloc[::2] = pd.Timestamp(AS_OF - timedelta(days=30))
    context = Context(as_of=AS_OF, last_limit_change_on=changed)
    before = evaluate_policy(policy, uci_inputs.features, uci_pd, context)
    sole = before["reasons"].map(lambda r: r == [reason])
    assert sole.sum() >= 5, f"too few accounts held by {reason} alone"
    after = evaluate_policy(variant(**loosened), uci_inputs.features, uci_pd, context)
    changed = (after.loc[sole, "action"] != before.loc[sole, "action"]) | (
        after.loc[sole, "new_limit"] != before.loc[sole, "new_limit"]
    )
    assert changed.all(), before.loc[sole & ~changed].head()


def test_a_missing_credit_limit_is_refused_naming_the_account(policy):
    features = pd.DataFrame({"credit_limit": [1_000_000, np.nan]}, index=["A1", "A2"])
    with pytest.raises(InputError, match="A2: credit_limit") as raised:
        evaluate_policy(policy, features, np.array([0.01, 0.01]), Context(as_of=AS_OF))
    assert raised.value.code == "feature_missing"


def test_an_unknown_trigger_is_refused_naming_the_known_ones():
    # Which triggers exist is the application layer's registry; the engine takes a code.
    from linewise.review.triggers import trigger_named

    with pytest.raises(InputError, match="trigger must be one of review, repayment, income_proof, request") as raised:
        trigger_named("reveiw")
    assert raised.value.code == "trigger_unknown"
    with pytest.raises(InputError) as malformed:
        Context(as_of=AS_OF, trigger="Review now")
    assert malformed.value.code == "code_malformed"


def test_risk_appetite_tightens_the_grades_and_the_steps(uci_inputs, uci_pd):
    tight = variant(**{"risk_appetite: 1.0": "risk_appetite: 0.7"})
    loose = variant(**{"risk_appetite: 1.0": "risk_appetite: 1.3"})
    counts = {
        name: (evaluate_policy(p, uci_inputs.features, uci_pd, Context(as_of=AS_OF))["action"] == "increase").sum()
        for name, p in (("tight", tight), ("loose", loose))
    }
    assert counts["tight"] < counts["loose"]


def test_arms_are_sticky_and_split_as_the_file_says():
    text = default_strategy_text().replace(
        "- {name: champion, share: 1.0}",
        "- {name: champion, share: 0.8}\n  - {name: bolder, share: 0.2, "
        "overrides: {increase: {max_tiers_per_review: 2}}}",
    )
    strategy = compile_strategy(read_strategy(text))
    ids = np.asarray([f"A{i}" for i in range(20_000)], dtype=object)
    arms = strategy.assign_arms(ids)
    share = (arms == "bolder").mean()
    assert 0.18 < share < 0.22
    assert (strategy.assign_arms(ids[::-1])[::-1] == arms).all()
    assert strategy.policies["bolder"].max_tiers_per_review == 2
    assert strategy.policies["champion"].max_tiers_per_review == 1
