"""Recourse on the whole UCI portfolio: every promise kept, no step to spare, nothing irresponsible."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from tests.decide.common import AS_OF, MODEL_REF
from tests.explain.living import Promise, failures, live_and_decide, promises_of

from linewise.decide import decide
from linewise.explain.recourse import STEP_KINDS, Step, review_date
from linewise.strategy import default_strategy_text, read_strategy
from linewise.strategy.compiled import compile_strategy
from linewise.strategy.evaluate import Context


@pytest.fixture(scope="module")
def with_recourse(uci_decided) -> pd.DataFrame:
    return uci_decided[uci_decided["recourse"].map(len) > 0]


def _lived(promises, uci, model, strategy, decided, minimum_pct):
    cut = decided[decided["new_limit"] < decided["current_limit"]]
    return live_and_decide(
        promises,
        uci.panel,
        uci.customers,
        as_of=AS_OF,
        model=model,
        model_ref=MODEL_REF,
        strategy=strategy,
        minimum_pct=minimum_pct,
        last_change={str(a): pd.Timestamp(AS_OF) for a in cut["account_id"]},
    )


def test_only_lines_not_raised_get_recourse_and_most_held_lines_have_a_path(uci_decided, with_recourse):
    assert (with_recourse["action"] != "increase").all()
    held = uci_decided[uci_decided["action"] == "hold"]
    assert (held["recourse"].map(len) > 0).mean() > 0.4
    assert with_recourse["recourse_limit"].notna().all()
    # Above the limit the line has once the decision takes effect (a cut line's way back up).
    assert (with_recourse["recourse_limit"] > with_recourse["new_limit"]).all()
    assert uci_decided.loc[uci_decided["recourse_limit"].isna(), "recourse"].map(len).eq(0).all()


def test_a_promise_is_reviewed_at_the_month_end_its_months_lead_to(with_recourse):
    for row, on in zip(with_recourse["recourse"], with_recourse["recourse_on"], strict=True):
        months = next((s.value for s in map(Step.decode, row) if s.kind == "repay_on_time_months"), None)
        if months is not None:
            assert on == review_date(AS_OF, months)
        assert on > AS_OF  # a step is taken after the decision, so its review comes later


def test_no_step_of_any_recourse_can_be_dropped(with_recourse, uci, uci_decided, uci_gbm, default_strategy):
    """Minimal: without any one of its steps, no suggestion raises the line under every way of paying."""
    variants = []
    for promise in promises_of(with_recourse):
        levers = [s for s in promise.steps if s.kind != "repay_on_time_months"]
        for i in range(len(levers)):
            rest = [s for s in promise.steps if s is not levers[i]]
            variants.append(
                Promise(promise.account_id, rest, promise.limit_now, promise.promised_limit, promise.promised_on)
            )
    assert len(variants) > 1_000
    # Each account once per lived batch: the variants of one account go in separate batches.
    kept = np.zeros(len(variants), dtype=bool)
    seen: dict[str, int] = {}
    batches: dict[int, list[int]] = {}
    for i, variant in enumerate(variants):
        k = seen.get(variant.account_id, 0)
        seen[variant.account_id] = k + 1
        batches.setdefault(k, []).append(i)
    for indices in batches.values():
        batch = [variants[i] for i in indices]
        full = _lived(batch, uci, uci_gbm, default_strategy, uci_decided, None)
        least = _lived(batch, uci, uci_gbm, default_strategy, uci_decided, 5)
        for i, v in zip(indices, batch, strict=True):
            kept[i] = full.loc[v.account_id, "action"] == "increase" and least.loc[v.account_id, "action"] == "increase"
    assert not kept.any(), [variants[i] for i in np.flatnonzero(kept)[:5]]


def test_recourse_suggests_only_steps_the_customer_controls_and_never_borrowing(with_recourse, uci_inputs):
    kinds = {Step.decode(text).kind for row in with_recourse["recourse"] for text in row}
    assert kinds <= set(STEP_KINDS)
    assert not any(word in kind for kind in kinds for word in ("draw", "borrow", "loan", "credit"))
    for row in with_recourse["recourse"]:
        for text in row:
            step = Step.decode(text)
            assert step.value is None or step.value > 0


def test_the_income_to_verify_is_the_least_that_affords_the_next_tier(with_recourse, default_strategy):
    policy = default_strategy.policies["champion"]
    only_income = with_recourse[
        with_recourse["recourse"].map(
            lambda r: len(r) == 2 and r[0].startswith("verify_income_at_least=") and r[1] == "repay_on_time_months=1"
        )
    ]
    assert len(only_income) > 1000
    for current, row, promised in zip(
        only_income["current_limit"], only_income["recourse"], only_income["recourse_limit"], strict=True
    ):
        income = Step.decode(row[0]).value
        next_rung = int(policy.ladder[np.searchsorted(policy.ladder, current, side="right")])
        assert promised == next_rung
        # Exactly affordable, rounded up to a whole TWD (UCI has no other debts on record).
        least = next_rung * policy.line_payment_rate / policy.debt_service_ratio_max
        assert least <= income < least + 100
        assert income % 100 == 0


def test_a_cut_line_is_promised_only_the_tier_above_its_new_limit(uci_decided, default_strategy):
    ladder = default_strategy.policies["champion"].ladder
    cut = uci_decided[(uci_decided["action"] == "decrease") & uci_decided["recourse_limit"].notna()]
    assert len(cut) > 0
    for new_limit, promised in zip(cut["new_limit"], cut["recourse_limit"], strict=True):
        assert promised == ladder[np.searchsorted(ladder, new_limit, side="right")]


def test_recourse_on_a_strategy_with_a_gate_on_the_score_keeps_its_promises(uci, uci_inputs, uci_gbm, uci_history):
    text = default_strategy_text().replace(
        '    - {feature: months_on_book, op: ">=", value: 5}\n',
        '    - {feature: months_on_book, op: ">=", value: 5}\n    - {feature: score, op: ">=", value: 575}\n',
        1,
    )
    strategy = compile_strategy(read_strategy(text))
    features = uci_inputs.features.iloc[:4000]
    decided = decide(
        features,
        model=uci_gbm,
        model_ref=MODEL_REF,
        strategy=strategy,
        context=Context(as_of=AS_OF),
        history=uci_history,
    )
    promises = promises_of(decided)
    assert len(promises) > 100
    for minimum_pct in (None, 5):
        again = _lived(promises, uci, uci_gbm, strategy, decided, minimum_pct)
        assert not failures(promises, again)


def test_a_step_that_is_not_one_of_ours_is_refused_by_name():
    with pytest.raises(ValueError, match="take_a_loan"):
        Step.decode("take_a_loan=100")
    with pytest.raises(ValueError, match="clear_overdue=5"):
        Step.decode("clear_overdue=5")
    assert Step.decode("repay_on_time_months=3") == Step("repay_on_time_months", 3)
    for bad in ("repay_on_time_months=0", "repay_at_least=-5", "verify_income_at_least=1.5"):
        with pytest.raises(ValueError, match="positive whole number"):
            Step.decode(bad)
    assert Step.decode(Step("clear_overdue").encode()) == Step("clear_overdue")


def test_a_line_with_nothing_to_repay_is_never_told_to_keep_repaying(with_recourse, uci):
    balance = uci.panel[uci.panel["month"] == pd.Timestamp(AS_OF)].set_index("account_id")["balance"]
    owed = balance.reindex(with_recourse["account_id"]).to_numpy() > 0
    told = with_recourse["recourse"].map(lambda r: any(s.startswith("repay_on_time_months=") for s in r))
    assert (told.to_numpy() <= owed).all()  # keep repaying only where a bill falls due
    unused = with_recourse[~owed]
    assert len(unused) > 0  # a line with no balance can still be promised a raise, with its date
    assert unused["recourse_on"].notna().all()


def test_a_promise_made_mid_month_is_reviewed_at_the_month_end_its_lived_months_reach():
    assert review_date(AS_OF, 1) == pd.Timestamp("2005-10-31").date()
    mid_october = pd.Timestamp("2005-10-15").date()
    # The features end at September's close: October is the first month lived.
    assert review_date(mid_october, 1) == pd.Timestamp("2005-10-31").date()
    assert review_date(mid_october, 12) == pd.Timestamp("2006-09-30").date()
    assert review_date(mid_october, 0) == mid_october
