"""What the ledger and the decision log return, as the API's answers (presentation only)."""

from __future__ import annotations

from datetime import date
from typing import Any

import pandas as pd

from linewise.explain.formatting import Language
from linewise.explain.notice import render_reasons, render_recourse
from linewise.ledger.decisions import Applied, Refused
from linewise.ledger.dpd import is_instalment_on_time
from linewise.ledger.model import LineState
from linewise.ledger.service import PostingResult, Statement
from linewise.ledger.store.decision_log import StoredRun
from linewise.review.apply import outcome_record
from linewise.review.runs import notice_of, stored_strategy
from linewise.service.schemas.decisions import AnalysisOut, DecisionOut, OutcomeOut
from linewise.service.schemas.lines import (
    DrawdownOut,
    InstalmentOut,
    LineOut,
    PostingOut,
    RepaymentLineOut,
    StatementOut,
)
from linewise.strategy.compiled import Strategy

__all__ = ["decision_out", "line_out", "outcome_out", "posting_out", "statement_out"]


def posting_out(posted: PostingResult) -> PostingOut:
    """A posting's result, as the CLI's ``--json`` gives it."""
    return PostingOut(**posted.result, duplicate=posted.duplicate)


def line_out(state: LineState, dpd: int) -> LineOut:
    """A line now, with its days past due."""
    line = state.line
    return LineOut(
        account_id=line.account_id,
        customer_id=line.customer_id,
        currency=line.currency,
        credit_limit=line.credit_limit,
        status=line.status.value,
        opened_on=line.opened_on.isoformat(),
        principal_outstanding=state.principal_outstanding,
        available_credit=state.available_credit,
        drawdowns=len(state.drawdowns),
        dpd=dpd,
    )


def statement_out(st: Statement) -> StatementOut:
    """A statement: the schedules with each instalment's on-time flag, the payments, the payoff."""
    state = st.state
    return StatementOut(
        account_id=state.line.account_id,
        as_of=st.as_of.isoformat(),
        currency=state.line.currency,
        credit_limit=state.line.credit_limit,
        status=state.line.status.value,
        dpd=st.dpd,
        bucket=st.bucket,
        payoff=st.payoff,
        principal_outstanding=state.principal_outstanding,
        drawdowns=[
            DrawdownOut(
                seq=d.seq,
                drawn_on=d.drawn_on.isoformat(),
                principal=d.principal,
                term_months=d.term_months,
                method=d.method.value,
                purpose=d.purpose,
                instalments=[
                    InstalmentOut(
                        number=i.number,
                        due_on=i.due_on.isoformat(),
                        principal_due=i.principal_due,
                        interest_due=i.interest_due,
                        principal_paid=i.principal_paid,
                        interest_paid=i.interest_paid,
                        penalty_accrued=i.penalty_accrued,
                        penalty_paid=i.penalty_paid,
                        settled_on=None if i.settled_on is None else i.settled_on.isoformat(),
                        on_time=is_instalment_on_time(d, i, st.as_of),
                    )
                    for i in d.instalments
                ],
            )
            for d in state.drawdowns
        ],
        repayments=[
            RepaymentLineOut(on=on.isoformat(), key=key, amount=amount, allocated=parts)
            for on, key, amount, parts in st.repayments
        ],
    )


def outcome_out(outcome: Applied | Refused | None) -> OutcomeOut | None:
    """What applying a decision did (None: it was not applied)."""
    return None if outcome is None else OutcomeOut(**outcome_record(outcome))


def decision_out(
    stored: StoredRun,
    lang: Language,
    *,
    analyst: bool,
    strategy: Strategy | None = None,
    outcome: Applied | Refused | None = None,
) -> DecisionOut:
    """The first decision of ``stored`` as its customer is told it in ``lang``; with ``analysis`` for staff.

    The reasons and the recourse are the notice's own sentences, made from the features
    and the strategy logged with the decision. ``strategy`` is the run's strategy when
    the caller has it compiled already (else it is compiled from the log).
    """
    strategy = strategy if strategy is not None and strategy.ref == stored.strategy_ref else stored_strategy(stored)
    notice = notice_of(stored, 0, lang, analyst=analyst, strategy=strategy)
    row = notice.row
    account = str(row["account_id"])
    features = _features(stored, account)
    changed_on = _changed_on(stored, account)
    policy = strategy.policies[str(row["arm"])]
    return DecisionOut(
        account_id=account,
        run=stored.run_id,
        as_of=_day(row["as_of"]),
        trigger=str(row["trigger"]),
        action=str(row["action"]),
        current_limit=int(row["current_limit"]),
        new_limit=int(row["new_limit"]),
        currency=policy.currency,
        lang=lang,
        notice=notice.text,
        reasons=render_reasons(row, features, policy, lang, last_limit_change_on=changed_on),
        recourse=None if row["action"] == "increase" else render_recourse(row, features, policy, lang),
        recourse_limit=None if _missing(row["recourse_limit"]) else int(row["recourse_limit"]),
        recourse_on=None if _missing(row["recourse_on"]) else _day(row["recourse_on"]),
        outcome=outcome_out(outcome),
        analysis=_analysis(row, features, notice.analyst) if analyst else None,
    )


def _analysis(row: dict[str, Any], features: dict[str, float], analyst_reasons: list[str]) -> AnalysisOut:
    return AnalysisOut(
        pd=None if _missing(row["pd"]) else float(row["pd"]),
        score=None if _missing(row["score"]) else float(row["score"]),
        risk_grade=str(row["risk_grade"]),
        segment=str(row["segment"]),
        reason_codes=[str(code) for code in row["reasons"]],
        recourse_codes=[str(code) for code in row["recourse"]],
        analyst_reasons=analyst_reasons,
        strategy=str(row["strategy"]),
        model=str(row["model"]),
        arm=str(row["arm"]),
        features=features,
    )


def _features(stored: StoredRun, account: str) -> dict[str, float]:
    """The numeric features the decision was made from (missing ones left out), as the notice reads them."""
    values = stored.features.loc[account]
    return {str(k): float(v) for k, v in values.items() if isinstance(v, int | float) and not pd.isna(v)}


def _changed_on(stored: StoredRun, account: str) -> date | None:
    changed: Any = stored.context["last_limit_change_on"].get(account)
    return None if _missing(changed) else pd.Timestamp(changed).date()


def _missing(value: Any) -> bool:
    return value is None or value is pd.NA or (not isinstance(value, str | list | tuple) and bool(pd.isna(value)))


def _day(value: Any) -> str:
    return pd.Timestamp(value).date().isoformat()
