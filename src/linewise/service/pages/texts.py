"""The pages' own words, in zh-CN and en: one catalogue, each entry ``key: (zh, en)``.

What the decision says (its notice, reasons and what would raise the line), the
criteria and the drawdown preview are the explain package's texts; this catalogue
holds only the pages' labels, headings and the sentence a customer reads for a
refusal's code. A test checks that every entry has both languages with the same
placeholders and that every key a template names is here.
"""

from __future__ import annotations

import logging
import string

from linewise.explain.formatting import Language

__all__ = ["PROBLEMS", "TEXTS", "Translator", "translator"]

logger = logging.getLogger(__name__)

TEXTS: dict[str, tuple[str, str]] = {
    # the frame of every page
    "brand_sub": ("额度管理", "credit lines"),
    "skip_to_content": ("跳到正文", "Skip to content"),
    "switch_language": ("English", "中文"),
    "nav_label": ("主导航", "Main"),
    "nav_my_limit": ("我的额度", "My limit"),
    "nav_console": ("分析台", "Console"),
    "nav_strategies": ("策略对比", "Strategy diff"),
    "nav_criteria": ("额度规则", "How limits are decided"),
    "footer": (
        "对额度决定有疑问？请查看额度规则，或联系我们。",
        "Questions about a decision? Read how limits are decided, or contact us.",
    ),
    "back_home": ("返回首页", "Back to the start"),
    "criteria_link": ("我们如何决定额度", "How we decide limits"),
    # signing in
    "sign_in": ("登录", "Sign in"),
    "sign_out": ("退出", "Sign out"),
    "sign_in_title": ("登录", "Sign in"),
    "sign_in_intro": ("请输入用户名和密码。", "Enter your username and password."),
    "session_expired": ("登录已过期，请重新登录。", "Your session has ended: please sign in again."),
    "username": ("用户名", "Username"),
    "password": ("密码", "Password"),
    # refusals
    "error_title_403": ("无权访问", "Not allowed"),
    "error_title_404": ("找不到页面", "Not found"),
    "error_title_422": ("无法处理", "Cannot do that"),
    "error_title_other": ("出现问题", "Something went wrong"),
    "error_code": ("代码", "Code"),
    "error_where": ("位置", "Where"),
    "error_detail": ("说明", "Detail"),
    # the criteria
    "criteria_title": ("我们如何决定额度", "How limits are decided"),
    # a customer's lines
    "my_lines_title": ("我的额度", "My credit lines"),
    "line_title": ("我的额度", "My credit line"),
    "line_named": ("账户 {account}", "account {account}"),
    "line_now": ("额度现状", "The line now"),
    "limit": ("额度", "Limit"),
    "available": ("可用额度", "Available"),
    "outstanding": ("待还本金", "Owed"),
    "status": ("状态", "Status"),
    "status_active": ("正常", "Active"),
    "status_frozen": ("已冻结", "Frozen"),
    "status_closed": ("已关闭", "Closed"),
    "on_time_record": ("还款记录", "Repayment record"),
    "on_time_none_due": ("尚无到期的还款。", "Nothing has fallen due yet."),
    "on_time_counts": (
        "已到期{due}期，按时还款{on_time}期。",
        "{on_time} of {due} instalments due so far paid on time.",
    ),
    "overdue_now": ("当前逾期{days}天。", "{days} days overdue now."),
    "decision_heading": ("最近一次额度决定", "The latest decision on your limit"),
    "decision_made": ("{day}，{trigger}", "{day}, {trigger}"),
    "no_decision_yet": ("您的额度尚未经过评估。", "Your line has not been reviewed yet."),
    "limit_history_heading": ("额度变动记录", "How your limit has changed"),
    "col_date": ("日期", "Date"),
    "col_change": ("变动", "Change"),
    "col_how": ("原因", "How"),
    "how_opened": ("开户", "Line opened"),
    "how_decision": ("额度评估", "A review decision"),
    "how_by_hand": ("人工调整", "Set by our staff"),
    "trigger_review": ("定期评估", "periodic review"),
    "trigger_repayment": ("还款后评估", "after a repayment"),
    "trigger_income_proof": ("收入证明后评估", "after an income proof"),
    "trigger_request": ("您申请提额", "you asked for more"),
    "action_increase": ("提额", "Raise"),
    "action_hold": ("维持", "Hold"),
    "action_decrease": ("降额", "Lower"),
    "action_freeze": ("冻结", "Freeze"),
    # the credit report
    "report_heading": ("征信报送记录", "Your credit report"),
    "report_intro": (
        "截至{year}年{month}月末，我们向征信机构报送的本额度及每笔借款的信息。",
        "What we told the credit bureau about this line and each loan, as of the end of {year}-{month}.",
    ),
    "report_none": ("本月开立的额度尚未报送。", "A line opened this month has not been reported yet."),
    "report_line": ("额度 {ref}", "Line {ref}"),
    "report_loan": ("借款 {ref}", "Loan {ref}"),
    "report_opened": ("开立日期", "Opened"),
    "report_amount": ("借款金额", "Amount"),
    "report_balance": ("余额", "Balance"),
    "report_status": ("状态", "Status"),
    "report_status_current": ("正常", "Current"),
    "report_status_past_due": ("逾期", "Past due"),
    "report_status_paid_off": ("已结清", "Paid off"),
    "report_status_closed": ("已关闭", "Closed"),
    "months_late": ("逾期{n}个月", "{n} months late"),
    "history_label": (
        "近24个月还款记录（从左到右由远及近，每格一个月）：",
        "The last 24 months, oldest on the left, one box a month:",
    ),
    "history_summary": (
        "近24个月中：按时{on_time}个月，逾期{late}个月，尚未开立{not_open}个月，已结清或关闭{closed}个月。",
        "Of the last 24 months: {on_time} on time, {late} late, {not_open} not yet open, {closed} paid off or closed.",
    ),
    "history_on-time": ("N：按时还款，没有逾期", "N: on time, nothing overdue"),
    "history_late": ("逾期", "late"),
    "history_late_legend": (
        "1–7：逾期月数（1为1–30天，7为180天以上）",
        "1–7: months late (1 for 1–30 days, 7 for over 180)",
    ),
    "history_not-open": ("/：尚未开立", "/: not yet open"),
    "history_closed": ("C：已结清或关闭", "C: paid off or closed"),
    # borrowing and repaying
    "borrow_heading": ("借款试算", "Borrow: see it first"),
    "borrow_intro": (
        "每笔可借{low}至{high}。先试算，看清成本、还款计划和对额度的影响后再借款。",
        "Each drawing is {low} to {high}. See the cost, the schedule and what it does to your line before you borrow.",
    ),
    "amount_label": ("金额（{currency}）", "Amount ({currency})"),
    "amount_hint": ("例如 3000 或 3000.00", "For example 3000 or 3000.00"),
    "term_label": ("期限", "Term"),
    "months": ("{n}个月", "{n} months"),
    "preview_button": ("试算", "Preview"),
    "repay_heading": ("还款", "Repay"),
    "repay_intro": ("当前应还{due}；全部结清需{payoff}。", "Due now: {due}; to clear the line: {payoff}."),
    "repay_button": ("确认还款", "Repay"),
    "preview_title": ("借款试算", "Before you borrow"),
    "preview_what": ("借款后会怎样", "What this drawing would do"),
    "preview_figures": ("费用与额度", "Cost and your line"),
    "preview_amount": ("借款金额", "Amount"),
    "preview_first": ("首期还款", "First instalment"),
    "preview_interest": ("总利息", "Total interest"),
    "preview_cost": ("年化成本", "Annualised cost"),
    "preview_available_after": ("借款后可用额度", "Available afterwards"),
    "preview_utilisation_after": ("借款后额度使用率", "Share of the line in use afterwards"),
    "preview_dti_after": ("月还款占收入比例", "Monthly repayments over income"),
    "schedule_heading": ("还款计划", "Repayment schedule"),
    "col_number": ("期数", "No."),
    "col_due_on": ("到期日", "Due on"),
    "col_principal": ("本金", "Principal"),
    "col_interest": ("利息", "Interest"),
    "col_total": ("合计", "Total"),
    "take_heading": ("确认借款", "Borrow it"),
    "take_intro": (
        "确认后将借款{amount}，分{months}期还款；试算不会记录任何内容。",
        "This borrows {amount} over {months} months; the preview itself changed nothing.",
    ),
    "borrow_button": ("确认借款{amount}", "Borrow {amount}"),
    "back_to_line": ("返回我的额度", "Back to my line"),
    "posted_title_drawdown": ("借款成功", "Money borrowed"),
    "posted_title_repayment": ("还款成功", "Repayment received"),
    "posted_duplicate": (
        "这笔已经提交过（表单被提交了两次），没有重复记账。",
        "This was sent before (the form was sent twice): nothing was posted twice.",
    ),
    "posted_drawdown": ("首期还款{first}，到期日{due}。", "First instalment {first}, due on {due}."),
    "posted_repayment": ("已收到还款{amount}，分配如下：", "We received {amount}, applied as follows:"),
    "allocated_penalty": ("罚息", "Penalty"),
    "allocated_interest": ("利息", "Interest"),
    "allocated_principal": ("本金", "Principal"),
    "follow_heading": ("还款后的额度评估", "Your line after this repayment"),
    "follow_unfrozen": ("您的额度已解除冻结，可以继续借款。", "Your line is active again: you can borrow on it."),
    "follow_not_due": (
        "这笔还款不需要重新评估额度；下次定期评估时会一并考虑。",
        "This repayment called for no new decision; the next review takes it into account.",
    ),
    "follow_not_asked": (
        "这笔还款此前已提交，当时已处理额度评估。",
        "This repayment was sent before, and its decision was asked for then.",
    ),
    "follow_failed": (
        "还款已入账，但额度评估暂时未能完成，我们会在下次评估时处理。",
        "Your repayment stands, but the decision on your line could not be made now; the next review will make it.",
    ),
    # the console
    "console_title": ("分析台", "Analyst console"),
    "lines_by_status": ("各状态额度数", "Lines by status"),
    "lines_status": ("{status}额度", "{status} lines"),
    "chart_actions": ("最新决定：动作分布", "Latest decisions: actions"),
    "chart_grades": ("最新决定：风险等级分布", "Latest decisions: risk grades"),
    "chart_latest_note": ("每条额度取其最近一次决定。", "Each line's latest decision."),
    "chart_added": ("每月新增额度 {currency}", "Limit added each month {currency}"),
    "chart_table": ("查看数据表", "Show the figures"),
    "col_month": ("月份", "Month"),
    "col_added": ("新增额度", "Limit added"),
    "no_limit_added": ("近12个月没有提额。", "No limit was raised in the last 12 months."),
    "no_decisions": ("决定日志中还没有决定。", "The decision log holds no decisions yet."),
    "recent_heading": ("最近的决定", "Recent decisions"),
    "filter_account": ("账户", "Account"),
    "filter_button": ("筛选", "Filter"),
    "col_run": ("批次", "Run"),
    "col_account": ("账户", "Account"),
    "col_as_of": ("决定日", "As of"),
    "col_trigger": ("触发", "Trigger"),
    "col_action": ("动作", "Action"),
    "col_limits": ("额度", "Limits"),
    "col_grade": ("风险等级", "Risk grade"),
    "col_audit": ("审计", "Audit"),
    "open_audit": ("审计", "Audit"),
    # a decision's audit
    "audit_title": ("决定审计", "Decision audit"),
    "audit_of": ("批次 {run} · 账户 {account}", "run {run} · account {account}"),
    "audit_summary": ("摘要", "Summary"),
    "score": ("评分", "Score"),
    "audit_versions": ("版本与上下文", "Versions and context"),
    "audit_strategy": ("策略", "Strategy"),
    "audit_model": ("模型", "Model"),
    "audit_arm": ("实验组", "Arm"),
    "audit_segment": ("客群", "Segment"),
    "audit_outcome": ("执行", "Applied"),
    "audit_applied": ("已执行", "applied"),
    "audit_not_applied": ("未执行", "not applied"),
    "audit_reasons": ("原因", "Reasons"),
    "col_code": ("代码", "Code"),
    "audit_customer_text": ("告知客户", "Told to the customer"),
    "audit_analyst_text": ("分析说明", "For analysts"),
    "audit_no_reasons": ("没有原因代码。", "No reason codes."),
    "audit_recourse": ("提额路径", "Recourse"),
    "audit_no_recourse": ("已提额，无需提额路径。", "The line was raised: no recourse."),
    "audit_recourse_to": ("可提升至{limit}，评估日{day}。", "To {limit} at the review on {day}."),
    "audit_notice": ("客户通知原文", "The notice as the customer reads it"),
    "audit_replay": ("重放", "Replay"),
    "replay_same": (
        "用存储的特征、策略 {strategy} 和模型 {model} 重新决定，结果完全一致。",
        "Decided again from what was stored, with {strategy} and {model}: the same, bit for bit.",
    ),
    "replay_differs": ("重放结果有{n}处不同：", "The replay differs in {n} values:"),
    "col_column": ("字段", "Column"),
    "col_stored": ("存储值", "Stored"),
    "col_replayed": ("重放值", "Replayed"),
    "audit_features": ("特征", "Features"),
    "col_feature": ("特征", "Feature"),
    "col_value": ("取值", "Value"),
    "audit_more_of": ("账户 {account} 的其他决定", "Other decisions on {account}"),
    # strategy diffs
    "strategies_title": ("策略对比", "Strategy diff"),
    "strategies_pick": ("选择两个策略", "Pick two strategies"),
    "strategies_too_few": (
        "决定日志中只存有{n}个策略；至少需要两个才能对比。",
        "The decision log holds {n} strategies; a diff needs two.",
    ),
    "strategy_old": ("原策略", "Old"),
    "strategy_new": ("新策略", "New"),
    "compare_button": ("对比", "Compare"),
    "strategies_changes": ("{old} → {new}：{n}处变化", "{old} → {new}: {n} changes"),
    "strategies_same": ("两个策略的决定方式完全相同。", "The two strategies decide alike."),
    "strategies_stored": ("决定日志中的策略", "Strategies in the decision log"),
}

# The sentence a customer reads for a refusal, by its code (linewise.errors.ERROR_CODES);
# the code, where and detail are shown under it.
PROBLEMS: dict[str, tuple[str, str]] = {
    "amount_not_a_number": ("请输入金额，例如 3000 或 3000.00。", "Enter an amount such as 3000 or 3000.00."),
    "amount_has_too_many_decimals": ("金额最多保留两位小数。", "The amount has more decimals than the currency has."),
    "amount_too_large": ("金额过大。", "That amount is too large."),
    "amount_must_be_positive": ("金额须大于零。", "The amount must be more than zero."),
    "exceeds_available_limit": ("超出可用额度。", "That is more than the credit available."),
    "below_drawdown_min": ("低于单笔最低借款金额。", "That is below the smallest drawing."),
    "above_drawdown_max": ("高于单笔最高借款金额。", "That is above the largest drawing."),
    "term_not_offered": ("不提供该期限。", "That term is not offered."),
    "account_past_due": ("您有逾期款项，请先还款。", "You have a payment overdue: repay it first."),
    "line_frozen": ("额度已冻结，暂不能借款。", "The line is frozen: no new drawings for now."),
    "line_closed": ("额度已关闭。", "The line is closed."),
    "nothing_outstanding": ("当前没有待还款项。", "There is nothing to repay."),
    "exceeds_amount_outstanding": ("还款金额超过全部欠款。", "That is more than everything owed."),
    "credentials_invalid": ("用户名或密码不正确。", "The username or password is not right."),
    "login_rate_limited": ("登录失败次数过多，请稍后再试。", "Too many failed sign-ins: try again later."),
    "account_not_found": ("找不到该账户。", "There is no such line."),
    "run_not_found": ("找不到该批次。", "There is no such run."),
    "customer_not_found": ("找不到您的额度。", "No line of yours was found."),
    "role_forbidden": ("您的账号不能访问此页面。", "Your account may not open this page."),
    "csrf_token_invalid": (
        "表单已失效，请刷新页面后重新提交。",
        "The form is no longer valid: reload the page and send it again.",
    ),
    "request_invalid": ("请求中有无法识别的内容。", "Part of the request could not be read."),
    "language_unknown": ("页面语言只能是 zh 或 en。", "The page language must be zh or en."),
    "route_not_found": ("没有这个页面。", "There is no such page."),
}
_PROBLEM_FALLBACK = ("操作未能完成。", "That could not be done.")


class Translator:
    """The pages' texts in one language: ``t(key, **figures)``, and ``t.problem(code)`` for a refusal."""

    def __init__(self, lang: Language) -> None:
        self.index = 0 if lang == "zh" else 1

    def __call__(self, key: str, **figures: object) -> str:
        """The text of ``key`` with its placeholders filled; the key itself (logged) when the catalogue lacks it."""
        texts = TEXTS.get(key)
        if texts is None:
            logger.warning("page text %r is not in linewise.service.pages.texts.TEXTS", key)
            return key
        return texts[self.index].format(**figures)

    def problem(self, code: str) -> str:
        """The sentence a customer reads for a refusal's code."""
        return PROBLEMS.get(code, _PROBLEM_FALLBACK)[self.index]


_TRANSLATORS: dict[Language, Translator] = {"zh": Translator("zh"), "en": Translator("en")}


def translator(lang: Language) -> Translator:
    """The pages' texts in ``lang``."""
    return _TRANSLATORS[lang]


def placeholders(text: str) -> set[str]:
    """The ``{names}`` a text is filled with."""
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}
