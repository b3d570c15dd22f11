"""The store against a model: posting through SQL equals folding events with ``apply``.

A Hypothesis state machine posts openings, drawdowns, repayments, limit and status
changes, re-posted keys and conflicting keys on a few accounts, with the date
moving forward a few days per step. The model is the pure ledger: a dict of
account -> ``LineState`` built with :func:`linewise.ledger.posting.apply`, plus
every accepted idempotency key with its event and first result.
"""

from dataclasses import replace
from datetime import date, timedelta
from typing import Any, ClassVar

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import Engine, func, select, text
from tests.strategies import scaled

from linewise.errors import (
    IdempotencyConflictError,
    LedgerRejected,
    UnknownAccountError,
)
from linewise.ledger.events import (
    DrawdownPosted,
    Event,
    LimitChanged,
    LineOpened,
    RepaymentPosted,
    StatusChanged,
)
from linewise.ledger.model import LineState, LineStatus
from linewise.ledger.posting import Posted, apply, due_amount, payoff_amount, replay
from linewise.ledger.service import (
    drawdown_event,
    load_product,
    post_event,
    read_state,
)
from linewise.ledger.store.repository import load_account_events
from linewise.ledger.store.tables import events as events_table

PRODUCT = load_product(None)
START = date(2025, 1, 31)
ACCOUNTS = ("A", "B", "C")
TABLES = ("allocations", "instalments", "drawdowns", "limit_history", "events", "lines")

gaps = st.integers(min_value=0, max_value=12)
limits = st.one_of(
    st.sampled_from([0, 50_000, 500_000, 1_000_000, 2_000_000]),
    st.integers(min_value=0, max_value=5_000_000),
)
# The statuses asked for, by current status: mostly the allowed move, an unfreeze more
# often than a freeze so that lines are open to drawdowns most of the time, and some
# moves the ledger refuses. Closing (allowed only with nothing owed) ends a line.
ACTIVE, FROZEN, CLOSED = LineStatus.ACTIVE, LineStatus.FROZEN, LineStatus.CLOSED
NEXT_STATUS = {
    ACTIVE: [FROZEN, FROZEN, ACTIVE, CLOSED],
    FROZEN: [ACTIVE, ACTIVE, ACTIVE, FROZEN, CLOSED],
    CLOSED: [ACTIVE, FROZEN, CLOSED],
}
terms = st.sampled_from(PRODUCT.terms_months)
methods = st.sampled_from([m.value for m in PRODUCT.methods])
draw_amounts = st.integers(min_value=PRODUCT.drawdown_min, max_value=PRODUCT.drawdown_max)


def clear(engine: Engine) -> None:
    with engine.begin() as conn:
        for table in TABLES:
            conn.execute(text(f"DELETE FROM {table}"))


class LedgerMachine(RuleBasedStateMachine):
    """Posts through the store and through ``apply`` and compares the two."""

    engine: ClassVar[Engine]

    def __init__(self) -> None:
        super().__init__()
        clear(self.engine)
        self.model: dict[str, LineState] = {}
        self.posted: dict[str, tuple[Event, dict[str, Any]]] = {}
        self.day = START
        self.serial = 0

    # --- helpers ------------------------------------------------------------

    def next_key(self) -> str:
        self.serial += 1
        return f"k{self.serial}"

    def advance(self, gap: int) -> date:
        self.day += timedelta(days=gap)
        return self.day

    def event_count(self) -> int:
        with self.engine.connect() as conn:
            count = conn.execute(select(func.count()).select_from(events_table)).scalar_one()
            conn.rollback()
        return count

    def store_snapshot(self) -> tuple[int, dict[str, LineState]]:
        return self.event_count(), {a: read_state(self.engine, a) for a in self.model}

    def post(self, event: Event) -> None:
        """Post on both sides: accepted by both with equal states, or refused by both."""
        expected: Posted | LedgerRejected
        try:
            expected = apply(self.model.get(event.account_id), event)
        except LedgerRejected as exc:
            expected = exc
        before = self.store_snapshot()
        if isinstance(expected, LedgerRejected):
            with pytest.raises(LedgerRejected) as info:
                post_event(self.engine, event)
            assert info.value.code == expected.code
            assert self.store_snapshot() == before
            return
        posted = post_event(self.engine, event)
        assert not posted.duplicate
        state = expected.state
        assert posted.result["principal_outstanding"] == state.principal_outstanding
        assert posted.result["credit_limit"] == state.line.credit_limit
        assert posted.result["status"] == state.line.status.value
        self.model[event.account_id] = state
        self.posted[event.idempotency_key] = (event, posted.result)
        assert self.event_count() == before[0] + 1

    # --- rules --------------------------------------------------------------

    def open_line(self, account: str, limit: int, gap: int) -> None:
        self.post(
            LineOpened(
                account_id=account,
                occurred_on=self.advance(gap),
                idempotency_key=self.next_key(),
                customer_id=f"cust-{account}",
                currency="CNY",
                credit_limit=limit,
            )
        )

    @initialize(limit=st.integers(min_value=300_000, max_value=5_000_000))
    def open_the_first_line(self, limit):
        self.open_line(ACCOUNTS[0], limit, 0)

    @precondition(lambda self: len(self.model) < len(ACCOUNTS))
    @rule(limit=limits, gap=gaps)
    def open_another_line(self, limit, gap):
        self.open_line(next(a for a in ACCOUNTS if a not in self.model), limit, gap)

    @rule(data=st.data(), limit=limits, gap=gaps)
    def open_a_line_already_open(self, data, limit, gap):
        self.open_line(data.draw(st.sampled_from(sorted(self.model)), label="account"), limit, gap)

    def draw(self, data: st.DataObject, amounts: st.SearchStrategy[int], term: int, method: str, gap: int) -> None:
        account = data.draw(st.sampled_from(sorted(self.model)), label="account")
        state = self.model[account]
        self.post(
            drawdown_event(
                PRODUCT,
                state,
                account_id=account,
                amount=data.draw(amounts, label="amount"),
                term_months=term,
                method=method,
                purpose="daily_consumption",
                occurred_on=self.advance(gap),
                idempotency_key=self.next_key(),
            )
        )

    @rule(data=st.data(), term=terms, method=methods, gap=gaps)
    def draw_within_the_available_credit(self, data, term, method, gap):
        available = max(self.model[a].available_credit for a in self.model)
        fits = max(PRODUCT.drawdown_min, min(available, PRODUCT.drawdown_max))
        self.draw(data, st.integers(min_value=PRODUCT.drawdown_min, max_value=fits), term, method, gap)

    @rule(data=st.data(), term=terms, method=methods, gap=gaps)
    def draw_any_amount_the_product_offers(self, data, term, method, gap):
        self.draw(data, draw_amounts, term, method, gap)

    def repay(self, data: st.DataObject, gap: int, *, exact: bool) -> None:
        owing = sorted(a for a, s in self.model.items() if s.principal_outstanding > 0)
        account = data.draw(st.sampled_from(owing or sorted(self.model)), label="account")
        on = self.advance(gap)
        state = self.model[account]
        payoff = payoff_amount(state, on)
        if exact:
            due = due_amount(state, on)
            amounts = st.sampled_from(sorted({1, max(1, due), max(1, payoff), payoff + 1}))
        else:
            amounts = st.one_of(
                st.integers(min_value=1, max_value=max(1, payoff)), st.integers(min_value=1, max_value=3_000_000)
            )
        self.post(
            RepaymentPosted(
                account_id=account,
                occurred_on=on,
                idempotency_key=self.next_key(),
                amount=data.draw(amounts, label="amount"),
            )
        )

    @rule(data=st.data(), gap=gaps)
    def repay_some_amount(self, data, gap):
        self.repay(data, gap, exact=False)

    @rule(data=st.data(), gap=gaps)
    def repay_what_is_due_the_payoff_or_one_more(self, data, gap):
        self.repay(data, gap, exact=True)

    @rule(data=st.data(), gap=gaps)
    def set_limit(self, data, gap):
        account = data.draw(st.sampled_from(sorted(self.model)), label="account")
        current = self.model[account].line.credit_limit
        new_limit = data.draw(st.one_of(st.just(current), limits), label="new_limit")
        self.post(
            LimitChanged(
                account_id=account,
                occurred_on=self.advance(gap),
                idempotency_key=self.next_key(),
                new_limit=new_limit,
                reason_code="review",
                decision_ref=f"dec-{self.serial}",
            )
        )

    @rule(data=st.data(), gap=gaps)
    def change_status(self, data, gap):
        account = data.draw(st.sampled_from(sorted(self.model)), label="account")
        current = self.model[account].line.status
        status = data.draw(st.sampled_from(NEXT_STATUS[current]), label="status")
        self.post(
            StatusChanged(
                account_id=account,
                occurred_on=self.advance(gap),
                idempotency_key=self.next_key(),
                new_status=status,
                reason_code="freeze" if status is FROZEN else "review",
            )
        )

    @rule(amount=st.integers(min_value=1, max_value=100_000), gap=gaps)
    def repay_an_account_never_opened(self, amount, gap):
        before = self.store_snapshot()
        with pytest.raises(UnknownAccountError):
            post_event(
                self.engine,
                RepaymentPosted(
                    account_id="nobody", occurred_on=self.advance(gap), idempotency_key=self.next_key(), amount=amount
                ),
            )
        assert self.store_snapshot() == before

    @precondition(lambda self: self.posted)
    @rule(data=st.data())
    def repost_an_existing_key(self, data):
        key = data.draw(st.sampled_from(sorted(self.posted)), label="key")
        event, first = self.posted[key]
        before = self.store_snapshot()
        again = post_event(self.engine, event)
        assert again.duplicate
        assert again.result == first
        assert self.store_snapshot() == before

    @precondition(lambda self: any(isinstance(e, DrawdownPosted | RepaymentPosted) for e, _ in self.posted.values()))
    @rule(data=st.data(), delta=st.integers(min_value=-40_000, max_value=40_000).filter(bool))
    def repost_a_key_with_a_different_amount(self, data, delta):
        keys = sorted(k for k, (e, _) in self.posted.items() if isinstance(e, DrawdownPosted | RepaymentPosted))
        key = data.draw(st.sampled_from(keys), label="key")
        event, _ = self.posted[key]
        changed = replace(event, amount=max(1, event.amount + delta))
        if changed.amount == event.amount:
            changed = replace(event, amount=event.amount + 1)
        before = self.store_snapshot()
        with pytest.raises(IdempotencyConflictError) as info:
            post_event(self.engine, changed)
        assert info.value.code == "event_exists_with_different_amount"
        assert self.store_snapshot() == before

    # --- invariants ---------------------------------------------------------

    @invariant()
    def store_state_equals_the_model(self):
        for account, expected in self.model.items():
            stored = read_state(self.engine, account)
            assert stored == expected
            assert stored.principal_outstanding >= 0
            assert all(i.principal_paid <= i.principal_due for d in stored.drawdowns for i in d.instalments)

    @invariant()
    def event_log_holds_exactly_the_accepted_events(self):
        assert self.event_count() == len(self.posted)

    @invariant()
    def event_log_replays_to_the_model(self):
        with self.engine.connect() as conn:
            for account, expected in self.model.items():
                assert replay(load_account_events(conn, account)).state == expected
            conn.rollback()


@pytest.mark.parametrize("db", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def test_the_store_behaves_like_folding_events_with_apply(request, db):
    engine = request.getfixturevalue("sqlite_engine" if db == "sqlite" else "pg_engine")
    machine = type(f"LedgerOn{db.capitalize()}", (LedgerMachine,), {"engine": engine})
    run_state_machine_as_test(
        machine,
        settings=settings(
            max_examples=scaled(25 if db == "sqlite" else 10),
            stateful_step_count=20,
            deadline=None,
        ),
    )
