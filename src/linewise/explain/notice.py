"""The customer's notice: what was decided, why, and what would raise the line, in zh-CN or en.

A notice is built from one decision row, the features it was made from and the
policy that made it. It shows the customer's own figures and never a PD, a score,
a grade or anything else from inside the model.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import date, timedelta
from typing import Any

import pandas as pd

from linewise.explain.catalogue import code_feature, reason_text
from linewise.explain.formatting import Language, amount, day, feature_value
from linewise.explain.recourse import Step
from linewise.features import REGISTRY
from linewise.strategy.compiled import Check, Policy

__all__ = ["analyst_reasons", "render_notice", "render_reasons", "render_recourse"]

_HEADLINES = {
    "increase": ("您的额度已从{current}提升至{new}。", "Your limit has been raised from {current} to {new}."),
    "hold": ("您的额度保持为{current}。", "Your limit stays at {current}."),
    "decrease": ("您的额度已从{current}调整为{new}。", "Your limit has been lowered from {current} to {new}."),
    "freeze": ("您的额度{current}已暂时冻结，暂不能借款。",
               "Your line of {current} is frozen for now: no new drawings."),
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
    lines = [_HEADLINES[action][0 if zh else 1].format(
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
        text = reason_text(code, policy)
        if text is None:
            raise KeyError(f"reason code {code!r} has no text in the catalogue")
        figures = _figures(code, decision, features, policy, lang, last_limit_change_on)
        sentence = text.customer(lang).format(**figures)
        out.append(sentence[0].upper() + sentence[1:] + ("。" if lang == "zh" else "."))
    return out


def analyst_reasons(decision: Mapping[str, Any], features: Mapping[str, float],
                    policy: Policy) -> list[str]:
    """Each reason of ``decision`` as the risk team reads it (figures from the model included)."""
    out = []
    for code in decision["reasons"]:
        text = reason_text(code, policy)
        if text is None:
            raise KeyError(f"reason code {code!r} has no text in the catalogue")
        figures = _figures(code, decision, features, policy, "en", None)
        out.append(f"{code}: {text.analyst.format(**figures)}")
    return out


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


def _repaid_on_time(features: Mapping[str, float]) -> bool:
    """Every instalment of the last 6 months on time, none missed, never late at a month end."""
    ratio = features.get("on_time_ratio_6m")
    if ratio is None or math.isnan(ratio) or ratio < 1.0:
        return False
    return all(features.get(name, 0.0) == 0.0 for name in ("missed_payment_months_6m", "dpd_max_6m"))


def _check_of(code: str, policy: Policy, segment: str) -> Check | None:
    """The gate ``code`` names, the account's segment's own gates first."""
    for seg in policy.segments:
        if seg.name == segment:
            for check in seg.gates:
                if check.code == code:
                    return check
    for check in (*policy.gates, *policy.request_gates,
                  *(g for s in policy.segments for g in s.gates)):
        if check.code == code:
            return check
    return None


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
    segment = next((s for s in policy.segments if s.name == decision.get("segment")), None)
    income = features.get("income_verified_monthly", float("nan"))
    external = features.get("external_debt", float("nan"))
    room = (0.0 if math.isnan(income) else income * policy.debt_service_ratio_max) \
        - (0.0 if math.isnan(external) else external * policy.external_payment_rate)
    caps = {
        "cap_step_pct": int(current * (1 + policy.step_pct_max / 100)),
        "cap_step_amount": current + policy.step_amount_max,
        "cap_segment_ceiling": segment.ceiling if segment and segment.ceiling else policy.ceiling,
        "cap_ceiling": policy.ceiling,
        "cap_unverified_income": policy.unverified_income_ceiling,
        "cap_affordability": int(max(room, 0.0) / policy.line_payment_rate),
    }
    cooldown_end = None if last_change is None else last_change + timedelta(days=policy.cooldown_days)
    unknown = "未知" if lang == "zh" else "unknown"
    spec = REGISTRY.get(feature) if feature else None
    return {
        "feature": (spec.description_zh if lang == "zh" else spec.description_en) if spec else code,
        "value": feature_text(feature, features.get(feature)) if feature else unknown,
        "threshold": feature_text(feature, check.value) if feature and check and check.value is not None
        else unknown,
        "limit": amount(current, currency, lang),
        "cap": amount(caps.get(code, policy.ceiling), currency, lang),
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
    if rule is None:
        return code
    words = {"<": ("低于", "below"), "<=": ("不超过", "at most"), ">": ("高于", "above"),
             ">=": ("不低于", "at least"), "==": ("等于", "equal to"), "!=": ("不等于", "not"),
             "present": ("已知", "known"), "missing": ("未知", "unknown")}
    parts = []
    for check in rule.when:
        if check.feature in ("pd", "score"):  # the model's outputs are never shown to customers
            parts.append("综合信用评估未达要求" if lang == "zh" else "your credit assessment fell short")
            continue
        spec = REGISTRY.get(check.feature)
        name = (spec.description_zh if lang == "zh" else spec.description_en) if spec else check.feature
        verb = words[check.op.value][0 if lang == "zh" else 1]
        value = "" if check.value is None else feature_value(
            check.value, spec.unit if spec else "count", policy.currency, lang)
        parts.append(f"{name}{verb}{value}" if lang == "zh" else f"{name} {verb} {value}".strip())
    return ("，且" if lang == "zh" else ", and ").join(parts)
