"""A drawdown previewed before it is taken: its cost, the line after, the bureau report, the next review.

The drawdown is posted for real, through the ledger's own posting, in a transaction
that is rolled back: the line after it, its schedule and the bureau record are what
the ledger would hold, and the decision "after" is made the way a review makes it,
features read back from that ledger. Nothing is kept and nothing is logged.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any

import pandas as pd
from sqlalchemy import Engine

from linewise.calendar import add_months, month_end
from linewise.explain.formatting import LANGUAGES, Language
from linewise.explain.preview import PreviewFigures, preview_text
from linewise.ledger.bureau import BureauRecord, account_records
from linewise.ledger.model import Instalment, LineState
from linewise.ledger.product import Product
from linewise.ledger.schedule import annualised_cost
from linewise.ledger.service import drawdown_event, read_state, trial_posting
from linewise.ledger.store.repository import load_account_events
from linewise.review.run import Decided, Decider, ReviewRequest, decide_book
from linewise.review.sources import Book, book_from_ledger

__all__ = ["DrawdownPreview", "preview_drawdown"]


@dataclass(frozen=True)
class DrawdownPreview:
    """What borrowing ``figures.amount`` now would do to ``account_id``'s line.

    ``now`` and ``after`` are the decisions (rows of the decision contract) a review
    would make today without the drawdown and right after it; ``texts`` the preview
    told in each language.
    """

    account_id: str
    currency: str
    figures: PreviewFigures
    schedule: tuple[Instalment, ...]
    bureau_record: BureauRecord
    now: dict[str, Any]
    after: dict[str, Any]
    texts: dict[Language, str]


def preview_drawdown(
    store: Engine,
    account_id: str,
    decider: Decider,
    product: Product,
    *,
    amount: int,
    term_months: int,
    as_of: date,
    method: str = "equal_instalment",
    purpose: str = "daily_consumption",
) -> DrawdownPreview:
    """Preview drawing ``amount`` (minor units) over ``term_months`` on ``account_id`` on ``as_of``.

    Raises what posting the drawdown would raise (an unknown account, a term the
    product does not offer, more than the available credit, a frozen line), and what
    deciding would (a model or strategy that does not fit the book); nothing is written.
    """
    state = read_state(store, account_id)
    event = drawdown_event(
        product,
        state,
        account_id=account_id,
        amount=amount,
        term_months=term_months,
        method=method,
        purpose=purpose,
        occurred_on=as_of,
        idempotency_key=f"preview-{uuid.uuid4().hex}",
    )
    # The ledger's refusal (more than the available credit, a line in arrears) comes first.
    with trial_posting(store, event) as (conn, _posted, after_state):
        after_book = book_from_ledger(conn, as_of, account_id)
        events = load_account_events(conn, account_id)
    after = _decided(after_book, decider)
    now = _decided(book_from_ledger(store, as_of, account_id), decider)
    drawdown = after_state.drawdowns[-1]
    record = next(r for r in account_records(events, month_end(as_of)) if r.loan_seq == drawdown.seq)
    figures = PreviewFigures(
        amount=amount,
        term_months=term_months,
        first_instalment=drawdown.instalments[0].amount_due,
        total_interest=sum(i.interest_due for i in drawdown.instalments),
        annualised_cost=annualised_cost(amount, [i.amount_due for i in drawdown.instalments]),
        available_after=after_state.available_credit,
        utilisation_after=after_state.principal_outstanding / after_state.line.credit_limit,
        debt_to_income_after=_debt_to_income(after_state, after_book, as_of),
    )
    now_row, after_row = _row(now), _row(after)
    features_after = _features(after)
    policy = decider.strategy.policies[str(after_row["arm"])]
    return DrawdownPreview(
        account_id=account_id,
        currency=after_state.line.currency,
        figures=figures,
        schedule=drawdown.instalments,
        bureau_record=record,
        now=now_row,
        after=after_row,
        texts={lang: preview_text(figures, now_row, after_row, features_after, policy, lang) for lang in LANGUAGES},
    )


def _decided(book: Book, decider: Decider) -> Decided:
    account = str(book.lines.index[0]) if book.lines is not None else None
    return decide_book(book, decider, ReviewRequest(account=account, recourse=False, log=False), log=None)


def _row(decided: Decided) -> dict[str, Any]:
    return {str(k): v for k, v in decided.decisions.iloc[0].to_dict().items()}


def _features(decided: Decided) -> dict[str, float]:
    values = decided.features.iloc[0]
    return {str(k): float(v) for k, v in values.items() if isinstance(v, int | float) and not pd.isna(v)}


def _debt_to_income(state: LineState, book: Book, as_of: date) -> float | None:
    """What falls due on every drawdown in the month after ``as_of``, over the verified monthly income.

    None when no income is verified or the customer has not consented to its use.
    """
    customer = book.customers.iloc[0]
    income = customer.get("income_monthly")
    consented = customer.get("consent_income")
    if income is None or pd.isna(income) or int(income) <= 0 or pd.isna(consented) or not bool(consented):
        return None
    horizon = add_months(as_of, 1)
    due = sum(
        instalment.outstanding
        for drawdown in state.drawdowns
        for instalment in drawdown.instalments
        if as_of < instalment.due_on <= horizon
    )
    return due / int(income)
