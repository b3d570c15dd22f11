"""``decide`` on the real portfolio: the contract, batches of one, model reasons that are true."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pandas as pd
import pytest
from tests.decide.common import AS_OF, MODEL_REF
from tests.strategy.texts import edit

from linewise.decide import DECISION_COLUMNS, MODEL_REASONS, decide
from linewise.explain.catalogue import MODEL_PREFIX
from linewise.explain.model_reasons import least_risky_value
from linewise.strategy import default_strategy_text, read_strategy
from linewise.strategy.compiled import compile_strategy
from linewise.strategy.evaluate import MAX_REASONS, Context


def test_one_decision_per_account_with_every_contract_column(uci_decided, uci_inputs):
    assert tuple(uci_decided.columns) == DECISION_COLUMNS
    assert list(uci_decided["account_id"]) == list(uci_inputs.features.index)
    assert set(uci_decided["strategy"]) == {"default@1"}
    assert set(uci_decided["model"]) == {MODEL_REF}
    assert set(uci_decided["as_of"]) == {AS_OF}
    assert uci_decided["pd"].between(0, 1).all()
    assert str(uci_decided["recourse_limit"].dtype) == "Int64"  # money stays integer minor units
    # A higher score is a lower risk, for every pair of accounts.
    order = np.argsort(uci_decided["pd"].to_numpy())
    assert (np.diff(uci_decided["score"].to_numpy()[order]) <= 1e-9).all()


def test_an_account_decided_alone_gets_the_same_decision_as_in_the_batch(
    uci_decided, uci_inputs, uci_gbm, default_strategy, uci_history
):
    picks = [
        uci_decided.index[uci_decided["action"] == action][:5] for action in ("increase", "hold", "decrease", "freeze")
    ]
    for row in np.concatenate(picks):
        alone = decide(
            uci_inputs.features.iloc[[row]],
            model=uci_gbm,
            model_ref=MODEL_REF,
            strategy=default_strategy,
            context=Context(as_of=AS_OF),
            history=uci_history,
        )
        expected = uci_decided.iloc[[row]].reset_index(drop=True)
        pd.testing.assert_frame_equal(alone, expected, check_dtype=False, check_exact=True)


def test_model_reasons_follow_the_risk_reason_and_name_features_that_added_risk(uci_decided, uci_inputs, uci_gbm):
    with_model = uci_decided[uci_decided["reasons"].map(lambda codes: any(c.startswith(MODEL_PREFIX) for c in codes))]
    assert len(with_model) > 1000
    for codes in with_model["reasons"]:
        first_model = next(i for i, c in enumerate(codes) if c.startswith(MODEL_PREFIX))
        assert codes[first_model - 1] in ("risk_grade_too_low", "risk_grown")
        assert sum(c.startswith(MODEL_PREFIX) for c in codes) <= MODEL_REASONS
        assert len(codes) <= MAX_REASONS
    sample = with_model.sample(300, random_state=1)
    contributions = uci_gbm.reason_contributions(uci_inputs.features.loc[sample["account_id"]])
    for account, codes in zip(sample["account_id"], sample["reasons"], strict=True):
        for code in codes:
            if code.startswith(MODEL_PREFIX):
                assert contributions.loc[account, code[len(MODEL_PREFIX) :]] > 0


def test_improving_the_feature_a_model_reason_names_lowers_the_pd(uci_decided, uci_inputs, uci_gbm):
    """A model reason is true: the named feature at its least risky value lowers the customer's PD."""
    assert least_risky_value("dpd_max_6m") == 0 and least_risky_value("on_time_ratio_6m") == 1
    features = uci_inputs.features
    with_model = uci_decided[
        uci_decided["reasons"].map(lambda codes: any(c.startswith(MODEL_PREFIX) for c in codes))
    ].sample(300, random_state=2)
    for account, codes, pd_ in zip(with_model["account_id"], with_model["reasons"], with_model["pd"], strict=True):
        for code in (c for c in codes if c.startswith(MODEL_PREFIX)):
            name = code[len(MODEL_PREFIX) :]
            better = features.loc[[account]].copy()
            better[name] = least_risky_value(name)
            assert uci_gbm.predict_proba(better)[0] < pd_, (account, name)


def test_a_challenger_arm_decides_its_share_of_accounts_by_its_own_rules(uci_inputs, uci_gbm):
    text = edit(
        default_strategy_text(),
        "arms:\n  - {name: champion, share: 1.0}",
        "arms:\n  - {name: champion, share: 0.7}\n"
        "  - {name: challenger, share: 0.3, overrides: {increase: {grades: [A, B, C]}}}",
    )
    strategy = compile_strategy(read_strategy(text))
    decided = decide(
        uci_inputs.features,
        model=uci_gbm,
        model_ref=MODEL_REF,
        strategy=strategy,
        context=Context(as_of=AS_OF),
        recourse=False,
    )
    share = (decided["arm"] == "challenger").mean()
    assert 0.28 < share < 0.32
    raised_c = decided[(decided["risk_grade"] == "C") & (decided["action"] == "increase")]
    assert len(raised_c) > 0
    assert set(raised_c["arm"]) == {"challenger"}
    again = decide(
        uci_inputs.features.iloc[::-1],
        model=uci_gbm,
        model_ref=MODEL_REF,
        strategy=strategy,
        context=Context(as_of=AS_OF),
        recourse=False,
    )
    assert (
        again.set_index("account_id")["arm"].reindex(decided["account_id"]).to_numpy() == decided["arm"].to_numpy()
    ).all()


@pytest.mark.parametrize("days_ago", [10, 60])
def test_a_recent_limit_change_holds_the_line_and_the_recourse_waits_for_the_cool_down(
    uci_decided, uci_inputs, uci_gbm, default_strategy, uci_history, days_ago
):
    raised = uci_decided[uci_decided["action"] == "increase"]["account_id"][:50]
    features = uci_inputs.features.loc[raised]
    changed = pd.Series(pd.Timestamp(AS_OF) - pd.Timedelta(days=days_ago), index=features.index)
    decided = decide(
        features,
        model=uci_gbm,
        model_ref=MODEL_REF,
        strategy=default_strategy,
        context=Context(as_of=AS_OF, last_limit_change_on=changed),
        history=uci_history,
    )
    assert (decided["action"] == "hold").all()
    assert decided["reasons"].map(lambda codes: "cooldown_active" in codes).all()
    cooldown_end = AS_OF + timedelta(days=90 - days_ago)
    found = decided[decided["recourse"].map(len) > 0]
    assert len(found) > 0
    assert all(on >= cooldown_end for on in found["recourse_on"])
    # The first month-end review after the cool-down, not later: waiting is all it takes.
    assert min(found["recourse_on"]) < cooldown_end + timedelta(days=31)


def test_a_refitted_gbm_ranks_reasons_by_its_new_trees(uci_inputs):
    from linewise.models.gbm import GradientBoostedModel

    features, bad = uci_inputs.features.iloc[:6000], uci_inputs.bad[:6000]
    model = GradientBoostedModel(max_trees=30).fit(features, bad)
    model.reason_contributions(features.iloc[:10])
    model.set_params(max_trees=60, early_stopping_rounds=60).fit(features.iloc[:4000], bad[:4000])
    contributions = model.reason_contributions(features.iloc[:100])
    base = model.raw_log_odds(features.iloc[:100]) - contributions.sum(axis=1).to_numpy()
    np.testing.assert_allclose(base, base[0], atol=1e-9)


def test_accounts_decided_in_batches_get_the_decisions_of_one_call(
    uci_decided, uci_inputs, uci_gbm, default_strategy, uci_history, monkeypatch
):
    import linewise.decide

    monkeypatch.setattr(linewise.decide, "BATCH", 700)
    rows = np.arange(0, 30_000, 15)
    batched = decide(
        uci_inputs.features.iloc[rows],
        model=uci_gbm,
        model_ref=MODEL_REF,
        strategy=default_strategy,
        context=Context(as_of=AS_OF),
        history=uci_history,
    )
    pd.testing.assert_frame_equal(
        batched, uci_decided.iloc[rows].reset_index(drop=True), check_dtype=False, check_exact=True
    )
