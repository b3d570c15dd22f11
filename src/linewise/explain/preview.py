"""What a drawdown would do, told to the customer before they take it (zh-CN and en).

The figures come from the ledger and the decision core (see
:mod:`linewise.review.preview`); this module only says them: the cost, what the
line looks like after, what the lender reports to the credit bureau, and what the
drawdown would do to the next limit review, with its reasons.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from linewise.explain.formatting import Language, amount
from linewise.explain.notice import render_reasons
from linewise.strategy.compiled import Policy

__all__ = ["PreviewFigures", "action_rank", "preview_text"]

# Better for the customer is higher: a freeze, a cut, a hold, a raise.
_RANK = {"freeze": 0, "decrease": 1, "hold": 2, "increase": 3}


def action_rank(decision: Mapping[str, Any]) -> tuple[int, int]:
    """How good a decision is for the customer: its action, then its new limit."""
    return _RANK[str(decision["action"])], int(decision["new_limit"])


@dataclass(frozen=True)
class PreviewFigures:
    """The figures a preview tells, in minor units and shares (see :func:`preview_text`)."""

    amount: int
    term_months: int
    first_instalment: int
    total_interest: int
    annualised_cost: Decimal
    available_after: int
    utilisation_after: float
    debt_to_income_after: float | None


def _percent(share: float | Decimal) -> str:
    return f"{float(share) * 100:.1f}%"


def _next_review(decision: Mapping[str, Any], currency: str, lang: Language) -> str:
    """What the next review would do to the line, as the end of a sentence."""
    action = str(decision["action"])
    new = amount(decision["new_limit"], currency, lang)
    if lang == "zh":
        return {
            "increase": f"下次评估时您的额度仍会提升至{new}",
            "hold": "下次评估时您的额度不会提高",
            "decrease": f"下次评估时您的额度会被调整为{new}",
            "freeze": "下次评估时您的额度会被暂时冻结",
        }[action]
    return {
        "increase": f"your line would still be raised to {new} at the next review",
        "hold": "your line would not be raised at the next review",
        "decrease": f"your line would be lowered to {new} at the next review",
        "freeze": "your line would be frozen at the next review",
    }[action]


def preview_text(
    figures: PreviewFigures,
    now: Mapping[str, Any],
    after: Mapping[str, Any],
    features_after: Mapping[str, float],
    policy: Policy,
    lang: Language,
) -> str:
    """The preview in ``lang``: the cost, the line after, the bureau report, the next review and why.

    ``now`` is the decision a review would make today without the drawdown, ``after``
    the one it would make right after it (nothing else changed); the reasons told are
    ``after``'s, computed from ``features_after``.
    """
    currency = policy.currency
    zh = lang == "zh"

    def money(minor: int) -> str:
        return amount(minor, currency, lang)

    lines = [
        (
            f"借款{money(figures.amount)}，分{figures.term_months}期，首期还款{money(figures.first_instalment)}，"
            f"总利息{money(figures.total_interest)}，年化成本{_percent(figures.annualised_cost)}。"
            if zh
            else f"Borrowing {money(figures.amount)} over {figures.term_months} months: first instalment "
            f"{money(figures.first_instalment)}, total interest {money(figures.total_interest)}, annualised cost "
            f"{_percent(figures.annualised_cost)}."
        ),
        (
            f"借款后可用额度{money(figures.available_after)}，额度使用率{_percent(figures.utilisation_after)}"
            if zh
            else f"Afterwards: {money(figures.available_after)} available, {_percent(figures.utilisation_after)} "
            "of the line in use"
        )
        + _debt_to_income(figures.debt_to_income_after, lang),
        (
            f"这笔借款将作为一笔新贷款（金额{money(figures.amount)}，期限{figures.term_months}个月）报送征信机构。"
            if zh
            else f"We will report it to the credit bureau as a new loan of {money(figures.amount)} over "
            f"{figures.term_months} months."
        ),
    ]
    review = _next_review(after, currency, lang)
    worse = action_rank(after) < action_rank(now)
    if after["action"] == "increase" and not worse:
        lines.append(f"如果现在借款，{review}。" if zh else f"If you borrow this now, {review}.")
        return "\n".join(lines)
    reasons = render_reasons(after, features_after, policy, lang)
    if worse:
        lines.append(f"如果现在借款，{review}，因为：" if zh else f"If you borrow this now, {review}, because:")
        lines += [f"{i}. {text}" for i, text in enumerate(reasons, start=1)]
        return "\n".join(lines)
    # The same outcome either way: the reasons it has already, then those borrowing would add.
    before = set(now["reasons"])
    kept = [text for code, text in zip(after["reasons"], reasons, strict=True) if code in before]
    added = [text for code, text in zip(after["reasons"], reasons, strict=True) if code not in before]
    same = "借与不借，" if zh else "Whether you borrow or not, "
    lines.append(f"{same}{review}，因为：" if zh else f"{same}{review}, because:")
    lines += [f"{i}. {text}" for i, text in enumerate(kept, start=1)]
    if added:
        lines.append("借款还会多一个原因：" if zh else "Borrowing this would add:")
        lines += [f"{i}. {text}" for i, text in enumerate(added, start=len(kept) + 1)]
    return "\n".join(lines)


def _debt_to_income(share: float | None, lang: Language) -> str:
    if share is None:
        return "。" if lang == "zh" else "."
    if lang == "zh":
        return f"，每月还款占已验证月收入的{_percent(share)}。"
    return f"; your monthly repayments would be {_percent(share)} of your verified monthly income."
