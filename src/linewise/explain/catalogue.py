"""The reason catalogue: customer texts (zh-CN, en) and an analyst text for every code.

Customer texts are templates filled with the customer's own figures (see
:mod:`linewise.explain.notice`); they never name a PD, a score or a model. Codes come
from four places, and every one has its texts:

- the engine's own codes (:data:`linewise.strategy.reasons.ENGINE_REASONS`), written
  out here, one text per entry of that table;
- the freeze, decrease and gate codes a strategy file names (the ones linewise ships
  are written out here; any other is told from the rule's own conditions);
- gate codes derived from a feature and an operator (``dpd_max_6m_above_max``), told
  from the feature's description unless a better sentence is written out here;
- model reasons, ``model_<feature>``: a feature that weighed most against the customer.
"""

from __future__ import annotations

from dataclasses import dataclass

from linewise.explain.formatting import Language
from linewise.features import REGISTRY
from linewise.strategy.compiled import Check, Policy
from linewise.strategy.reasons import ENGINE_REASONS, OPERATOR_SUFFIX
from linewise.strategy.spec import DECISION_SUBJECTS

__all__ = ["ENGINE_TEXTS", "MODEL_PREFIX", "ReasonText", "code_feature", "every_code", "model_code", "reason_text"]

MODEL_PREFIX = "model_"


@dataclass(frozen=True)
class ReasonText:
    """A reason's templates: ``zh`` and ``en`` for the customer, ``analyst`` for the risk team."""

    zh: str
    en: str
    analyst: str

    def customer(self, lang: Language) -> str:
        """The customer template in ``lang``."""
        return self.zh if lang == "zh" else self.en


# One entry per code of ENGINE_REASONS (a test checks it).
ENGINE_TEXTS: dict[str, ReasonText] = {
    "segment_not_raised": ReasonText(
        "您的账户开立时间为{months_on_book}，目前所属的客户类别暂不参与提额",
        "your line has been open for {months_on_book}, and lines in its group are not raised yet",
        "segment {segment} never raises",
    ),
    "risk_grade_too_low": ReasonText(
        "综合您的还款记录、额度使用等各方面情况，目前的信用评估尚未达到提额的要求",
        "taking your repayment record, use of the line and the rest together, your credit "
        "assessment is not yet at the level at which we raise lines",
        "risk grade {risk_grade} is not among the grades raised",
    ),
    "cooldown_active": ReasonText(
        "您的额度于{last_change}调整过，两次调整至少间隔{cooldown_days}天，{cooldown_end}之后才能再次调整",
        "your limit was changed on {last_change}; we leave at least {cooldown_days} days between "
        "changes, so the next one can come after {cooldown_end}",
        "cool-down of {cooldown_days} days since {last_change}",
    ),
    "request_limit_reached": ReasonText(
        "{window_days}天内最多可申请提额{max_requests}次，您已达到次数上限",
        "you can ask for a higher limit at most {max_requests} times in {window_days} days, and "
        "you have reached that number",
        "more than {max_requests} requests in {window_days} days",
    ),
    "limit_at_top": ReasonText(
        "您的额度{limit}已是本产品的最高档",
        "your limit of {limit} is already the highest this product offers",
        "current limit at the top of the ladder",
    ),
    "cap_step_pct": ReasonText(
        "单次提额不超过当前额度的{step_pct}",
        "one raise is at most {step_pct} of the current limit",
        "step capped at {step_pct} of the current limit ({cap})",
    ),
    "cap_step_amount": ReasonText(
        "单次提额不超过{step_amount}", "one raise is at most {step_amount}", "step capped at {step_amount} ({cap})"
    ),
    "cap_segment_ceiling": ReasonText(
        "您所属的客户类别额度上限为{cap}",
        "lines in your group go up to {cap} at most",
        "segment {segment} ceiling {cap}",
    ),
    "cap_ceiling": ReasonText(
        "本产品的额度上限为{cap}", "this product's limits go up to {cap} at most", "strategy ceiling {cap}"
    ),
    "cap_unverified_income": ReasonText(
        "您的收入尚未验证，收入未验证客户的额度上限为{cap}",
        "your income has not been verified, and limits without verified income go up to {cap} at most",
        "unverified-income ceiling {cap}",
    ),
    "cap_affordability": ReasonText(
        "按您已验证的月收入{income}及其他负债计算，更高额度的月还款将超出可承受范围（上限{cap}）",
        "with your verified monthly income of {income} and your other debts, the monthly repayments "
        "of a higher limit would be more than you can afford (at most {cap})",
        "affordability cap {cap} from income {income}",
    ),
}

# The freeze, decrease and request rules linewise ships name these codes.
_RULES: dict[str, ReasonText] = {
    "overdue_now": ReasonText(
        "您当前有逾期未还的款项（已逾期{dpd_current}），额度暂时冻结",
        "you have a payment overdue now ({dpd_current} late), so the line is frozen for the time being",
        "frozen: days past due now {dpd_current}",
    ),
    "risk_grown": ReasonText(
        "您近期的信用状况明显变差",
        "your credit record has got markedly worse recently",
        "decreased: PD {pd} at or above the decrease rule",
    ),
    "recent_drawings_above_limit": ReasonText(
        "近3个月的新增借款已超过您的额度（{value}），请稍后再申请",
        "in the last 3 months you drew more than your whole limit ({value}); please ask again later",
        "request refused: drawings over 3 months {value} of the limit",
    ),
}

# Sentences better than the generic ones for the gates of the shipped strategy.
_GATES: dict[str, ReasonText] = {
    "months_on_book_below_min": ReasonText(
        "您的账户开立时间为{value}，需满{threshold}",
        "your line has been open for {value}; it needs {threshold}",
        "months on book {value} < {threshold}",
    ),
    "dpd_max_6m_above_max": ReasonText(
        "近6个月内您曾逾期还款（最长{value}）",
        "in the last 6 months a payment was late (by up to {value})",
        "max DPD 6m {value} > {threshold}",
    ),
    "on_time_ratio_6m_below_min": ReasonText(
        "近6个月中有月份未按时还款（按时还款比例{value}）",
        "not every payment of the last 6 months was on time ({value} were)",
        "on-time ratio 6m {value} < {threshold}",
    ),
    "on_time_ratio_6m_unknown": ReasonText(
        "近6个月您没有应还款项，我们暂无足够的还款记录来评估",
        "nothing fell due in the last 6 months, so we have no recent repayments to go by",
        "on-time ratio 6m unknown (nothing due)",
    ),
    "missed_payment_months_6m_above_max": ReasonText(
        "近6个月中有{value}个月有应还款项但未还款",
        "in {value} of the last 6 months something was due and nothing was paid",
        "missed-payment months 6m {value} > {threshold}",
    ),
    "utilisation_current_above_max": ReasonText(
        "您当前已用额度占比为{value}，需不超过{threshold}",
        "you are using {value} of your limit now; it needs to be at most {threshold}",
        "utilisation {value} > {threshold}",
    ),
    "external_dpd_max_12m_above_max": ReasonText(
        "近12个月您在其他机构有逾期记录（最长{value}）",
        "in the last 12 months a payment to another lender was late (by up to {value})",
        "external max DPD 12m {value} > {threshold}",
    ),
    "bureau_enquiries_6m_above_max": ReasonText(
        "近6个月您在其他机构申请贷款的次数较多（{value}次）",
        "you applied for credit elsewhere often in the last 6 months ({value} times)",
        "bureau enquiries 6m {value} > {threshold}",
    ),
}

_GATE_SUFFIXES: dict[str, ReasonText] = {
    "below_min": ReasonText(
        "您的{feature}为{value}，需不低于{threshold}",
        "your {feature} is {value}; it needs to be at least {threshold}",
        "{feature} {value} below {threshold}",
    ),
    "above_max": ReasonText(
        "您的{feature}为{value}，需不超过{threshold}",
        "your {feature} is {value}; it needs to be at most {threshold}",
        "{feature} {value} above {threshold}",
    ),
    "not_required_value": ReasonText(
        "您的{feature}为{value}，需为{threshold}",
        "your {feature} is {value}; it needs to be {threshold}",
        "{feature} {value} is not {threshold}",
    ),
    "excluded_value": ReasonText(
        "您的{feature}为{value}，不符合条件",
        "your {feature} is {value}, which does not qualify",
        "{feature} is the excluded value {threshold}",
    ),
    "unknown": ReasonText(
        "我们暂无您的{feature}信息，无法评估",
        "we do not know your {feature} yet, so it cannot be judged",
        "{feature} unknown",
    ),
    "missing": ReasonText("我们暂无您的{feature}信息", "we do not have your {feature}", "{feature} missing"),
    "present": ReasonText(
        "您的{feature}不符合本类提额的条件", "your {feature} does not fit this kind of raise", "{feature} present"
    ),
}

_MODEL = ReasonText(
    "您的{feature}为{value}，是本次评估中最不利的因素之一",
    "your {feature}, {value}, weighed most against you in this assessment",
    "model: {feature} = {value}, among the largest adverse contributions",
)

# A gate on the model's own output: told as the assessment, never with its number.
_ASSESSMENT = ReasonText(
    "综合您的还款记录、额度使用等各方面情况，目前的信用评估尚未达到此项要求",
    "taking your repayment record, use of the line and the rest together, your credit "
    "assessment is not yet at the level this needs",
    "model output {feature} fails its gate (threshold {threshold})",
)

# Features whose value below zero a customer reads as something else: credit available
# below zero is a line over its limit, told by how much ({magnitude}), never as a
# negative amount. (model reason, gate reason) for each.
_BELOW_ZERO: dict[str, tuple[ReasonText, ReasonText]] = {
    "available_credit": (
        ReasonText(
            "您已超出额度{magnitude}，这是本次评估中最不利的因素之一",
            "you are over your limit by {magnitude}, which weighed most against you in this assessment",
            "model: {feature} = {value} (over the limit by {magnitude}), among the largest adverse contributions",
        ),
        ReasonText(
            "您已超出额度{magnitude}",
            "you are over your limit by {magnitude}",
            "{feature} {value}: over the limit by {magnitude} (threshold {threshold})",
        ),
    ),
}

_RULE_FROM_CONDITIONS = ReasonText(
    "您的情况符合以下规则：{conditions}", "your account meets this rule: {conditions}", "rule {code}: {conditions}"
)


def model_code(feature: str) -> str:
    """The reason code of a model feature that weighed against the customer."""
    return f"{MODEL_PREFIX}{feature}"


def code_feature(code: str, policy: Policy | None = None) -> str | None:
    """The feature a gate or model code is about (None for the others)."""
    if code.startswith(MODEL_PREFIX) and code[len(MODEL_PREFIX) :] in REGISTRY:
        return code[len(MODEL_PREFIX) :]
    check = None if policy is None else _gate_checks(policy).get(code)
    if check is not None:
        return check.feature
    derived = _derived_gate(code)
    return None if derived is None else derived[0]


def reason_text(code: str, policy: Policy | None = None, value: float | None = None) -> ReasonText | None:
    """The texts of ``code``; None when linewise cannot tell it (a code no rule of ``policy`` names).

    ``value`` is the customer's value of the code's feature, when it has one: a few
    features are told differently below zero (a line over its limit).
    """
    feature = code_feature(code, policy)
    if feature in _BELOW_ZERO and value is not None and value < 0:
        model, gate = _BELOW_ZERO[feature]
        return model if code.startswith(MODEL_PREFIX) else gate
    written = ENGINE_TEXTS.get(code) or _RULES.get(code) or _GATES.get(code)
    if written is not None:
        return written
    if code.startswith(MODEL_PREFIX) and code[len(MODEL_PREFIX) :] in REGISTRY:
        return _MODEL
    if policy is not None and code in _rule_codes(policy):
        return _RULE_FROM_CONDITIONS
    check = None if policy is None else _gate_checks(policy).get(code)
    if check is not None and check.feature in DECISION_SUBJECTS:
        return _ASSESSMENT
    # A code derived from a feature says how the gate failed; a named one, its operator.
    derived = _derived_gate(code)
    if derived is not None:
        return _GATE_SUFFIXES[derived[1]]
    return None if check is None else _GATE_SUFFIXES[OPERATOR_SUFFIX[check.op]]


def _derived_gate(code: str) -> tuple[str, str] | None:
    """(feature, suffix) of a code such as ``dpd_max_6m_above_max``; None for other codes."""
    for suffix in _GATE_SUFFIXES:
        feature = code.removesuffix(f"_{suffix}")
        if feature != code and feature in REGISTRY:
            return feature, suffix
    return None


def every_code(policy: Policy) -> list[str]:
    """Every code ``policy`` can give, model reasons for every registered feature included."""
    codes = [*ENGINE_REASONS, *_rule_codes(policy)]
    for check in _gate_checks(policy).values():
        codes.append(check.code)
        if check.op.takes_value and check.feature not in DECISION_SUBJECTS:
            codes.append(f"{check.feature}_unknown")
    codes += [model_code(name) for name in REGISTRY]
    return list(dict.fromkeys(codes))


def _rule_codes(policy: Policy) -> dict[str, tuple[Check, ...]]:
    return {rule.code: rule.when for rule in (*policy.freeze, *policy.decrease)}


def _gate_checks(policy: Policy) -> dict[str, Check]:
    return {check.code: check for check in policy.all_gates}
