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

__all__ = ["analyst_reasons", "render_notice", "render_reasons", "render_recourse", "repaid_on_time"]

_HEADLINES = {
    "increase": ("您的额度已从{current}提升至{new}。", "Your limit has been raised from {current} to {new}."),
    "hold": ("您的额度保持为{current}。", "Your limit stays at {current}."),
    "decrease": ("您的额度已从{current}调整为{new}。", "Your limit has been lowered from {current} to {new}."),
    "freeze": ("您的额度{current}已暂时冻结，暂不能借款。",
               "Your line of {current} is frozen for now: no new drawings."),
    "freeze_cut": ("您的额度已从{current}调整为{new}，并暂时冻结，暂不能借款。",
                   "Your limit has been lowered from {current} to {new}, and the line is frozen "
                   "for now: no new drawings."),
}
_STEPS = {
    "clear_overdue": ("还清逾期款项", "repay what is overdue"),
    "repay_at_least": ("提前还款至少{amount}", "repay at least {amount} of what you owe"),
    "verify_income_at_least": ("验证月收入不低于{amount}",
                               "verify a monthly income of at least {amount}"),
    "reduce_external_debt_to": ("将在其他机构的负债降至{amount}以下",
                                "bring what you owe other lenders down to {amount} or less"),
    "repay_on_time_months": ("继续按时还款{months}个月", "keep repaying on time for {months} more {unit}"),
}


def render_notice(decision: Mapping[str, Any], features: Mapping[str, float], policy: Policy,
                  lang: Language, *, last_limit_change_on: date | None = None) -> str:
    """The whole notice for one decision (a row of ``decide``'s frame) in ``lang``."""
    currency = policy.currency
    action = str(decision["action"])
    zh = lang == "zh"
    headline = "freeze_cut" if action == "freeze" and int(decision["new_limit"]) < int(
        decision["current_limit"]) else action
    lines = [_HEADLINES[headline][0 if zh else 1].format(
        current=amount(decision["current_limit"], currency, lang),
        new=amount(decision["new_limit"], currency, lang))]
    reasons = render_reasons(decision, features, policy, lang, last_limit_change_on=last_limit_change_on)
    if reasons:
        if action == "increase":
            lines.append("为何没有更高：" if zh else "Why not more:")
        elif _repaid_on_time(features) and action == "hold":
            lines.append("您近6个月每期都按时还款，感谢您的信任。但是：" if zh
                         else "You repaid on time in each of the last 6 months - thank you. But:")
        else:
            lines.append("原因：" if zh else "Why:")
        lines += [f"{i}. {text}" for i, text in enumerate(reasons, start=1)]
    if action != "increase":
        lines.append(render_recourse(decision, currency, lang))
    return "\n".join(lines)


def render_reasons(decision: Mapping[str, Any], features: Mapping[str, float], policy: Policy,
                   lang: Language, *, last_limit_change_on: date | None = None) -> list[str]:
    """Each reason of ``decision`` as a customer sentence in ``lang``, in order."""
    out = []
    for code in decision["reasons"]:
        figures = _figures(code, decision, features, policy, lang, last_limit_change_on)
        sentence = _text_of(code, policy).customer(lang).format(**figures)
        out.append(sentence[0].upper() + sentence[1:] + ("。" if lang == "zh" else "."))
    return out


def analyst_reasons(decision: Mapping[str, Any], features: Mapping[str, float],
                    policy: Policy) -> list[str]:
    """Each reason of ``decision`` as the risk team reads it (figures from the model included)."""
    return [f"{code}: {_text_of(code, policy).analyst.format(**_figures(code, decision, features, policy, 'en', None))}"
            for code in decision["reasons"]]


def _text_of(code: str, policy: Policy) -> ReasonText:
    text = reason_text(code, policy)
    if text is None:
        raise KeyError(f"reason code {code!r} has no text in the catalogue")
    return text


def render_recourse(decision: Mapping[str, Any], currency: str, lang: Language) -> str:
    """What would raise the line (or that nothing within a year would), in ``lang``."""
    zh = lang == "zh"
    encoded = list(decision.get("recourse") or [])
    limit = decision.get("recourse_limit")
    if not encoded and limit is not None and not pd.isna(limit):
        text = amount(int(limit), currency, lang)
        return (f"如何提额：您无需做任何事，下次定期评估即可将额度提升至{text}（其他情况保持不变）。" if zh else
                f"What would raise the line: nothing you need to do; the next periodic review can raise "
                f"your limit to {text} (with everything else as it is now).")
    if not encoded or limit is None or pd.isna(limit):
        return ("如何提额：目前没有一年内可让额度提升的具体步骤，请继续保持良好的还款记录。" if zh else
                "What would raise the line: there is no step within a year we can point to; "
                "keeping a clean repayment record is what counts.")
    # Told in the order a customer would take them: what is done now, then the months.
    steps = sorted((Step.decode(text) for text in encoded), key=lambda s: list(_STEPS).index(s.kind))
    parts = [_STEPS[s.kind][0 if zh else 1].format(
        months=s.value, unit="month" if s.value == 1 else "months",
        amount=amount(s.value or 0, currency, lang)) for s in steps]
    limit_text = amount(int(limit), currency, lang)
    waits = any(step.kind == "repay_on_time_months" for step in steps)
    when = decision.get("recourse_on")
    when_text = day(pd.Timestamp(when).date(), lang) if waits and when is not None and not pd.isna(when) else ""
    if zh:
        review = f"{when_text}起的评估可将额度提升至" if when_text else "额度即可提升至"
        joined = parts[0] if len(parts) == 1 else f"{'，'.join(parts[:-1])}，并{parts[-1]}"
        return f"如何提额：{joined}后，{review}{limit_text}（其他情况保持不变）。"
    joined = parts[0] if len(parts) == 1 else f"{', '.join(parts[:-1])} and {parts[-1]}"
    review = f"the review on {when_text} can raise your limit to" if when_text else "your limit can be raised to"
    return (f"What would raise the line: if you {joined}, {review} {limit_text} "
            "(with everything else as it is now).")


def repaid_on_time(features: pd.DataFrame) -> np.ndarray:
    """Per account, whether a notice thanks the customer for repaying on time.

    That is: every instalment of the last 6 months on time, none missed, never late
    at a month end.
    """

    def column(name: str, missing: float) -> pd.Series:
        return features[name].fillna(missing) if name in features else pd.Series(missing, index=features.index)

    on_time: np.ndarray = (column("on_time_ratio_6m", 0.0).ge(1.0)
                           & column("missed_payment_months_6m", 0.0).eq(0.0)
                           & column("dpd_max_6m", 0.0).eq(0.0)).to_numpy()
    return on_time


def _repaid_on_time(features: Mapping[str, float]) -> bool:
    return bool(repaid_on_time(pd.DataFrame([dict(features)]))[0])


def _check_of(code: str, policy: Policy, segment: str) -> Check | None:
    """The gate ``code`` names, the account's segment's own gates first."""
    own = next((s.gates for s in policy.segments if s.name == segment), ())
    return next((check for check in (*own, *policy.all_gates) if check.code == code), None)


def _figures(code: str, decision: Mapping[str, Any], features: Mapping[str, float], policy: Policy,
             lang: Language, last_change: date | None) -> dict[str, str]:
    """Every figure a reason template can name, for this account, formatted for ``lang``."""
    currency = policy.currency
    current = int(decision["current_limit"])

    def feature_text(name: str, value: float | None) -> str:
        spec = REGISTRY.get(name)
        shown = float("nan") if value is None else float(value)
        return feature_value(shown, spec.unit if spec else "count", currency, lang)

    feature = code_feature(code, policy)
    check = _check_of(code, policy, str(decision.get("segment", "")))
    segment = next((i for i, s in enumerate(policy.segments) if s.name == decision.get("segment")),
                   len(policy.segments) - 1)
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
        "threshold": feature_text(feature, check.value) if feature and check and check.value is not None
        else unknown,
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
