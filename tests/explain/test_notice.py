"""Customer notices on the real portfolio: the customer's own figures, never the model's."""

from __future__ import annotations

import re

import pytest

from linewise.explain.notice import render_notice
from linewise.features import REGISTRY

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


def test_a_held_customer_who_repaid_on_time_hears_it_first_then_why_then_the_way_up(
        uci_decided, uci_inputs, policy):
    on_time = uci_inputs.features["on_time_ratio_6m"] >= 1
    held = uci_decided[(uci_decided["action"] == "hold")
                       & on_time.reindex(uci_decided["account_id"]).to_numpy()
                       & (uci_decided["recourse"].map(len) > 0)]
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
    decision = {"action": "hold", "current_limit": 5_000_000, "new_limit": 5_000_000,
                "segment": "established", "reasons": ["missed_payment_months_6m_above_max"],
                "recourse": [], "recourse_limit": None}
    clean = {"on_time_ratio_6m": 1.0, "missed_payment_months_6m": 0.0, "dpd_max_6m": 0.0}
    assert "thank you" in render_notice(decision, clean, policy, "en")
    for spoiled in ({"missed_payment_months_6m": 2.0}, {"dpd_max_6m": 15.0}):
        notice = render_notice(decision, clean | spoiled, policy, "en")
        assert "thank you" not in notice and "\nWhy:\n" in notice
        assert "感谢" not in render_notice(decision, clean | spoiled, policy, "zh")
