"""The reason catalogue: every code a decision can carry has a customer text in zh and en."""

from __future__ import annotations

import re
from datetime import date

import pytest
from tests.strategy.texts import edit

from linewise.explain.catalogue import code_feature, every_code, reason_text
from linewise.explain.notice import analyst_reasons, render_reasons
from linewise.features import REGISTRY
from linewise.strategy import default_strategy_text, read_strategy
from linewise.strategy.compiled import compile_strategy
from linewise.strategy.reasons import gate_code, unknown_code
from linewise.strategy.spec import Operator

CJK = re.compile(r"[\u4e00-\u9fff]")
POLICY = compile_strategy(read_strategy(default_strategy_text())).policies["champion"]
# A customer whose every figure is known, so that every template has something to say.
FEATURES = dict.fromkeys(REGISTRY, 3.0) | {"income_verified_monthly": 5_000_000.0, "external_debt": 1_000_000.0}
DECISION = {
    "action": "hold",
    "current_limit": 5_000_000,
    "new_limit": 5_000_000,
    "segment": "established",
    "risk_grade": "C",
    "pd": 0.1,
}


def _all_codes() -> list[str]:
    derived = [gate_code(name, op) for name in REGISTRY for op in Operator]
    derived += [unknown_code(name) for name in REGISTRY]
    return sorted({*every_code(POLICY), *derived})


@pytest.mark.parametrize("code", _all_codes())
def test_every_code_has_a_filled_text_in_chinese_and_in_english_and_for_analysts(code):
    assert reason_text(code, POLICY) is not None
    decision = DECISION | {"reasons": [code]}
    (zh,) = render_reasons(decision, FEATURES, POLICY, "zh")
    (en,) = render_reasons(decision, FEATURES, POLICY, "en")
    (analyst,) = analyst_reasons(decision, FEATURES, POLICY)
    for text in (zh, en, analyst):
        assert "{" not in text and "}" not in text
        assert "nan" not in text.lower().split()
    assert CJK.search(zh), zh
    assert not CJK.search(en), en
    assert analyst.startswith(f"{code}: ")


def test_the_sweep_covers_the_default_strategys_codes_and_a_model_reason_per_feature():
    codes = _all_codes()
    for code in (
        "overdue_now",
        "risk_grown",
        "recent_drawings_above_limit",
        "cap_unverified_income",
        "dpd_max_6m_above_max",
        "on_time_ratio_6m_unknown",
        "model_dpd_max_3m",
    ):
        assert code in codes
    assert sum(code.startswith("model_") for code in codes) == len(REGISTRY)


def test_a_code_nothing_declares_has_no_text():
    assert reason_text("made_up_code", POLICY) is None
    with pytest.raises(KeyError, match="made_up_code"):
        render_reasons(DECISION | {"reasons": ["made_up_code"]}, FEATURES, POLICY, "en")


def test_a_rule_code_of_the_strategy_file_is_told_from_the_rules_own_conditions():
    text = edit(
        default_strategy_text(),
        "  - code: overdue_now\n",
        '  - code: long_overdue\n    when: [{feature: dpd_current, op: ">=", value: 30}]\n  - code: overdue_now\n',
    )
    policy = compile_strategy(read_strategy(text)).policies["champion"]
    decision = DECISION | {"action": "freeze", "reasons": ["long_overdue"]}
    (zh,) = render_reasons(decision, FEATURES, policy, "zh")
    (en,) = render_reasons(decision, FEATURES, policy, "en")
    assert "当前逾期天数不低于30天" in zh
    assert "days past due now at least 30 days" in en


def test_a_rule_on_the_pd_is_told_without_the_pd():
    text = edit(default_strategy_text(), "  - code: risk_grown\n", "  - code: pd_high\n")
    policy = compile_strategy(read_strategy(text)).policies["champion"]
    decision = DECISION | {"action": "decrease", "reasons": ["pd_high"], "pd": 0.6123}
    for lang in ("zh", "en"):
        (sentence,) = render_reasons(decision, FEATURES, policy, lang)
        assert "0.5" not in sentence and "0.61" not in sentence and "61%" not in sentence
        assert "pd" not in sentence.lower().split()


def test_a_gate_on_the_score_is_told_as_the_assessment_without_its_number():
    text = default_strategy_text().replace(
        '    - {feature: months_on_book, op: ">=", value: 5}\n',
        '    - {feature: months_on_book, op: ">=", value: 5}\n'
        '    - {feature: score, op: ">=", value: 560, code: score_too_low}\n',
        1,
    )
    policy = compile_strategy(read_strategy(text)).policies["champion"]
    assert "score_too_low" in every_code(policy) and "score_unknown" not in every_code(policy)
    decision = DECISION | {"reasons": ["score_too_low"], "score": 548.2}
    for lang in ("zh", "en"):
        (sentence,) = render_reasons(decision, FEATURES, policy, lang)
        assert "560" not in sentence and "548" not in sentence and "score" not in sentence.lower()
    (analyst,) = analyst_reasons(decision, FEATURES, policy)
    assert "560" in analyst


# A customer as a review sees one: each figure of its unit's usual size, income verified,
# other debt and a bureau record known, the limit last changed on a known date.
_TYPICAL = {"minor_units": 2_500_000.0, "ratio": 0.42, "months": 14.0, "days": 12.0, "count": 2.0, "score": 640.0}
REALISTIC = {name: _TYPICAL[spec.unit] for name, spec in REGISTRY.items()}
LAST_CHANGE = date(2005, 8, 15)


@pytest.mark.parametrize("code", every_code(POLICY))
def test_every_code_of_the_default_strategy_is_told_with_the_customers_known_figures(code):
    """No "unknown" where the figure is known, and no placeholder left unfilled."""
    feature = code_feature(code, POLICY)
    # A code about an unknown value is told of a customer without it.
    unknown = code.endswith("_unknown")
    features = {k: v for k, v in REALISTIC.items() if not (unknown and k == feature)}
    decision = DECISION | {"reasons": [code], "segment": "thin_file", "risk_grade": "C", "pd": 0.17}
    (zh,) = render_reasons(decision, features, POLICY, "zh", last_limit_change_on=LAST_CHANGE)
    (en,) = render_reasons(decision, features, POLICY, "en", last_limit_change_on=LAST_CHANGE)
    (analyst,) = analyst_reasons(decision, features, POLICY, last_limit_change_on=LAST_CHANGE)
    told = analyst.removeprefix(f"{code}: ")
    for text in (zh, en, told):
        assert not re.search(r"\{\w*\}", text), text
        assert "nan" not in text.lower().split(), text
    assert "未知" not in zh, zh
    assert "unknown" not in en.lower(), en
    if not unknown:
        assert "unknown" not in told.lower(), analyst
