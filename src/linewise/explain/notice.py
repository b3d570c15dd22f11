"""The customer's notice: what was decided, why, and what would raise the line, in zh-CN or en.

A notice is built from one decision row, the features it was made from and the
policy that made it. It shows the customer's own figures and never a PD, a score,
a grade or anything else from inside the model.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta
from typing import Any

import numpy as np
import pandas as pd

from linewise.explain.catalogue import ReasonText, code_feature, reason_text
from linewise.explain.criteria import rule_in_words
from linewise.explain.formatting import Language, amount, day, feature_value
from linewise.explain.recourse import Step
from linewise.features import REGISTRY
from linewise.strategy.compiled import Check, Policy
from linewise.strategy.evaluate import cap_limits

__all__ = [
    "analyst_reasons",
    "months_due",
    "on_time_record",
    "render_notice",
    "render_reasons",
    "render_recourse",
    "repaid_on_time",
]

_HEADLINES = {
    "increase": ("您的额度已从{current}提升至{new}。", "Your limit has been raised from {current} to {new}."),
    "hold": ("您的额度保持为{current}。", "Your limit stays at {current}."),
    "decrease": ("您的额度已从{current}调整为{new}。", "Your limit has been lowered from {current} to {new}."),
    "freeze": (
        "您的额度{current}已暂时冻结，暂不能借款。",
        "Your line of {current} is frozen for now: no new drawings.",
    ),
    "freeze_cut": (
        "您的额度已从{current}调整为{new}，并暂时冻结，暂不能借款。",
        "Your limit has been lowered from {current} to {new}, and the line is frozen for now: no new drawings.",
    ),
}
# A line younger than this many months (six month ends) is told since when it repaid on time.
_YOUNG_MONTHS = 5
_WINDOW_MONTHS = 6
_STEPS = {
    "clear_overdue": ("还清逾期款项", "repay what is overdue"),
    "repay_at_least": ("提前还款至少{amount}", "repay at least {amount} of what you owe"),
    "verify_income_at_least": ("验证月收入不低于{amount}", "verify a monthly income of at least {amount}"),
    "reduce_external_debt_to": (
        "将在其他机构的负债降至{amount}以下",
        "bring what you owe other lenders down to {amount} or less",
    ),
    "no_new_credit_applications": (
        "在此之前不在其他机构申请新的贷款或信用卡",
        "apply for no new credit elsewhere until then",
    ),
    "repay_other_lenders_on_time": ("按时偿还您在其他机构的每一笔欠款", "repay every other lender on time"),
    "repay_on_time_months": ("继续按时还款{months}个月", "keep repaying on time for {months} more {unit}"),
}
# A customer whose income is verified is asked for a higher one, and told why.
_PROVE_HIGHER_INCOME = ("证明更高的月收入（不低于{amount}）", "prove a higher monthly income, of at least {amount}")
_HIGHER_INCOME_WHY = (
    "我们已验证的您的月收入为{income}，低于{limit}额度所需的{amount}。",
    "The income we have verified, {income}, is below the {amount} a limit of {limit} needs.",
)


# What a promise assumes of the customer: recourse is lived with the line used as now
# and each bill paid on time, in full and, where the strategy counts it, only the minimum.
_PROMISE = {
    "minimum": (
        "（前提是您按目前的方式使用额度，并每期按时还款，至少还最低还款额）",
        "(if you keep using the line as now and pay each bill on time, at least the minimum)",
    ),
    "in_full": (
        "（前提是您按目前的方式使用额度，并每期按时全额还款）",
        "(if you keep using the line as now and pay each bill in full and on time)",
    ),
}


def render_notice(
    decision: Mapping[str, Any],
    features: Mapping[str, float],
    policy: Policy,
    lang: Language,
    *,
    last_limit_change_on: date | None = None,
) -> str:
    """The whole notice for one decision (a row of ``decide``'s frame) in ``lang``."""
    currency = policy.currency
    action = str(decision["action"])
    zh = lang == "zh"
    headline = (
        "freeze_cut" if action == "freeze" and int(decision["new_limit"]) < int(decision["current_limit"]) else action
    )
    lines = [
        _HEADLINES[headline][0 if zh else 1].format(
            current=amount(decision["current_limit"], currency, lang), new=amount(decision["new_limit"], currency, lang)
        )
    ]
    reasons = render_reasons(decision, features, policy, lang, last_limit_change_on=last_limit_change_on)
    if reasons:
        record = on_time_record(features, lang) if action == "hold" else None
        if action == "increase":
            lines.append("为何没有更高：" if zh else "Why not more:")
        elif record is not None:
            lines.append(f"{record}，感谢您的信任。但是：" if zh else f"{record} - thank you. But:")
        else:
            lines.append("原因：" if zh else "Why:")
        lines += [f"{i}. {text}" for i, text in enumerate(reasons, start=1)]
    if action != "increase":
        lines.append(render_recourse(decision, features, policy, lang))
    return "\n".join(lines)


def render_reasons(
    decision: Mapping[str, Any],
    features: Mapping[str, float],
    policy: Policy,
    lang: Language,
    *,
    last_limit_change_on: date | None = None,
) -> list[str]:
    """Each reason of ``decision`` as a customer sentence in ``lang``, in order."""
    out = []
    for code in decision["reasons"]:
        figures = _figures(code, decision, features, policy, lang, last_limit_change_on)
        sentence = _text_of(code, features, policy).customer(lang).format(**figures)
        out.append(sentence[0].upper() + sentence[1:] + ("。" if lang == "zh" else "."))
    return out


def analyst_reasons(
    decision: Mapping[str, Any],
    features: Mapping[str, float],
    policy: Policy,
    *,
    last_limit_change_on: date | None = None,
) -> list[str]:
    """Each reason of ``decision`` as the risk team reads it (figures from the model included)."""
    return [
        f"{code}: "
        + _text_of(code, features, policy).analyst.format(
            **_figures(code, decision, features, policy, "en", last_limit_change_on)
        )
        for code in decision["reasons"]
    ]


def _text_of(code: str, features: Mapping[str, float], policy: Policy) -> ReasonText:
    feature = code_feature(code, policy)
    text = reason_text(code, policy, None if feature is None else features.get(feature))
    if text is None:
        raise KeyError(f"reason code {code!r} has no text in the catalogue")
    return text


def render_recourse(decision: Mapping[str, Any], features: Mapping[str, float], policy: Policy, lang: Language) -> str:
    """What would raise the line, and what that assumes; or why nothing within a year would.

    ``features`` are the ones ``decision`` was made from: they tell a verified income
    from none, and an unused line from a used one.
    """
    zh = lang == "zh"
    head = "如何提额：" if zh else "What would raise the line: "
    encoded = list(decision.get("recourse") or [])
    limit = _known(decision.get("recourse_limit"))
    if limit is None:
        return head + _no_way_up(decision, features, policy, lang)
    limit_text = amount(int(limit), policy.currency, lang)
    on = _known(decision.get("recourse_on"))
    review = None if on is None else pd.Timestamp(on).date()
    if not encoded:
        as_of = _known(decision.get("as_of"))
        if review is None or as_of is None or review <= pd.Timestamp(as_of).date():
            return head + (
                f"您无需做任何事，下次定期评估即可将额度提升至{limit_text}（其他情况保持不变）。"
                if zh
                else f"nothing you need to do; the next periodic review can raise your limit "
                f"to {limit_text} (with everything else as it is now)."
            )
        when = day(review, lang)
        return head + (
            f"您无需做任何事，{when}的评估即可将额度提升至{limit_text}（前提是账户保持良好状态）。"
            if zh
            else f"nothing you need to do: the review on {when} can raise your limit to "
            f"{limit_text} (if the line stays in good standing)."
        )
    # Told in the order a customer would take them: what is done now, then the months.
    steps = sorted((Step.decode(text) for text in encoded), key=lambda s: list(_STEPS).index(s.kind))
    income = features.get("income_verified_monthly")
    verified = income is not None and not np.isnan(income)
    parts = [_step_text(step, policy.currency, lang, income_verified=verified) for step in steps]
    promise = _PROMISE["in_full" if policy.minimum_payment_bp is None else "minimum"][0 if zh else 1]
    why = ""
    needed = next((s.value for s in steps if s.kind == "verify_income_at_least"), None)
    if verified and needed is not None:
        assert income is not None
        why = _HIGHER_INCOME_WHY[0 if zh else 1].format(
            income=amount(round(income), policy.currency, lang),
            amount=amount(needed, policy.currency, lang),
            limit=limit_text,
        )
    if zh:
        joined = parts[0] if len(parts) == 1 else f"{'，'.join(parts[:-1])}，并{parts[-1]}"
        then = f"{day(review, lang)}的评估可将额度提升至" if review else "额度即可提升至"
        return f"{head}{joined}后，{then}{limit_text}{promise}。{why}"
    joined = parts[0] if len(parts) == 1 else f"{', '.join(parts[:-1])} and {parts[-1]}"
    then = f"the review on {day(review, lang)} can raise your limit to" if review else "your limit can be raised to"
    return f"{head}if you {joined}, {then} {limit_text} {promise}.{' ' + why if why else ''}"


def _step_text(step: Step, currency: str, lang: Language, *, income_verified: bool) -> str:
    """One step in words; a customer whose income is verified is asked to prove a higher one."""
    texts = _PROVE_HIGHER_INCOME if step.kind == "verify_income_at_least" and income_verified else _STEPS[step.kind]
    return texts[0 if lang == "zh" else 1].format(
        months=step.value, unit="month" if step.value == 1 else "months", amount=amount(step.value or 0, currency, lang)
    )


def _no_way_up(decision: Mapping[str, Any], features: Mapping[str, float], policy: Policy, lang: Language) -> str:
    """Why there is no recourse, as truly as the account lets us say."""
    zh = lang == "zh"
    if int(decision["new_limit"]) >= int(policy.ladder[-1]):
        return (
            "您的额度已是本产品提供的最高额度，无法再提升。"
            if zh
            else "nothing; your limit is already the highest this product offers."
        )
    if _months_due(features) == 0:
        return (
            "额度是根据已用部分的还款情况来评估的。近6个月您的额度没有产生应还款项，无从评估，"
            "因此未使用的额度不会提升。"
            if zh
            else "a line is judged by how what is drawn on it is repaid; nothing has fallen due "
            "on yours in the last 6 months, so there is nothing to judge it by, and an unused "
            "line is not raised."
        )
    if (_known(features.get("dpd_current")) or 0) > 0:
        return (
            "请先还清逾期款项；即使还清，一年内也没有可让额度提升的具体步骤，之后保持良好的还款记录最为重要。"
            if zh
            else "first repay what is overdue; even then there is no step within a year we can point to, "
            "and a clean repayment record from then on is what counts."
        )
    return (
        "目前没有一年内可让额度提升的具体步骤，请继续保持良好的还款记录。"
        if zh
        else "there is no step within a year we can point to; keeping a clean repayment record is what counts."
    )


def _known(value: Any) -> Any:
    """``value``, or None when it is missing (None, NaN, NA, NaT)."""
    return None if value is None or pd.isna(value) else value


def on_time_record(features: Mapping[str, float], lang: Language) -> str | None:
    """What is true of the customer's repaying on time, to thank them for; None when nothing is.

    "Each of the last 6 months" only when six months had something due, all paid on
    time; a line younger than six month ends is told since when; an older one with
    months where nothing was due, in how many of the six something was.
    """
    if not _repaid_on_time(features):
        return None
    zh = lang == "zh"
    due = _months_due(features)
    opened = features.get("months_on_book", float("nan"))
    if not np.isnan(opened) and opened < _YOUNG_MONTHS:
        if int(opened) == 0:
            return (
                "您自本月开立额度以来一直按时还款"
                if zh
                else "You have repaid on time since you opened the line this month"
            )
        months = int(opened)
        return (
            f"您自{months}个月前开立额度以来一直按时还款"
            if zh
            else f"You have repaid on time since you opened the line {months} month{'' if months == 1 else 's'} ago"
        )
    if due is None:
        return (
            "近6个月的每期应还款项您都按时还款"
            if zh
            else "You repaid on time everything that fell due in the last 6 months"
        )
    if due >= _WINDOW_MONTHS:
        return "您近6个月每期都按时还款" if zh else "You repaid on time in each of the last 6 months"
    if due == 1:
        return (
            "近6个月中只有1个月有应还款项，您按时还款了"
            if zh
            else "You repaid on time in the one month of the last 6 in which something was due"
        )
    return (
        f"近6个月中有{due}个月有应还款项，您每期都按时还款"
        if zh
        else f"You repaid on time in each of the {due} months of the last 6 in which something was due"
    )


def months_due(features: pd.DataFrame) -> np.ndarray:
    """Per account, in how many of the last 6 month ends something was due (NaN when not known).

    The month ends of the line in the window (fewer for a line younger than six) less
    those with nothing due.
    """

    def column(name: str) -> np.ndarray:
        return features[name].to_numpy(dtype="float64") if name in features else np.full(len(features), np.nan)

    opened = column("months_on_book")
    present = np.where(np.isnan(opened), _WINDOW_MONTHS, np.minimum(opened + 1, _WINDOW_MONTHS))
    due: np.ndarray = np.maximum(present - column("inactive_months_6m"), 0)
    nothing_due = np.isnan(column("on_time_ratio_6m")) & np.isnan(due) & ("on_time_ratio_6m" in features)
    due[nothing_due] = 0
    return due


def repaid_on_time(features: pd.DataFrame) -> np.ndarray:
    """Per account, whether a notice thanks the customer for repaying on time.

    That is: something fell due in the last 6 months and every instalment of them was
    on time, none missed, never late at a month end (:func:`on_time_record` says what
    is true of it).
    """

    def column(name: str, missing: float) -> pd.Series:
        return features[name].fillna(missing) if name in features else pd.Series(missing, index=features.index)

    on_time: np.ndarray = (
        column("on_time_ratio_6m", 0.0).ge(1.0)
        & column("missed_payment_months_6m", 0.0).eq(0.0)
        & column("dpd_max_6m", 0.0).eq(0.0)
    ).to_numpy() & (months_due(features) != 0)
    return on_time


def _one(features: Mapping[str, float]) -> pd.DataFrame:
    return pd.DataFrame([dict(features)], dtype="float64")


def _repaid_on_time(features: Mapping[str, float]) -> bool:
    return bool(repaid_on_time(_one(features))[0])


def _months_due(features: Mapping[str, float]) -> int | None:
    due = float(months_due(_one(features))[0])
    return None if np.isnan(due) else int(due)


def _check_of(code: str, policy: Policy, segment: str) -> Check | None:
    """The gate ``code`` names, the account's segment's own gates first."""
    own = next((s.gates for s in policy.segments if s.name == segment), ())
    return next((check for check in (*own, *policy.all_gates) if check.code == code), None)


def _figures(
    code: str,
    decision: Mapping[str, Any],
    features: Mapping[str, float],
    policy: Policy,
    lang: Language,
    last_change: date | None,
) -> dict[str, str]:
    """Every figure a reason template can name, for this account, formatted for ``lang``."""
    currency = policy.currency
    current = int(decision["current_limit"])

    def feature_text(name: str, value: float | None) -> str:
        spec = REGISTRY.get(name)
        shown = float("nan") if value is None else float(value)
        # A feature that can go below zero is a change, told with its sign.
        return feature_value(
            shown, spec.unit if spec else "count", currency, lang, signed=spec is not None and spec.lowest < 0
        )

    feature = code_feature(code, policy)
    check = _check_of(code, policy, str(decision.get("segment", "")))
    segment = next(
        (i for i, s in enumerate(policy.segments) if s.name == decision.get("segment")), len(policy.segments) - 1
    )
    # The caps as the engine computed them; one that does not apply is shown as the ceiling.
    caps = cap_limits(policy, pd.DataFrame([{**features, "credit_limit": current}]), np.asarray([segment]))
    cap = min(int(caps[code][0]), policy.ceiling) if code in caps else policy.ceiling
    income = features.get("income_verified_monthly", float("nan"))
    cooldown_end = None if last_change is None else last_change + timedelta(days=policy.cooldown_days)
    unknown = "未知" if lang == "zh" else "unknown"
    spec = REGISTRY.get(feature) if feature else None
    return {
        "feature": (spec.description_zh if lang == "zh" else spec.description_en) if spec else code,
        "value": feature_text(feature, features.get(feature)) if feature else unknown,
        "magnitude": feature_text(feature, abs(features[feature]))
        if feature is not None and feature in features
        else unknown,
        "threshold": feature_text(feature, check.value) if feature and check and check.value is not None else unknown,
        "limit": amount(current, currency, lang),
        "cap": amount(cap, currency, lang),
        "step_pct": f"{policy.step_pct_max:.0f}%",
        "step_amount": amount(policy.step_amount_max, currency, lang),
        "income": feature_text("income_verified_monthly", income),
        "dpd_current": feature_text("dpd_current", features.get("dpd_current")),
        "months_on_book": feature_text("months_on_book", features.get("months_on_book")),
        "segment": str(decision.get("segment", "")),
        "risk_grade": str(decision.get("risk_grade", "")),
        "pd": f"{float(decision.get('pd', float('nan'))):.3f}",
        "cooldown_days": str(policy.cooldown_days),
        "last_change": day(last_change, lang) if last_change else unknown,
        "cooldown_end": day(cooldown_end, lang) if cooldown_end else unknown,
        "max_requests": str(policy.max_requests),
        "window_days": str(policy.request_window_days),
        "code": code,
        "conditions": _conditions_text(code, policy, lang),
    }


def _conditions_text(code: str, policy: Policy, lang: Language) -> str:
    """A rule's conditions in words, for a rule code the catalogue does not write out."""
    rule = next((r for r in (*policy.freeze, *policy.decrease) if r.code == code), None)
    return code if rule is None else rule_in_words(rule, policy.currency, lang)
