"""Published criteria: a strategy's rules told to customers in plain words, in zh-CN or en.

The text is rendered from the compiled policy alone, so that what is published
cannot drift from what decides. Like a notice, it never shows a PD, a score, a
grade or a band: the model's part is told as our overall assessment of the
customer's credit record.

Segments are taken first match wins, so what a segment's sentence says of "lines
with X" also names the earlier segments it excludes; segments whose lines are never
raised are not excluded, as nothing said about raises can change for them.
"""

from __future__ import annotations

import dataclasses

from linewise.data.schemas import PROTECTED_ATTRIBUTES
from linewise.explain.formatting import Language, amount, feature_value
from linewise.features import REGISTRY, FeatureSpec, Source
from linewise.strategy.compiled import Check, Policy, RulePolicy, Strategy
from linewise.strategy.spec import DECISION_SUBJECTS, Operator

__all__ = ["published_criteria", "render_criteria", "rule_in_words"]

# (zh, en) for every fixed sentence; the figures come from the policy.
_TEXTS = {
    "title": ("额度管理标准（规则版本：{ref}）", "Credit line criteria (rules {ref})"),
    "looked_at": ("一、提额前我们考察什么", "1. What we look at before raising a line"),
    "all_hold": ("只有同时满足以下全部条件，我们才会提升额度：", "We raise a line only when all of these hold:"),
    "assessment_needed": (
        "综合您的还款、额度使用等各方面情况，我们对您信用记录的整体评估须达到要求",
        "our overall assessment of your credit record (repayments, use of the line, and the rest) must be good enough",
    ),
    "segment_gates": ("{who}还须满足：", "Lines {who} must also meet:"),
    "on_time_alone": (
        "按时还款很重要，但仅凭按时还款不会提升额度：以上条件须全部满足。",
        "Repaying on time matters, but on its own it never raises a line: every condition above must hold.",
    ),
    "minimum_counts": (
        "每期按时还款至少{pct}的账单金额（最低还款额），即视为按时还款。",
        "Paying at least {pct} of each bill (the minimum payment) by its due date counts as repaying on time.",
    ),
    "whole_due_counts": (
        "每期按时还清应还金额，才视为按时还款。",
        "Only paying the whole amount due by its due date counts as repaying on time.",
    ),
    "if_missing_passes": (
        "（如暂无此项数据，不会因此对您不利）",
        " (if we have no such data, that does not count against you)",
    ),
    "tiers": ("二、额度档位", "2. The tiers"),
    "ladder": (
        "额度分为以下档位，提额后的额度总是其中一档：{tiers}。",
        "Limits come in these tiers, and a raise always lands on one of them: {tiers}.",
    ),
    "steps": (
        "每次评估最多提升{tiers}档，单次提额不超过当前额度的{pct}，且不超过{step}。",
        "A review raises a line by at most {tiers}, and each raise is at most {pct} of the "
        "current limit and at most {step}.",
    ),
    "ceiling": ("额度最高提升至{ceiling}。", "No line is raised above {ceiling}."),
    "segment_ceiling": ("{who}，额度最高提升至{ceiling}。", "Lines {who} are raised to at most {ceiling}."),
    "segment_never": ("{who}不予提额。", "Lines {who} are not raised."),
    "income": ("三、收入", "3. Income"),
    "unverified": (
        "收入未经验证的，额度最高提升至{ceiling}。",
        "Without verified income, a line is raised to at most {ceiling}.",
    ),
    "affordable": (
        "收入已验证的，本额度的月还款（按全部额度的{line}计）{external}，不得超过已验证月收入的{ratio}。",
        "With verified income, the monthly repayment of the line (counted as {line} "
        "of the whole limit){external} must stay within {ratio} of your verified "
        "monthly income.",
    ),
    "external": (
        "与其他负债的月还款（按您在其他机构负债的{rate}计）之和",
        " plus the monthly repayments of your other debts (counted as {rate} of what you owe other lenders)",
    ),
    "cooldown": ("四、调整间隔", "4. Time between changes"),
    "cooldown_days": (
        "额度上次调整（提高或降低）后满{days}天，才会再次提额。",
        "A line is raised only when at least {days} days have passed since its limit last changed, up or down.",
    ),
    "no_cooldown": (
        "额度调整后无须等待即可再次提额。",
        "A line can be raised again at any time after its limit changed.",
    ),
    "rules": ("五、额度冻结或降低", "5. When a line is frozen or lowered"),
    "freeze": ("{when}时，额度冻结，暂停借款。", "A line is frozen, with no new drawings, when: {when}."),
    "decrease": ("{when}时，额度降低{tiers}档。", "A line is lowered by {tiers} when: {when}."),
    "no_rules": ("没有冻结或降低额度的规则。", "No rule freezes or lowers a line."),
    "requests": ("六、申请提额", "6. Asking for a higher limit"),
    "request_limit": (
        "{days}天内最多可申请提额{count}次。",
        "You can ask for a higher limit at most {times} in {days} days.",
    ),
    "request_review": ("申请按上述同样的规则审核。", "We judge a request like a review, by everything above."),
    "request_gates": (
        "申请按上述同样的规则审核，并须满足：",
        "We judge a request like a review, by everything above, and it also needs:",
    ),
    "never": ("七、我们从不考虑的因素", "7. What never counts"),
    "protected": (
        "您的{attributes}从不影响我们对您额度的任何决定。",
        "Your {attributes} never count in any decision about your line.",
    ),
    "consent": (
        "未经您同意的数据来源（{sources}），我们从不使用其数据。",
        "We never use data from a source you have not agreed to share ({sources}).",
    ),
}

_OPERATORS = {
    Operator.LT: ("低于", "below"),
    Operator.LE: ("不超过", "at most"),
    Operator.GT: ("高于", "above"),
    Operator.GE: ("不低于", "at least"),
    Operator.EQ: ("等于", "equal to"),
    Operator.NE: ("不等于", "other than"),
}
_NEGATED = {
    Operator.LT: Operator.GE,
    Operator.LE: Operator.GT,
    Operator.GT: Operator.LE,
    Operator.GE: Operator.LT,
    Operator.EQ: Operator.NE,
    Operator.NE: Operator.EQ,
    Operator.PRESENT: Operator.MISSING,
    Operator.MISSING: Operator.PRESENT,
}
# The model's outputs, told without a figure: which comparisons mean a worse record.
_WORSE = {"pd": (Operator.GT, Operator.GE), "score": (Operator.LT, Operator.LE)}
_BETTER = {"pd": (Operator.LT, Operator.LE), "score": (Operator.GT, Operator.GE)}
_ASSESSMENT = {
    "worse": ("我们对您信用记录的综合评估明显变差", "our assessment of your credit record has got markedly worse"),
    "better": ("我们对您信用记录的综合评估达到要求", "our overall assessment of your credit record is good enough"),
    "missing": ("我们尚无对您信用记录的综合评估", "we have no overall assessment of your credit record yet"),
    "other": ("我们对您信用记录的综合评估认为有必要", "our overall assessment of your credit record calls for it"),
}
# Every protected attribute the data may carry, in the order they are told.
_PROTECTED = {
    "age": ("年龄", "age"),
    "sex": ("性别", "sex"),
    "marital_status": ("婚姻状况", "marital status"),
    "education": ("学历", "education"),
}
_SOURCES = {
    Source.INCOME: ("收入", "income"),
    Source.BUREAU: ("征信", "the credit bureau"),
    Source.ASSETS: ("资产", "assets"),
}


def published_criteria(strategy: Strategy, lang: Language) -> tuple[str, str]:
    """The arm whose criteria are published and its text: the arm with the largest share (the first of equal shares).

    Customers are told one set of rules; a challenger arm is a test of a few of them.
    """
    arm = max(strategy.loaded.spec.arms, key=lambda a: a.share)
    return arm.name, render_criteria(strategy.policies[arm.name], lang)


def render_criteria(policy: Policy, lang: Language, *, description: str | None = None) -> str:
    """The published criteria of ``policy`` in ``lang``: seven sections of plain words.

    What is looked at before a raise, the tiers and caps, income, the time between
    changes, freezes and cuts, requests for more, and what never counts. Every figure
    comes from ``policy``; ``description`` (the caller's, in ``lang``) goes under the title.
    """
    lines = [_text("title", lang, ref=policy.strategy)]
    if description:
        lines.append(description)
    sections = (
        ("looked_at", _looked_at),
        ("tiers", _tiers),
        ("income", _income),
        ("cooldown", _cooldown),
        ("rules", _rules),
        ("requests", _requests),
        ("never", _never_counts),
    )
    for heading, body in sections:
        lines += ["", _text(heading, lang), *body(policy, lang)]
    return "\n".join(lines)


# --- sections ---------------------------------------------------------------------------


def _looked_at(policy: Policy, lang: Language) -> list[str]:
    lines = [_text("all_hold", lang)]
    lines += [_bullet(_gate(check, policy.currency, lang)) for check in policy.gates]
    if set(policy.grade_names) - policy.increase_grades:
        lines.append(_bullet(_text("assessment_needed", lang)))
    for index, segment in enumerate(policy.segments):
        who = _segment_who(policy, index, lang)
        if segment.gates and segment.may_increase and who is not None:
            lines.append(_text("segment_gates", lang, who=who))
            lines += [_bullet(_gate(check, policy.currency, lang)) for check in segment.gates]
    lines.append(_text("on_time_alone", lang))
    if policy.minimum_payment_bp is None:
        lines.append(_text("whole_due_counts", lang))
    else:
        lines.append(_text("minimum_counts", lang, pct=f"{policy.minimum_payment_bp / 100:g}%"))
    return lines


def _tiers(policy: Policy, lang: Language) -> list[str]:
    currency = policy.currency
    tiers = ("、" if lang == "zh" else ", ").join(amount(int(value), currency, lang) for value in policy.ladder)
    lines = [
        _text("ladder", lang, tiers=tiers),
        _text(
            "steps",
            lang,
            tiers=_tier_count(policy.max_tiers_per_review, lang),
            pct=_percent(policy.step_pct_max / 100),
            step=amount(policy.step_amount_max, currency, lang),
        ),
        _text("ceiling", lang, ceiling=amount(policy.ceiling, currency, lang)),
    ]
    for index, segment in enumerate(policy.segments):
        who = _segment_who(policy, index, lang)
        if who is None:
            continue
        if not segment.may_increase:
            lines.append(_text("segment_never", lang, who=who))
        elif segment.ceiling is not None and segment.ceiling < policy.ceiling:
            lines.append(_text("segment_ceiling", lang, who=who, ceiling=amount(segment.ceiling, currency, lang)))
    return lines


def _income(policy: Policy, lang: Language) -> list[str]:
    external = (
        ""
        if policy.external_payment_rate == 0
        else _text("external", lang, rate=_percent(policy.external_payment_rate))
    )
    return [
        _text("unverified", lang, ceiling=amount(policy.unverified_income_ceiling, policy.currency, lang)),
        _text(
            "affordable",
            lang,
            line=_percent(policy.line_payment_rate),
            external=external,
            ratio=_percent(policy.debt_service_ratio_max),
        ),
    ]


def _cooldown(policy: Policy, lang: Language) -> list[str]:
    if policy.cooldown_days == 0:
        return [_text("no_cooldown", lang)]
    return [_text("cooldown_days", lang, days=policy.cooldown_days)]


def _rules(policy: Policy, lang: Language) -> list[str]:
    """Freezes first: a frozen line is never also cut (see the evaluation)."""
    lines = [_bullet(_text("freeze", lang, when=rule_in_words(rule, policy.currency, lang))) for rule in policy.freeze]
    lines += [
        _bullet(
            _text(
                "decrease",
                lang,
                when=rule_in_words(rule, policy.currency, lang),
                tiers=_tier_count(rule.tiers_down, lang),
            )
        )
        for rule in policy.decrease
    ]
    return lines or [_text("no_rules", lang)]


def _requests(policy: Policy, lang: Language) -> list[str]:
    count = policy.max_requests
    lines = [
        _text(
            "request_limit",
            lang,
            days=policy.request_window_days,
            count=count,
            times=f"{count} time{'' if count == 1 else 's'}",
        )
    ]
    if not policy.request_gates:
        return [*lines, _text("request_review", lang)]
    lines.append(_text("request_gates", lang))
    return lines + [_bullet(_gate(check, policy.currency, lang)) for check in policy.request_gates]


def _never_counts(policy: Policy, lang: Language) -> list[str]:  # noqa: ARG001 - same shape as the others
    index = 0 if lang == "zh" else 1
    # Claimed only for what no feature is: the registry is all a decision can see.
    ordered = sorted(PROTECTED_ATTRIBUTES, key=list(_PROTECTED).index)
    unused = [_PROTECTED[name][index] for name in ordered if name not in REGISTRY]
    lines = []
    if unused:
        attributes = _listed(unused, "和" if lang == "zh" else "and", lang)
        lines.append(_text("protected", lang, attributes=attributes))
    sources = [_SOURCES[source][index] for source in Source if source is not Source.LEDGER]
    lines.append(_text("consent", lang, sources=("、" if lang == "zh" else ", ").join(sources)))
    return lines


# --- conditions in words ------------------------------------------------------------------


def _gate(check: Check, currency: str, lang: Language) -> str:
    text = _condition(check, currency, lang)
    if check.passes_if_missing and check.op.takes_value and check.feature in REGISTRY:
        text += _text("if_missing_passes", lang)
    return text


def rule_in_words(rule: RulePolicy, currency: str, lang: Language) -> str:
    """A freeze or decrease rule's conditions in words; one on PD or score without its figure."""
    return _and([_condition(check, currency, lang) for check in rule.when], lang)


def _condition(check: Check, currency: str, lang: Language) -> str:
    """``近6个月最长逾期天数不超过0天`` / ``longest days past due in the last 6 months at most 0 days``."""
    zh = lang == "zh"
    if check.feature in DECISION_SUBJECTS:
        return _assessment(check, lang)
    spec = REGISTRY[check.feature]
    name = spec.description_zh if zh else spec.description_en
    if check.op is Operator.PRESENT:
        return f"有{name}" if zh else f"{name} on record"
    if check.op is Operator.MISSING:
        return f"无{name}" if zh else f"no {name}"
    assert check.value is not None, "a comparison has a value (the spec checks it)"
    word = _OPERATORS[_plain(check.op, check.value, spec)][0 if zh else 1]
    value = _figure(check.value, spec.unit, currency, lang)
    return f"{name}{word}{value}" if zh else f"{name} {word} {value}"


def _assessment(check: Check, lang: Language) -> str:
    """A condition on the model's PD or score, told without its figure."""
    if check.op in _WORSE[check.feature]:
        kind = "worse"
    elif check.op in _BETTER[check.feature]:
        kind = "better"
    else:
        kind = "missing" if check.op is Operator.MISSING else "other"
    return _ASSESSMENT[kind][0 if lang == "zh" else 1]


def _plain(op: Operator, value: float, spec: FeatureSpec) -> Operator:
    """``== 0`` on a feature that is never below 0 reads as "at most 0", and so on."""
    if value == spec.lowest:
        return {Operator.EQ: Operator.LE, Operator.NE: Operator.GT}.get(op, op)
    if value == spec.highest:
        return {Operator.EQ: Operator.GE, Operator.NE: Operator.LT}.get(op, op)
    return op


def _segment_who(policy: Policy, index: int, lang: Language) -> str | None:
    """Which lines a segment takes, as far as raises go; None when it can take none."""
    currency = policy.currency
    parts = [_condition(check, currency, lang) for check in policy.segments[index].when]
    for earlier in policy.segments[:index]:
        if not earlier.may_increase:
            continue  # its lines are never raised: no claim about raises changes for them
        if not earlier.when:
            return None
        negated = [
            _condition(dataclasses.replace(check, op=_NEGATED[check.op]), currency, lang) for check in earlier.when
        ]
        if len(negated) == 1:
            parts.append(negated[0])
        else:
            either = _listed(negated, "或" if lang == "zh" else "or", lang)
            parts.append(f"（{either}）" if lang == "zh" else f"either {either}")
    if lang == "zh":
        return f"{_and(parts, lang)}的账户" if parts else "所有账户"
    return f"with {_and(parts, lang)}" if parts else "of any kind"


# --- figures and joins ----------------------------------------------------------------------


def _figure(value: float, unit: str, currency: str, lang: Language) -> str:
    """A threshold in its feature's unit; shares exactly (95.5%, not 96%)."""
    if unit == "ratio":
        return _percent(value)
    return feature_value(value, unit, currency, lang)


def _percent(fraction: float) -> str:
    return f"{round(fraction * 100, 2):g}%"


def _tier_count(count: int, lang: Language) -> str:
    if lang == "zh":
        return str(count)
    return f"{count} tier{'' if count == 1 else 's'}"


def _and(parts: list[str], lang: Language) -> str:
    """The parts joined, each once (conditions on PD and on score read the same)."""
    unique = list(dict.fromkeys(parts))
    return "且".join(unique) if lang == "zh" else " and ".join(unique)


def _listed(parts: list[str], word: str, lang: Language) -> str:
    """``a, b or c`` / ``a、b或c``: ``word`` before the last."""
    if len(parts) < 2:
        return "".join(parts)
    if lang == "zh":
        return f"{'、'.join(parts[:-1])}{word}{parts[-1]}"
    return f"{', '.join(parts[:-1])} {word} {parts[-1]}"


def _bullet(text: str) -> str:
    return f"- {text}"


def _text(key: str, lang: Language, **figures: object) -> str:
    return _TEXTS[key][0 if lang == "zh" else 1].format(**figures)
