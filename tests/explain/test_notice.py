"""Customer notices on the real portfolio: the customer's own figures, never the model's."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date

import pandas as pd
import pytest

from linewise.explain.formatting import amount, day
from linewise.explain.notice import (
    analyst_reasons,
    months_due,
    render_notice,
    render_reasons,
    repaid_on_time,
)
from linewise.explain.recourse import STEP_KINDS
from linewise.features import REGISTRY
from linewise.money import currency_exponent

CJK = re.compile(r"[\u4e00-\u9fff]")
# What a customer must never read: the model's outputs and its internals.
FORBIDDEN = re.compile(r"\bPD\b|probability|score|log-odds|grade|概率|评分|分数|等级|模型|model", re.I)


@pytest.fixture(scope="module")
def policy(default_strategy):
    return default_strategy.policies["champion"]


@pytest.fixture(scope="module")
def sample(uci_decided):
    """Every reason code and every action of the portfolio, a few accounts of each."""
    picked = set()
    for _action, group in uci_decided.groupby("action"):
        picked.update(group.index[:20])
    for code in {c for codes in uci_decided["reasons"] for c in codes}:
        picked.update(uci_decided.index[uci_decided["reasons"].map(lambda r, c=code: c in r)][:5])
    picked.update(uci_decided.index[uci_decided["recourse"].map(len) > 0][:100])
    return uci_decided.loc[sorted(picked)]


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_no_notice_shows_the_pd_the_score_or_the_grade(sample, uci_inputs, policy, lang):
    for _, row in sample.iterrows():
        features = uci_inputs.features.loc[row["account_id"]].dropna().to_dict()
        notice = render_notice(row, features, policy, lang)
        assert not FORBIDDEN.search(notice), notice
        for figure in (f"{row['pd']:.2f}", f"{row['pd']:.1%}", f"{row['score']:.0f}"):
            assert figure not in notice, (figure, notice)
        assert bool(CJK.search(notice)) == (lang == "zh")
        assert len(notice.splitlines()) >= 1 + (1 + len(row["reasons"]) if row["reasons"] else 0)


def test_a_held_customer_who_repaid_on_time_hears_it_first_then_why_then_the_way_up(uci_decided, uci_inputs, policy):
    on_time = uci_inputs.features["on_time_ratio_6m"] >= 1
    held = uci_decided[
        (uci_decided["action"] == "hold")
        & on_time.reindex(uci_decided["account_id"]).to_numpy()
        & (uci_decided["recourse"].map(len) > 0)
    ]
    row = held.iloc[0]
    features = uci_inputs.features.loc[row["account_id"]].dropna().to_dict()
    zh = render_notice(row, features, policy, "zh").splitlines()
    en = render_notice(row, features, policy, "en").splitlines()
    assert zh[0].startswith("您的额度保持为") and en[0].startswith("Your limit stays at")
    assert "按时还款" in zh[1] and "但是" in zh[1]
    assert "repaid on time" in en[1] and en[1].endswith("But:")
    assert zh[-1].startswith("如何提额：") and "提升至" in zh[-1]
    assert en[-1].startswith("What would raise the line: if you ")
    limit = f"{int(row['recourse_limit']) // 100:,}"
    assert limit in zh[-1] and limit in en[-1]


def test_a_frozen_customer_is_told_the_days_overdue_in_their_own_figures(uci_decided, uci_inputs, policy):
    row = uci_decided[uci_decided["action"] == "freeze"].iloc[0]
    features = uci_inputs.features.loc[row["account_id"]].dropna().to_dict()
    days = int(features["dpd_current"])
    assert f"已逾期{days}天" in render_notice(row, features, policy, "zh")
    assert f"({days} days late)" in render_notice(row, features, policy, "en")


def test_an_increased_customer_reads_the_new_limit_and_no_way_up(uci_decided, uci_inputs, policy):
    row = uci_decided[uci_decided["action"] == "increase"].iloc[0]
    features = uci_inputs.features.loc[row["account_id"]].dropna().to_dict()
    en = render_notice(row, features, policy, "en")
    assert en.startswith("Your limit has been raised from")
    assert f"TWD {int(row['new_limit']) // 100:,}" in en
    assert "What would raise" not in en


def test_every_feature_a_notice_may_name_has_both_descriptions():
    for spec in REGISTRY.values():
        assert CJK.search(spec.description_zh), spec.name
        assert spec.description_en and not CJK.search(spec.description_en), spec.name


def test_no_thanks_for_repaying_on_time_when_a_payment_was_missed_or_late(policy):
    decision = {
        "action": "hold",
        "current_limit": 5_000_000,
        "new_limit": 5_000_000,
        "segment": "established",
        "reasons": ["missed_payment_months_6m_above_max"],
        "recourse": [],
        "recourse_limit": None,
    }
    clean = {"on_time_ratio_6m": 1.0, "missed_payment_months_6m": 0.0, "dpd_max_6m": 0.0}
    assert "thank you" in render_notice(decision, clean, policy, "en")
    for spoiled in ({"missed_payment_months_6m": 2.0}, {"dpd_max_6m": 15.0}):
        notice = render_notice(decision, clean | spoiled, policy, "en")
        assert "thank you" not in notice and "\nWhy:\n" in notice
        assert "感谢" not in render_notice(decision, clean | spoiled, policy, "zh")


# --- true notices, on decisions built by hand ------------------------------------------------

AS_OF = date(2005, 9, 30)
# A line that repaid every bill of the last six months on time, with no months idle.
CLEAN = {
    "months_on_book": 20.0,
    "inactive_months_6m": 0.0,
    "on_time_ratio_6m": 1.0,
    "missed_payment_months_6m": 0.0,
    "dpd_max_6m": 0.0,
    "available_credit": 500_000.0,
}


def held(**fields):
    return {
        "account_id": "A1",
        "as_of": AS_OF,
        "action": "hold",
        "current_limit": 20_000_000,
        "new_limit": 20_000_000,
        "segment": "thin_file",
        "risk_grade": "B",
        "pd": 0.1,
        "reasons": ["cap_unverified_income"],
        "recourse": [],
        "recourse_limit": pd.NA,
        "recourse_on": None,
    } | fields


def both(decision, features, policy, **kwargs):
    return (
        render_notice(decision, features, policy, "zh", **kwargs),
        render_notice(decision, features, policy, "en", **kwargs),
    )


def test_thanks_for_each_of_the_last_6_months_when_six_months_had_a_bill_and_all_were_on_time(policy):
    zh, en = both(held(), CLEAN, policy)
    assert zh.splitlines()[1] == "您近6个月每期都按时还款，感谢您的信任。但是："
    assert en.splitlines()[1] == "You repaid on time in each of the last 6 months - thank you. But:"


def test_a_line_younger_than_six_month_ends_is_thanked_for_repaying_since_it_was_opened(policy):
    young = CLEAN | {"months_on_book": 3.0, "inactive_months_6m": 1.0}
    zh, en = both(held(segment="new", reasons=["segment_not_raised"]), young, policy)
    assert zh.splitlines()[1] == "您自3个月前开立额度以来一直按时还款，感谢您的信任。但是："
    assert en.splitlines()[1] == "You have repaid on time since you opened the line 3 months ago - thank you. But:"
    assert "6个月" not in zh.splitlines()[1] and "6 months" not in en


def test_a_line_with_months_where_nothing_was_due_is_thanked_only_for_the_months_something_was(policy):
    zh, en = both(held(), CLEAN | {"inactive_months_6m": 2.0}, policy)
    assert zh.splitlines()[1] == "近6个月中有4个月有应还款项，您每期都按时还款，感谢您的信任。但是："
    assert en.splitlines()[1] == (
        "You repaid on time in each of the 4 months of the last 6 in which something was due - thank you. But:"
    )
    zh, en = both(held(), CLEAN | {"inactive_months_6m": 5.0}, policy)
    assert "只有1个月有应还款项" in zh
    assert "in the one month of the last 6 in which something was due" in en


def test_a_customer_with_nothing_due_in_the_last_6_months_is_not_thanked(policy):
    idle = CLEAN | {"inactive_months_6m": 6.0, "on_time_ratio_6m": float("nan")}
    zh, en = both(held(reasons=["on_time_ratio_6m_unknown"]), idle, policy)
    assert "感谢" not in zh and "thank" not in en
    assert zh.splitlines()[1] == "原因：" and en.splitlines()[1] == "Why:"


def test_repaid_on_time_thanks_only_lines_with_something_due_and_every_bill_on_time():
    frame = pd.DataFrame(
        [
            CLEAN,
            CLEAN | {"inactive_months_6m": 3.0},
            CLEAN | {"inactive_months_6m": 6.0, "on_time_ratio_6m": float("nan")},
            CLEAN | {"on_time_ratio_6m": 0.8},
            CLEAN | {"dpd_max_6m": 3.0},
        ]
    )
    assert repaid_on_time(frame).tolist() == [True, True, False, False, False]
    assert months_due(frame).tolist() == [6, 3, 0, 6, 6]


def test_an_over_limit_line_is_told_by_how_much_it_is_over_never_a_negative_credit_available(policy):
    over = CLEAN | {"available_credit": -234_900.0}
    decision = held(reasons=["risk_grade_too_low", "model_available_credit"])
    zh, en = both(decision, over, policy)
    assert "2. 您已超出额度新台币2,349元，这是本次评估中最不利的因素之一。" in zh
    assert "2. You are over your limit by TWD 2,349, which weighed most against you in this assessment." in en
    for text in (zh, en, *analyst_reasons(decision, over, policy)):
        assert "-2,349" not in text or text.startswith("model_available_credit: model:")
    assert "-" not in zh and "TWD -" not in en
    # Credit still available is told as it is.
    zh, en = both(decision, CLEAN, policy)
    assert "当前可用额度为新台币5,000元" in zh and "credit still available on the line now, TWD 5,000" in en


def test_a_gate_on_credit_available_is_told_as_over_the_limit_when_it_is_below_zero(policy):
    (zh,) = render_reasons(held(reasons=["available_credit_below_min"]), {"available_credit": -100_000.0}, policy, "zh")
    (en,) = render_reasons(held(reasons=["available_credit_below_min"]), {"available_credit": -100_000.0}, policy, "en")
    assert zh == "您已超出额度新台币1,000元。" and en == "You are over your limit by TWD 1,000."


def test_a_change_is_shown_with_its_sign(policy):
    decision = held(reasons=["model_utilisation_trend_6m", "model_dpd_change_1m"])
    _, en = both(decision, CLEAN | {"utilisation_trend_6m": 0.12, "dpd_change_1m": -3.0}, policy)
    assert "against the 5 months before, +12%," in en and "since last month, -3 days," in en


def test_a_line_at_the_top_of_the_ladder_is_told_it_has_the_highest_limit_not_to_keep_a_clean_record(policy):
    top = int(policy.ladder[-1])
    decision = held(current_limit=top, new_limit=top, reasons=["limit_at_top"])
    zh, en = both(decision, CLEAN, policy)
    assert zh.splitlines()[-1] == "如何提额：您的额度已是本产品提供的最高额度，无法再提升。"
    assert en.splitlines()[-1] == (
        "What would raise the line: nothing; your limit is already the highest this product offers."
    )
    assert "记录" not in zh.splitlines()[-1] and "clean" not in en


def test_an_unused_line_is_told_plainly_it_is_not_raised_and_never_asked_to_borrow(policy):
    idle = CLEAN | {"inactive_months_6m": 6.0, "on_time_ratio_6m": float("nan")}
    zh, en = both(held(reasons=["on_time_ratio_6m_unknown"]), idle, policy)
    assert zh.splitlines()[-1] == (
        "如何提额：额度是根据已用部分的还款情况来评估的。近6个月您的额度没有产生"
        "应还款项，无从评估，因此未使用的额度不会提升。"
    )
    assert en.splitlines()[-1] == (
        "What would raise the line: a line is judged by how what is drawn on it is repaid; nothing "
        "has fallen due on yours in the last 6 months, so there is nothing to judge it by, and an "
        "unused line is not raised."
    )
    assert "borrow" not in en and "借款" not in zh.splitlines()[-1]


def test_a_verified_income_below_what_the_rule_needs_is_asked_to_be_proven_higher_and_told_why(policy):
    decision = held(
        segment="income_verified",
        reasons=["cap_affordability"],
        recourse=["verify_income_at_least=5000000", "repay_on_time_months=1"],
        recourse_limit=30_000_000,
        recourse_on=date(2005, 10, 31),
    )
    verified = CLEAN | {"income_verified_monthly": 4_000_000.0}
    zh, en = both(decision, verified, policy)
    assert zh.splitlines()[-1] == (
        "如何提额：证明更高的月收入（不低于新台币50,000元），并继续按时还款1个月后，2005年10月31日的评估"
        "可将额度提升至新台币300,000元（前提是您按目前的方式使用额度，并每期按时还款，至少还最低还款额）。"
        "我们已验证的您的月收入为新台币40,000元，低于新台币300,000元额度所需的新台币50,000元。"
    )
    assert en.splitlines()[-1] == (
        "What would raise the line: if you prove a higher monthly income, of at least TWD 50,000 and "
        "keep repaying on time for 1 more month, the review on 31 October 2005 can raise your limit "
        "to TWD 300,000 (if you keep using the line as now and pay each bill on time, at least the "
        "minimum). The income we have verified, TWD 40,000, is below the TWD 50,000 a limit of "
        "TWD 300,000 needs."
    )
    assert "验证月收入" not in zh and "verify a monthly income" not in en


def test_an_unverified_income_is_asked_to_be_verified(policy):
    decision = held(
        recourse=["verify_income_at_least=3750000"], recourse_limit=30_000_000, recourse_on=date(2005, 10, 31)
    )
    zh, en = both(decision, CLEAN, policy)
    assert "如何提额：验证月收入不低于新台币37,500元后，2005年10月31日的评估可将额度提升至新台币300,000元" in zh
    assert (
        "What would raise the line: if you verify a monthly income of at least TWD 37,500, the "
        "review on 31 October 2005 can raise your limit to TWD 300,000"
    ) in en
    assert "prove" not in en and "We have verified" not in en


def test_a_promise_says_what_it_assumes_paying_in_full_where_the_minimum_does_not_count(policy):
    decision = held(recourse=["repay_at_least=984900"], recourse_limit=30_000_000, recourse_on=date(2005, 10, 31))
    zh, en = both(decision, CLEAN, policy)
    assert zh.endswith("（前提是您按目前的方式使用额度，并每期按时还款，至少还最低还款额）。")
    assert en.endswith("(if you keep using the line as now and pay each bill on time, at least the minimum).")
    in_full = replace(policy, minimum_payment_bp=None)
    zh, en = both(decision, CLEAN, in_full)
    assert zh.endswith("（前提是您按目前的方式使用额度，并每期按时全额还款）。")
    assert en.endswith("(if you keep using the line as now and pay each bill in full and on time).")
    assert "everything else" not in en and "其他情况保持不变" not in zh


def test_a_line_the_next_periodic_review_would_raise_as_it_is_needs_nothing_done(policy):
    decision = held(
        trigger="request", reasons=["recent_drawings_above_limit"], recourse_limit=4_500_000, recourse_on=AS_OF
    )
    zh, en = both(decision, CLEAN, policy)
    assert zh.splitlines()[-1] == (
        "如何提额：您无需做任何事，下次定期评估即可将额度提升至新台币45,000元（其他情况保持不变）。"
    )
    assert en.splitlines()[-1] == (
        "What would raise the line: nothing you need to do; the next periodic "
        "review can raise your limit to TWD 45,000 (with everything else as "
        "it is now)."
    )


def test_a_line_with_nothing_due_that_a_later_review_would_raise_is_told_that_reviews_date(policy):
    decision = held(recourse_limit=30_000_000, recourse_on=pd.Timestamp("2005-10-31"))
    zh, en = both(decision, CLEAN | {"inactive_months_6m": 6.0, "on_time_ratio_6m": float("nan")}, policy)
    assert zh.splitlines()[-1] == (
        "如何提额：您无需做任何事，2005年10月31日的评估即可将额度提升至新台币300,000元（前提是账户保持良好状态）。"
    )
    assert en.splitlines()[-1] == (
        "What would raise the line: nothing you need to do: the review on "
        "31 October 2005 can raise your limit to TWD 300,000 (if the line "
        "stays in good standing)."
    )


def test_a_frozen_line_that_is_also_cut_is_told_both_with_each_reason(policy):
    decision = held(
        action="freeze",
        current_limit=2_000_000,
        new_limit=1_500_000,
        reasons=["overdue_now", "risk_grown"],
        recourse=["clear_overdue", "repay_on_time_months=3"],
        recourse_limit=2_000_000,
        recourse_on=date(2005, 12, 31),
    )
    late = CLEAN | {"dpd_current": 30.0, "dpd_max_6m": 30.0}
    zh, en = both(decision, late, policy)
    assert zh.splitlines() == [
        "您的额度已从新台币20,000元调整为新台币15,000元，并暂时冻结，暂不能借款。",
        "原因：",
        "1. 您当前有逾期未还的款项（已逾期30天），额度暂时冻结。",
        "2. 您近期的信用状况明显变差。",
        "如何提额：还清逾期款项，并继续按时还款3个月后，2005年12月31日的评估可将额度提升至新台币20,000元"
        "（前提是您按目前的方式使用额度，并每期按时还款，至少还最低还款额）。",
    ]
    assert en.splitlines()[:4] == [
        "Your limit has been lowered from TWD 20,000 to TWD 15,000, and the line is frozen for now: no new drawings.",
        "Why:",
        "1. You have a payment overdue now (30 days late), so the line is frozen for the time being.",
        "2. Your credit record has got markedly worse recently.",
    ]
    assert en.splitlines()[4].startswith(
        "What would raise the line: if you repay what is overdue and "
        "keep repaying on time for 3 more months, the review on 31 "
        "December 2005 can raise your limit to TWD 20,000"
    )


@pytest.mark.parametrize(
    ("currency", "zh"),
    [
        ("TWD", "新台币30,000元"),
        ("HKD", "港币30,000元"),
        ("USD", "30,000美元"),
        ("EUR", "30,000欧元"),
        ("GBP", "30,000英镑"),
        ("JPY", "30,000日元"),
        ("CNY", "30,000元"),
    ],
)
def test_chinese_names_each_currency_so_that_only_renminbi_is_a_bare_yuan(currency, zh):
    minor = 30_000 * 10 ** currency_exponent(currency)
    assert amount(minor, currency, "zh") == zh
    assert amount(minor, currency, "en") == f"{currency} 30,000"


def test_the_cool_down_is_told_with_its_dates_to_the_customer_and_the_analyst(policy):
    decision = held(reasons=["cooldown_active"])
    changed = date(2005, 8, 15)
    (analyst,) = analyst_reasons(decision, CLEAN, policy, last_limit_change_on=changed)
    assert analyst == "cooldown_active: cool-down of 90 days since 15 August 2005"
    zh, en = both(decision, CLEAN, policy, last_limit_change_on=changed)
    assert "您的额度于2005年8月15日调整过" in zh and "2005年11月13日之后" in zh
    assert "changed on 15 August 2005" in en and "after 13 November 2005" in en


# --- on the real portfolio --------------------------------------------------------------------


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_no_uci_notice_shows_a_negative_amount_or_thanks_for_months_with_nothing_due(sample, uci_inputs, policy, lang):
    for _, row in sample.iterrows():
        features = uci_inputs.features.loc[row["account_id"]].dropna().to_dict()
        notice = render_notice(row, features, policy, lang)
        assert not re.search(r"(TWD |新台币)-\d", notice), notice
        if features["inactive_months_6m"] > 0:
            assert "each of the last 6 months" not in notice and "近6个月每期都按时还款" not in notice
        assert "{" not in notice and "unknown" not in notice and "未知" not in notice, notice
        if len(row["recourse"]):
            review = day(pd.Timestamp(row["recourse_on"]).date(), lang)
            assert review in notice.splitlines()[-1], notice


def test_a_customer_held_for_what_other_lenders_report_is_told_what_to_do_about_it(policy):
    decision = held(
        recourse=["repay_other_lenders_on_time", "no_new_credit_applications", "repay_on_time_months=12"],
        recourse_limit=30_000_000,
        recourse_on=date(2006, 9, 30),
    )
    zh, en = both(decision, CLEAN, policy)
    assert (
        "if you apply for no new credit elsewhere until then, repay every other lender on time and "
        "keep repaying on time for 12 more months, the review on 30 September 2006"
    ) in en
    assert "在此之前不在其他机构申请新的贷款或信用卡，按时偿还您在其他机构的每一笔欠款，并继续按时还款12个月后" in zh


@pytest.mark.parametrize("kind", STEP_KINDS)
def test_every_step_kind_is_told_in_both_languages(policy, kind):
    step = (
        kind
        if kind in ("clear_overdue", "no_new_credit_applications", "repay_other_lenders_on_time")
        else f"{kind}=300000"
    )
    decision = held(recourse=[step], recourse_limit=30_000_000, recourse_on=date(2005, 12, 31))
    zh, en = both(decision, CLEAN, policy)
    assert "2005年12月31日" in zh and CJK.search(zh.splitlines()[-1])
    assert "31 December 2005" in en and "{" not in en + zh


def test_a_frozen_line_with_no_way_up_within_a_year_is_told_to_repay_what_is_overdue_first(policy):
    decision = held(action="freeze", reasons=["overdue_now"])
    late = CLEAN | {"dpd_current": 60.0, "dpd_max_6m": 60.0, "on_time_ratio_6m": 0.5}
    zh, en = both(decision, late, policy)
    assert "first repay what is overdue; even then there is no step within a year" in en
    assert "请先还清逾期款项" in zh
    assert "first repay" not in both(held(), CLEAN, policy)[1]
