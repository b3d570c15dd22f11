"""Published criteria: the strategy's rules in plain words, rendered from the file in force."""

from __future__ import annotations

import json
import re
import subprocess

import pytest
from tests.inprocess import run_linewise
from tests.strategy.texts import DEFAULT, edit, line_of

from linewise.data.schemas import PROTECTED_ATTRIBUTES
from linewise.explain.criteria import render_criteria
from linewise.explain.formatting import amount, feature_value
from linewise.features import REGISTRY
from linewise.strategy import read_strategy
from linewise.strategy.compiled import Policy, compile_strategy

LANGS = ["zh", "en"]
CJK = re.compile(r"[\u4e00-\u9fff]")
# What a customer must never read: the model's outputs and its internals.
FORBIDDEN = re.compile(r"\bPD\b|probability|score|log-odds|grade|band|概率|评分|分数|等级|模型|model", re.I)


def policy_of(text: str = DEFAULT) -> Policy:
    return compile_strategy(read_strategy(text, "s.yaml")).policies["champion"]


DEFAULT_POLICY = policy_of()
BAD = edit(DEFAULT, "cooldown_days: 90", "cooldown_days: -1")


def criteria(lang: str, text: str = DEFAULT) -> str:
    return render_criteria(DEFAULT_POLICY if text is DEFAULT else policy_of(text), lang)


def description(feature: str, lang: str) -> str:
    spec = REGISTRY[feature]
    return spec.description_zh if lang == "zh" else spec.description_en


def line_with(text: str, fragment: str) -> str:
    found = [line for line in text.splitlines() if fragment in line]
    assert len(found) == 1, f"{fragment!r} is on {len(found)} lines"
    return found[0]


@pytest.fixture(scope="module")
def cli(tmp_path_factory) -> dict[str, subprocess.CompletedProcess[str]]:
    """Each command line the tests look at, run once."""
    cwd = tmp_path_factory.mktemp("explain")
    (cwd / "s.yaml").write_text(DEFAULT, encoding="utf-8")
    (cwd / "bad.yaml").write_text(BAD, encoding="utf-8")
    commands = {
        "default": ["s.yaml"],
        "json": ["s.yaml", "--lang", "en", "--json"],
        "french": ["s.yaml", "--lang", "fr"],
        "invalid": ["bad.yaml", "--lang", "en"],
    }
    return {name: run_linewise("strategy", "explain", *args, cwd=cwd) for name, args in commands.items()}


# --- what the customer reads -------------------------------------------------------------


def test_the_zh_text_is_chinese_and_the_en_text_has_no_chinese():
    assert len(CJK.findall(criteria("zh"))) > 200
    assert not CJK.search(criteria("en"))


@pytest.mark.parametrize("lang", LANGS)
def test_the_text_has_seven_sections_and_names_the_strategy_version(lang):
    text = criteria(lang)
    assert "default@1" in text.splitlines()[0]
    headings = (
        ("一、", "二、", "三、", "四、", "五、", "六、", "七、")
        if lang == "zh"
        else tuple(f"{n}. " for n in range(1, 8))
    )
    starts = [line for line in text.splitlines() if line.startswith(headings)]
    assert len(starts) == 7, starts


@pytest.mark.parametrize("lang", LANGS)
def test_every_ladder_tier_appears_formatted_in_order(lang):
    text = criteria(lang)
    tiers = [amount(int(v), "TWD", lang) for v in DEFAULT_POLICY.ladder]
    ladder_line = line_with(text, ("：" if lang == "zh" else ": ") + tiers[0])
    positions = [ladder_line.index(tier) for tier in tiers]
    assert positions == sorted(positions)


@pytest.mark.parametrize("lang", LANGS)
def test_each_increase_gate_is_told_with_its_threshold_in_the_features_unit(lang):
    text = criteria(lang)
    for gate in DEFAULT_POLICY.gates:
        spec = REGISTRY[gate.feature]
        line = line_with(text, f"- {description(gate.feature, lang)}")
        assert feature_value(gate.value, spec.unit, "TWD", lang) in line, line


@pytest.mark.parametrize(
    ("lang", "gate"),
    [
        ("zh", "近6个月最长逾期天数不超过0天"),
        ("en", "longest days past due in the last 6 months at most 0 days"),
        ("zh", "开户月数不低于5个月"),
        ("en", "share of the limit in use now at most 95%"),
    ],
)
def test_a_gate_reads_as_feature_bound_and_value(lang, gate):
    assert f"- {gate}\n" in criteria(lang)


@pytest.mark.parametrize("lang", LANGS)
def test_only_gates_that_pass_without_data_say_missing_data_does_not_count(lang):
    text = criteria(lang)
    marker = "不会因此对您不利" if lang == "zh" else "does not count against you"
    for gate in DEFAULT_POLICY.gates:
        line = line_with(text, f"- {description(gate.feature, lang)}")
        assert (marker in line) == gate.passes_if_missing, line


def test_a_gate_threshold_that_is_not_a_whole_percent_is_shown_exactly():
    text = criteria("en", edit(DEFAULT, "value: 0.95", "value: 0.955"))
    assert "share of the limit in use now at most 95.5%" in text


@pytest.mark.parametrize("lang", LANGS)
def test_the_published_criteria_follow_the_file_when_the_cool_down_changes(lang):
    before = criteria(lang)
    after = criteria(lang, edit(DEFAULT, "cooldown_days: 90", "cooldown_days: 60"))
    said = "满60天" if lang == "zh" else "at least 60 days"
    assert said not in before
    assert said in after
    window = "90天内" if lang == "zh" else "in 90 days"
    assert line_with(before, window) == line_with(after, window)  # requests have their own


@pytest.mark.parametrize("lang", LANGS)
def test_the_step_caps_the_ceiling_and_tiers_per_review_are_stated(lang):
    text = criteria(lang)
    for figure in ("50%", amount(200_000_00, "TWD", lang), amount(1_000_000_00, "TWD", lang)):
        assert figure in text
    changed = criteria(lang, edit(DEFAULT, "max_tiers_per_review: 1", "max_tiers_per_review: 2"))
    assert ("最多提升2档" if lang == "zh" else "at most 2 tiers") in changed


def test_a_segment_that_is_never_raised_is_told_by_its_condition():
    assert "开户月数低于5个月的账户不予提额。" in criteria("zh")
    assert "Lines with months since the line was opened below 5 months are not raised." in criteria("en")
    moved = criteria("en", edit(DEFAULT, 'op: "<", value: 5', 'op: "<", value: 4'))
    assert "opened below 4 months are not raised" in moved


def test_a_segment_ceiling_names_the_earlier_segments_it_cannot_hold():
    """thin_file comes after income_verified: a line with verified income is never thin-file."""
    text = criteria("en")
    assert (
        "Lines with no credit bureau score and no verified monthly income are raised to "
        f"at most {amount(300_000_00, 'TWD', 'en')}."
    ) in text
    assert "无征信评分且无已验证月收入的账户，额度最高提升至新台币300,000元。" in criteria("zh")


@pytest.mark.parametrize("lang", LANGS)
def test_income_caps_are_told_with_their_figures(lang):
    text = criteria(lang)
    assert amount(200_000_00, "TWD", lang) in line_with(text, "未经验证" if lang == "zh" else "Without verified income")
    affordable = line_with(text, "收入已验证的" if lang == "zh" else "With verified income")
    assert "40%" in affordable and affordable.count("5%") == 2
    tighter = criteria(lang, edit(DEFAULT, "debt_service_ratio_max: 0.4", "debt_service_ratio_max: 0.35"))
    assert "35%" in line_with(tighter, "收入已验证的" if lang == "zh" else "With verified income")


@pytest.mark.parametrize("lang", LANGS)
def test_freeze_and_decrease_rules_are_told_in_words(lang):
    text = criteria(lang)
    frozen = line_with(text, "冻结，" if lang == "zh" else "frozen, with no new drawings")
    assert description("dpd_current", lang) in frozen
    lowered = line_with(text, "降低1档" if lang == "zh" else "lowered by 1 tier")
    assert ("明显变差" if lang == "zh" else "markedly worse") in lowered


@pytest.mark.parametrize("lang", LANGS)
def test_requests_state_their_limit_and_their_own_gate(lang):
    text = criteria(lang)
    limit = (
        "90天内最多可申请提额2次。" if lang == "zh" else "You can ask for a higher limit at most 2 times in 90 days."
    )
    assert limit in text
    gate = line_with(text, description("drawn_to_limit_3m", lang))
    assert gate.startswith("- ") and "100%" in gate


@pytest.mark.parametrize("lang", LANGS)
def test_no_pd_band_or_model_figure_is_ever_shown(lang):
    # The decrease rule's PD threshold moved to 0.37, a figure nothing else in the file has.
    text = criteria(lang, edit(DEFAULT, '{feature: pd, op: ">=", value: 0.5}', '{feature: pd, op: ">=", value: 0.37}'))
    bands = [*DEFAULT_POLICY.grade_pd_max[:-1].tolist(), 0.37]
    for band in bands:
        for shown in (f"{band}", f"{band:.2f}", f"{band:.0%}", f"{band:.1%}"):
            assert not re.search(rf"(?<![\d.,]){re.escape(shown)}(?![\d])", text), shown


@pytest.mark.parametrize("lang", LANGS)
def test_no_word_for_the_model_or_its_outputs_appears(lang):
    text = criteria(lang)
    # A feature's own description is the customer's figure, not ours: the credit
    # bureau's score of the customer is named as the bureau names it.
    for name in REGISTRY:
        text = text.replace(description(name, lang), "")
    assert not FORBIDDEN.search(text), FORBIDDEN.search(text)


@pytest.mark.parametrize("lang", LANGS)
def test_repaying_on_time_is_said_never_to_be_enough_on_its_own(lang):
    said = "仅凭按时还款不会提升额度" if lang == "zh" else "on its own it never raises a line"
    assert said in criteria(lang)


def test_no_feature_is_a_protected_attribute():
    for name, spec in REGISTRY.items():
        assert name not in PROTECTED_ATTRIBUTES
        assert not re.search(r"\b(age|sex|gender|marital|married|marriage|education)\b", spec.description_en, re.I), (
            name
        )
        assert not re.search("年龄|性别|婚姻|学历|教育", spec.description_zh), name


@pytest.mark.parametrize(
    ("lang", "words"),
    [
        ("zh", ["年龄", "性别", "婚姻状况", "学历"]),
        ("en", ["age", "sex", "marital status", "education"]),
    ],
)
def test_what_never_counts_names_each_protected_attribute_and_consent(lang, words):
    text = criteria(lang)
    protected = line_with(text, "从不影响" if lang == "zh" else "never count in")
    assert all(word in protected for word in words)
    assert ("未经您同意" if lang == "zh" else "you have not agreed to share") in text


def test_a_description_goes_under_the_title():
    text = render_criteria(DEFAULT_POLICY, "en", description="Our cash line.")
    assert text.splitlines()[1] == "Our cash line."


# --- the command line ------------------------------------------------------------------


def test_explain_prints_the_criteria_in_chinese_by_default(cli):
    result = cli["default"]
    assert result.returncode == 0, result.stderr
    assert result.stdout == criteria("zh") + "\n"


def test_explain_json_gives_the_strategy_the_language_and_the_text(cli):
    result = cli["json"]
    assert result.returncode == 0, result.stderr
    payload = json.loads(result.stdout)
    assert payload == {"strategy": "default@1", "arm": "champion", "lang": "en", "text": criteria("en")}


def test_explain_refuses_a_language_it_does_not_write_with_exit_2(cli):
    result = cli["french"]
    assert result.returncode == 2
    assert "--lang must be one of ['zh', 'en']; got 'fr' [language_unknown]" in result.stderr
    assert result.stdout == ""


def test_explain_refuses_an_invalid_file_with_exit_2_naming_the_line(cli):
    result = cli["invalid"]
    assert result.returncode == 2
    assert f"bad.yaml:{line_of(BAD, 'cooldown_days')}: increase.cooldown_days must be " in result.stderr
    assert result.stdout == ""


def test_the_criteria_say_what_counts_as_repaying_on_time():
    text = render_criteria(policy_of(), "en")
    assert "Paying at least 5% of each bill (the minimum payment) by its due date counts" in text
    assert "每期按时还款至少5%的账单金额（最低还款额），即视为按时还款" in render_criteria(policy_of(), "zh")
    strict = policy_of(edit(DEFAULT, "minimum_payment_pct: 5\n", ""))
    assert "Only paying the whole amount due by its due date counts" in render_criteria(strict, "en")
    assert "minimum payment" not in render_criteria(strict, "en")
