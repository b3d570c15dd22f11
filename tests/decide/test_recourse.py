"""Recourse on the whole UCI portfolio: every promise kept, no step to spare, nothing irresponsible."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from tests.decide.common import AS_OF, MODEL_REF

from linewise.decide import decide
from linewise.explain.recourse import (
    STEP_KINDS,
    Step,
    after_decision,
    apply_steps,
    review_date,
)
from linewise.strategy import default_strategy_text, read_strategy
from linewise.strategy.compiled import compile_strategy
from linewise.strategy.evaluate import Context


@pytest.fixture(scope="module")
def with_recourse(uci_decided) -> pd.DataFrame:
    return uci_decided[uci_decided["recourse"].map(len) > 0]


def _as_decided(decided: pd.DataFrame, features: pd.DataFrame) -> tuple[pd.DataFrame, pd.Series]:
    """The accounts' features once their decisions took effect, and their last limit change."""
    decided = decided.set_index("account_id").loc[features.index]
    cut = (decided["action"] == "decrease").to_numpy()
    moved = after_decision(features, np.where(cut, decided["new_limit"], features["credit_limit"]))
    changed = pd.Series(pd.NaT, index=features.index, dtype="datetime64[ns]")
    changed[cut] = pd.Timestamp(AS_OF)
    return moved, changed


def _redecide(features: pd.DataFrame, steps: list[list[Step]], model, strategy,
              changed_on: pd.Series | None = None) -> pd.DataFrame:
    """Decide again on ``features`` with ``steps`` taken, each account at the review they lead to."""
    changed = apply_steps(features, steps)
    months = np.asarray([next((s.value for s in row if s.kind == "repay_on_time_months"), 0)
                         for row in steps])
    parts = []
    for month in np.unique(months):
        rows = np.flatnonzero(months == month)
        context = Context(as_of=review_date(AS_OF, int(month)), last_limit_change_on=None
                          if changed_on is None else changed_on.iloc[rows].set_axis(changed.index[rows]))
        parts.append(decide(changed.iloc[rows], model=model, model_ref=MODEL_REF, strategy=strategy,
                            context=context, recourse=False).set_index(changed.index[rows]))
    return pd.concat(parts).reindex(features.index)


def test_only_lines_not_raised_get_recourse_and_most_held_lines_have_a_path(uci_decided, with_recourse):
    assert (with_recourse["action"] != "increase").all()
    held = uci_decided[uci_decided["action"] == "hold"]
    assert (held["recourse"].map(len) > 0).mean() > 0.4
    assert with_recourse["recourse_limit"].notna().all()
    assert (with_recourse["recourse_limit"] > with_recourse["current_limit"]).all()
    assert uci_decided.loc[uci_decided["recourse"].map(len) == 0, "recourse_limit"].isna().all()


def test_every_recourse_on_the_portfolio_gives_the_promised_increase_and_limit(
        with_recourse, uci_inputs, uci_gbm, default_strategy):
    steps = [[Step.decode(text) for text in row] for row in with_recourse["recourse"]]
    features, changed_on = _as_decided(with_recourse, uci_inputs.features.loc[with_recourse["account_id"]])
    assert (with_recourse["action"] == "decrease").any()  # a cut line's way back up is checked too
    again = _redecide(features, steps, uci_gbm, default_strategy, changed_on)
    assert (again["action"] == "increase").all()
    assert (again["new_limit"].to_numpy() == with_recourse["recourse_limit"].to_numpy()).all()
    months = [next((s.value for s in row if s.kind == "repay_on_time_months"), 0) for row in steps]
    assert [review_date(AS_OF, m or 0) for m in months] == list(with_recourse["recourse_on"])


def test_no_step_of_any_recourse_can_be_dropped(with_recourse, uci_inputs, uci_gbm, default_strategy):
    """Minimal: without any one of its steps (or with a month fewer), no suggestion raises the line."""
    accounts, variants = [], []
    for account, row in zip(with_recourse["account_id"], with_recourse["recourse"], strict=True):
        steps = [Step.decode(text) for text in row]
        for i, step in enumerate(steps):
            rest = steps[:i] + steps[i + 1:]
            if step.kind == "repay_on_time_months" and (step.value or 0) > 1:
                rest = [*rest, Step(step.kind, (step.value or 0) - 1)]
            accounts.append(account)
            variants.append(rest)
    decided = with_recourse.set_index("account_id").loc[accounts].reset_index()
    features = uci_inputs.features.loc[accounts].reset_index(drop=True)
    features.index = pd.RangeIndex(len(features)).astype("str")
    decided["account_id"] = features.index
    features, changed_on = _as_decided(decided, features)
    again = _redecide(features, variants, uci_gbm, default_strategy, changed_on)
    assert len(again) > len(with_recourse)
    assert (again["action"] != "increase").all()


def test_recourse_suggests_only_steps_the_customer_controls_and_never_borrowing(with_recourse, uci_inputs):
    kinds = {Step.decode(text).kind for row in with_recourse["recourse"] for text in row}
    assert kinds <= set(STEP_KINDS)
    assert not any(word in kind for kind in kinds for word in ("draw", "borrow", "loan", "credit"))
    for row in with_recourse["recourse"]:
        for text in row:
            step = Step.decode(text)
            assert step.value is None or step.value > 0
    # Taking the steps never leaves the customer owing more, here or elsewhere.
    before = uci_inputs.features.loc[with_recourse["account_id"]]
    after = apply_steps(before, [[Step.decode(text) for text in row] for row in with_recourse["recourse"]])
    for owed in ("utilisation_current", "balance_mean_6m", "external_debt", "debt_to_income"):
        if owed in before.columns:
            grew = after[owed].to_numpy() > before[owed].to_numpy()
            assert not grew.any(), owed


def test_the_income_to_verify_is_the_least_that_affords_the_next_tier(with_recourse, default_strategy):
    policy = default_strategy.policies["champion"]
    only_income = with_recourse[with_recourse["recourse"].map(
        lambda r: len(r) == 1 and r[0].startswith("verify_income_at_least="))]
    assert len(only_income) > 1000
    for current, row, promised in zip(only_income["current_limit"], only_income["recourse"],
                                      only_income["recourse_limit"], strict=True):
        income = Step.decode(row[0]).value
        next_rung = int(policy.ladder[np.searchsorted(policy.ladder, current, side="right")])
        assert promised == next_rung
        # Exactly affordable, rounded up to 100 TWD (UCI has no other debts on record).
        least = next_rung * policy.line_payment_rate / policy.debt_service_ratio_max
        assert least <= income < least + 100_00


def test_a_cut_line_is_promised_only_the_tier_above_its_new_limit(uci_decided, default_strategy):
    ladder = default_strategy.policies["champion"].ladder
    cut = uci_decided[(uci_decided["action"] == "decrease") & uci_decided["recourse_limit"].notna()]
    assert len(cut) > 0
    for new_limit, promised in zip(cut["new_limit"], cut["recourse_limit"], strict=True):
        assert promised == ladder[np.searchsorted(ladder, new_limit, side="right")]


def test_recourse_on_a_strategy_with_a_gate_on_the_score_keeps_its_promises(uci_inputs, uci_gbm):
    text = default_strategy_text().replace(
        "    - {feature: months_on_book, op: \">=\", value: 5}\n",
        "    - {feature: months_on_book, op: \">=\", value: 5}\n    - {feature: score, op: \">=\", value: 575}\n", 1)
    strategy = compile_strategy(read_strategy(text))
    features = uci_inputs.features.iloc[:4000]
    decided = decide(features, model=uci_gbm, model_ref=MODEL_REF, strategy=strategy,
                     context=Context(as_of=AS_OF))
    found = decided[decided["recourse"].map(len) > 0]
    assert len(found) > 100
    steps = [[Step.decode(text) for text in row] for row in found["recourse"]]
    moved, changed_on = _as_decided(found, features.loc[found["account_id"]])
    again = _redecide(moved, steps, uci_gbm, strategy, changed_on)
    assert (again["action"] == "increase").all()


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
    with pytest.raises(ValueError, match="2 lists of steps for 1 accounts"):
        apply_steps(pd.DataFrame({"credit_limit": [1.0]}), [[], []])


def test_the_change_of_days_past_due_follows_the_projected_days_past_due(uci_inputs):
    late = uci_inputs.features[uci_inputs.features["dpd_current"] > 0].iloc[:50]
    for months in (0, 1, 2, 6):
        steps = [[Step("clear_overdue"), *([Step("repay_on_time_months", months)] if months else [])]
                 for _ in range(len(late))]
        moved = apply_steps(late, steps)
        assert (moved["dpd_current"] == 0).all()
        np.testing.assert_array_equal(moved["dpd_change_1m"], moved["dpd_current"] - moved["dpd_1m_ago"])
