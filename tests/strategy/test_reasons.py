"""The engine's reasons are one table: every code has its texts, and evaluation gives no other."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date

import numpy as np
import pandas as pd
import pytest
from pydantic import BaseModel
from tests.strategy.texts import edited

from linewise.explain.catalogue import ENGINE_TEXTS, every_code
from linewise.features import REGISTRY
from linewise.strategy import default_strategy_text, read_strategy
from linewise.strategy.compiled import Policy, compile_strategy
from linewise.strategy.evaluate import Context, cap_limits, evaluate_policy
from linewise.strategy.reasons import (
    ENGINE_REASONS,
    RULE_PRIORITY,
    ReasonKind,
    engine_reasons,
    unknown_code,
)
from linewise.strategy.spec import StrategySpec

CJK = re.compile(r"[\u4e00-\u9fff]")
AS_OF = date(2025, 6, 30)


@pytest.fixture(scope="module")
def policy() -> Policy:
    return compile_strategy(read_strategy(default_strategy_text())).policies["champion"]


@pytest.mark.parametrize("code", list(ENGINE_REASONS))
def test_every_engine_code_has_customer_texts_in_chinese_and_english_and_an_analyst_text(code):
    text = ENGINE_TEXTS[code]
    assert CJK.search(text.zh), text.zh
    assert text.en and not CJK.search(text.en), text.en
    assert text.analyst and not CJK.search(text.analyst)


def test_the_texts_hold_one_entry_per_engine_code_and_no_other():
    assert set(ENGINE_TEXTS) == set(ENGINE_REASONS)


def test_every_engine_code_is_among_the_codes_a_policy_can_give(policy):
    assert set(ENGINE_REASONS) <= set(every_code(policy))


@pytest.mark.parametrize("reason", list(ENGINE_REASONS.values()), ids=list(ENGINE_REASONS))
def test_every_engine_reason_names_a_setting_of_the_strategy_file(reason):
    model: type[BaseModel] = StrategySpec
    for part in reason.setting.split("."):
        name = part.removesuffix("[]")
        assert name in model.model_fields, (reason.code, part)
        annotation = model.model_fields[name].annotation
        inner = getattr(annotation, "__args__", (annotation,))[0]
        model = inner if isinstance(inner, type) and issubclass(inner, BaseModel) else BaseModel


def test_engine_priorities_fall_between_and_after_the_files_own_rules():
    freeze, decrease, gate = (RULE_PRIORITY[k] for k in (ReasonKind.FREEZE, ReasonKind.DECREASE, ReasonKind.GATE))
    assert freeze < decrease < ENGINE_REASONS["segment_not_raised"].priority < gate
    blockers = [r for r in ENGINE_REASONS.values() if r.kind.blocks]
    caps = engine_reasons(ReasonKind.CAP)
    assert max(r.priority for r in blockers) < ENGINE_REASONS["limit_at_top"].priority
    assert ENGINE_REASONS["limit_at_top"].priority < min(r.priority for r in caps)


def test_every_cap_of_the_table_is_computed_for_each_account(policy):
    features = pd.DataFrame(
        {
            "credit_limit": [100_000, 5_000_000],
            "income_verified_monthly": [np.nan, 800_000.0],
            "external_debt": [0.0, 100_000.0],
        }
    )
    caps = cap_limits(policy, features, np.asarray([0, 1]))
    assert list(caps) == [r.code for r in engine_reasons(ReasonKind.CAP)]
    for limits in caps.values():
        assert limits.dtype == np.int64 and limits.shape == (2,)


# --- evaluation gives the table's codes and no other -------------------------------------------


def _accounts(policy: Policy, n: int, seed: int) -> tuple[pd.DataFrame, np.ndarray, Context]:
    """Random accounts over the ranges that matter, with random changes and requests."""
    rng = np.random.default_rng(seed)
    ladder = policy.ladder
    features = pd.DataFrame(
        {
            "credit_limit": rng.choice([*ladder, ladder[0] + 1, ladder[-1] + 1, ladder[-1] * 2], n),
            "months_on_book": rng.integers(0, 30, n).astype("float64"),
            "dpd_current": rng.choice([0.0, 0.0, 0.0, 15.0, 45.0], n),
            "dpd_max_6m": rng.choice([0.0, 0.0, 0.0, 10.0], n),
            "on_time_ratio_6m": rng.choice([1.0, 1.0, 0.8, np.nan], n),
            "missed_payment_months_6m": rng.choice([0.0, 0.0, 1.0], n),
            "utilisation_current": rng.uniform(0.0, 1.2, n),
            "income_verified_monthly": np.where(rng.random(n) < 0.5, np.nan, rng.uniform(1e5, 5e6, n)),
            "external_debt": rng.uniform(0.0, 2e7, n),
            "bureau_score": np.where(rng.random(n) < 0.3, np.nan, rng.uniform(300, 900, n)),
        },
        index=pd.Index([f"A{i}" for i in range(n)], name="account_id"),
    )
    for name in REGISTRY:
        if name not in features:
            features[name] = 0.0
    pd_ = rng.uniform(0.0, 0.3, n)
    changed = pd.Series(pd.Timestamp(AS_OF) - pd.to_timedelta(rng.integers(0, 400, n), unit="D"), index=features.index)
    requests = pd.Series(rng.integers(1, 6, n), index=features.index)
    context = Context(as_of=AS_OF, trigger="request", last_limit_change_on=changed, requests_in_window=requests)
    return features, pd_, context


def _file_codes(policy: Policy) -> set[str]:
    codes = {rule.code for rule in (*policy.freeze, *policy.decrease)}
    for check in policy.all_gates:
        codes |= {check.code, unknown_code(check.feature)}
    return codes


# The default, and a variant whose overall ceiling and step in amount can bind too.
_VARIANTS = {
    "default": (),
    "tighter": (
        ("max_tiers_per_review: 1", "max_tiers_per_review: 4"),
        ("step_amount_max: 200000", "step_amount_max: 30000"),
        ("  ceiling: 1000000", "  ceiling: 700000"),
    ),
}


def test_evaluation_gives_no_code_but_the_files_own_and_the_engines_table():
    given: set[str] = set()
    for seed, edits in enumerate(_VARIANTS.values()):
        variant = compile_strategy(read_strategy(edited(*edits))).policies["champion"]
        features, pd_, context = _accounts(variant, 4000, seed)
        for trigger in ("request", "review"):
            decided = evaluate_policy(variant, features, pd_, replace(context, trigger=trigger))
            codes = {code for reasons in decided["reasons"] for code in reasons}
            declared = _file_codes(variant) | set(ENGINE_REASONS)
            assert codes <= declared, codes - declared
            given |= codes
    # The sample reaches every entry of the table: none is dead.
    assert set(ENGINE_REASONS) - given == set()
