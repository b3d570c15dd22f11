"""The loop on the ledger: a line decided from its own events, the decision applied, the line changed.

Real databases (SQLite, and PostgreSQL when configured); a small simulated book and a
tiny model fitted on a synthetic portfolio in the book's currency.
"""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest
from sqlalchemy import func, select

from linewise.data.synthetic import SynthSpec, synthesize
from linewise.errors import InputError
from linewise.ledger.book import BookSpec, simulate_book
from linewise.ledger.decisions import Refused
from linewise.ledger.events import LineOpened, RepaymentPosted
from linewise.ledger.model import LineStatus
from linewise.ledger.posting import due_amount
from linewise.ledger.product import Product
from linewise.ledger.service import (
    drawdown_event,
    post_book,
    post_event,
    read_state,
    statement,
)
from linewise.ledger.store.decision_log import SqlDecisionLog
from linewise.ledger.store.tables import events
from linewise.models.gbm import GradientBoostedModel
from linewise.models.inputs import inputs_from_portfolio
from linewise.review import Decider, ReviewRequest, decide_book
from linewise.review.apply import apply_decided
from linewise.review.sources import book_from_ledger
from linewise.strategy import default_strategy_text, read_strategy
from linewise.strategy.compiled import compile_strategy

LINES = 120
BOOK_END = date(2025, 12, 31)


@pytest.fixture(scope="module")
def decider() -> Decider:
    portfolio = synthesize(SynthSpec(accounts=400, months=8, seed=3, last_month=BOOK_END))
    inputs = inputs_from_portfolio(portfolio)
    model = GradientBoostedModel(max_trees=8, early_stopping_rounds=4).fit(inputs.features, inputs.bad)
    text = default_strategy_text().replace("\ncurrency: TWD\n", "\ncurrency: CNY\n", 1)
    return Decider(
        model=model, model_ref="tiny@test", strategy=compile_strategy(read_strategy(text)), model_currency="CNY"
    )


def _post_book(engine) -> None:
    post_book(engine, simulate_book(BookSpec(LINES, 12, date(2025, 1, 1), 11), Product()))


@pytest.fixture
def book_db(filled_engine):
    """A store of the test's own holding the simulated book (posted once a session, then copied)."""
    return filled_engine("ledger-loop-book", _post_book)


def _event_count(engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(events)).scalar_one())


def test_a_frozen_line_whose_arrears_a_repayment_clears_is_unfrozen_by_the_decision_it_calls(book_db, decider):
    log = SqlDecisionLog(book_db)
    reviewed = decide_book(book_from_ledger(book_db, BOOK_END), decider, ReviewRequest(), log=log)
    apply_decided(book_db, reviewed)
    frozen = reviewed.decisions.loc[reviewed.decisions["action"] == "freeze", "account_id"].tolist()
    assert frozen, "the simulated book has lines in arrears"
    assert all(read_state(book_db, a).line.status == LineStatus.FROZEN for a in frozen)

    day = date(2026, 1, 10)
    account = next(a for a in frozen if statement(book_db, a, day).dpd > 0)
    owed = due_amount(read_state(book_db, account), day)  # what is overdue, not the whole balance
    post_event(book_db, RepaymentPosted(account_id=account, occurred_on=day, idempotency_key="clear-1", amount=owed))
    assert statement(book_db, account, day).dpd == 0

    frozen_row = reviewed.decisions.set_index("account_id").loc[account]
    book = book_from_ledger(book_db, day, account)
    decided = decide_book(book, decider, ReviewRequest(trigger="repayment", account=account), log=log)
    row = decided.decisions.iloc[0]
    # What the freeze promised for clearing the arrears still stands once they are cleared.
    assert pd.notna(frozen_row["recourse_limit"]), "the freeze told a way back up"
    if row["action"] == "increase":
        assert row["new_limit"] >= frozen_row["recourse_limit"]
    else:
        assert row["recourse_limit"] >= frozen_row["recourse_limit"]
        assert row["recourse_on"] <= frozen_row["recourse_on"]
    assert row["action"] != "freeze" and row["trigger"] == "repayment"
    [outcome] = apply_decided(book_db, decided)
    assert not isinstance(outcome, Refused)
    assert outcome.status_before == LineStatus.FROZEN and outcome.status_after == LineStatus.ACTIVE
    state = read_state(book_db, account)
    assert state.line.status == LineStatus.ACTIVE and state.line.credit_limit == int(row["new_limit"])

    before = _event_count(book_db)
    [again] = apply_decided(book_db, decided)
    assert not isinstance(again, Refused) and again.duplicate and _event_count(book_db) == before


def test_a_decision_is_refused_when_the_line_moved_after_it_was_made_and_nothing_is_written(book_db, decider):
    log = SqlDecisionLog(book_db)
    reviewed = decide_book(book_from_ledger(book_db, BOOK_END), decider, ReviewRequest(recourse=False), log=log)
    raised = reviewed.decisions.loc[reviewed.decisions["action"] == "increase", "account_id"].tolist()
    assert raised, "the default strategy raises some of the book"
    account = raised[0]
    state = read_state(book_db, account)
    post_event(
        book_db,
        drawdown_event(
            Product(),
            state,
            account_id=account,
            amount=50_000,
            term_months=6,
            method="equal_instalment",
            purpose="daily_consumption",
            occurred_on=BOOK_END,
            idempotency_key="racing-draw",
        ),
    )
    before = _event_count(book_db)
    outcomes = {o.account_id: o for o in apply_decided(book_db, reviewed)}
    assert isinstance(outcomes[account], Refused) and outcomes[account].code == "decision_stale"
    assert _event_count(book_db) - before == sum(len(o.events) for o in outcomes.values() if not isinstance(o, Refused))
    assert read_state(book_db, account).line.credit_limit == state.line.credit_limit


def test_features_read_mid_month_see_a_repayment_made_today(book_db):
    as_of = date(2026, 1, 10)
    account = next(a for a in book_from_ledger(book_db, BOOK_END).lines.index if statement(book_db, a, as_of).dpd > 0)
    before = book_from_ledger(book_db, as_of, account)
    owed = due_amount(read_state(book_db, account), as_of)
    post_event(book_db, RepaymentPosted(account_id=account, occurred_on=as_of, idempotency_key="today", amount=owed))
    after = book_from_ledger(book_db, as_of, account)

    def january(book):
        return book.panel.loc[pd.to_datetime(book.panel["month"]) == pd.Timestamp("2026-01-31")].iloc[0]

    assert january(before)["dpd"] > 0 and january(after)["dpd"] == 0
    assert january(after)["amount_paid"] - january(before)["amount_paid"] == owed
    assert after.features().loc[account, "dpd_current"] == 0


def test_apply_needs_a_logged_ledger_decision(book_db, decider):
    unlogged = decide_book(
        book_from_ledger(book_db, BOOK_END), decider, ReviewRequest(recourse=False, log=False), log=None
    )
    with pytest.raises(InputError) as refused:
        apply_decided(book_db, unlogged)
    assert refused.value.code == "apply_needs_log"


def test_a_repayment_today_calls_a_decision_for_its_line_when_the_whole_book_is_asked(book_db, decider):
    log = SqlDecisionLog(book_db)
    reviewed = decide_book(book_from_ledger(book_db, BOOK_END), decider, ReviewRequest(recourse=False), log=log)
    day = date(2026, 1, 10)
    in_arrears = [
        a
        for a in reviewed.decisions.loc[reviewed.decisions["action"] == "freeze", "account_id"]
        if statement(book_db, a, day).dpd > 0
    ]
    assert in_arrears, "the simulated book has lines in arrears"
    account = in_arrears[0]
    post_event(
        book_db,
        RepaymentPosted(
            account_id=account,
            occurred_on=day,
            idempotency_key="clear-2",
            amount=due_amount(read_state(book_db, account), day),
        ),
    )

    due = decide_book(
        book_from_ledger(book_db, day), decider, ReviewRequest(trigger="repayment", recourse=False), log=log
    )

    assert account in set(due.decisions["account_id"])
    assert not set(due.decisions["account_id"]) & set(in_arrears[1:]), "only lines whose arrears were cleared"


def test_an_instalment_due_on_the_review_day_and_not_yet_paid_is_not_a_missed_month(engine, decider):
    # A line repaid every month (as the service's tests' A2), reviewed on the day an instalment falls due.
    opened, review_day = date(2025, 6, 10), date(2026, 1, 10)
    post_event(
        engine,
        LineOpened(
            account_id="A2",
            occurred_on=opened,
            idempotency_key="open",
            customer_id="C2",
            currency="CNY",
            credit_limit=2_000_000,
        ),
    )
    post_event(
        engine,
        drawdown_event(
            Product(),
            None,
            account_id="A2",
            amount=800_000,
            term_months=12,
            method="equal_instalment",
            purpose="daily_consumption",
            occurred_on=opened,
            idempotency_key="draw",
        ),
    )
    for month in range(7, 13):
        post_event(
            engine,
            RepaymentPosted(
                account_id="A2", occurred_on=date(2025, month, 10), idempotency_key=f"pay-{month}", amount=74_000
            ),
        )
    assert statement(engine, "A2", review_day).dpd == 0

    book = book_from_ledger(engine, review_day, "A2")
    decided = decide_book(book, decider, ReviewRequest(account="A2", recourse=False, log=False), log=None)

    # Nothing was missed: no reason says so, and the features that would are clean.
    reasons = set(decided.decisions.iloc[0]["reasons"])
    assert not {"missed_payment_months_6m_above_max", "on_time_ratio_6m_below_min"} & reasons, reasons
    features = decided.features.loc["A2"]
    assert features["on_time_ratio_6m"] == 1.0 and features["missed_payment_months_6m"] == 0
    january = book.panel.iloc[-1]
    assert january["amount_due"] == 0 and pd.isna(january["on_time"])  # pending: due today, not late
