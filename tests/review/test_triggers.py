"""A trigger's answer from a line's state alone agrees with the one it gives on the book read from the ledger.

The service, holding a line's state just after posting a repayment, asks the trigger
whether the line could be due before reading the book; a line it says no to must be
one the book would not call for, or a cleared arrears would go undecided.
"""

from __future__ import annotations

import itertools
from datetime import date, timedelta

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.strategies import event_sequences, scaled

from linewise.errors import InputError
from linewise.ledger.events import LineOpened
from linewise.ledger.service import post_event
from linewise.review.account import could_be_due
from linewise.review.sources import book_from_ledger, month_described
from linewise.review.triggers import TRIGGERS, DueQuery

_ACCOUNTS = itertools.count(1)


def due_on_the_book(engine, account: str, trigger: str, as_of) -> bool:
    """Whether ``trigger`` calls for ``account`` on the book read from the ledger as of ``as_of``."""
    book = book_from_ledger(engine, as_of, account)
    query = DueQuery(
        accounts=pd.Index([account], name="account_id", dtype="str"),
        panel=book.panel,
        customers=book.customers,
        as_of=as_of,
        log=None,
        cycle_days=0,
        month=month_described(book),
    )
    return account in TRIGGERS[trigger].due(query)


@settings(
    max_examples=scaled(60),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data(), later=st.integers(min_value=0, max_value=70))
def test_the_repayment_trigger_read_from_a_lines_state_is_the_one_read_from_the_book(sqlite_engine, data, later):
    account = f"T{next(_ACCOUNTS)}"
    sequence = data.draw(event_sequences(account_id=account, max_steps=10))
    state = None
    for event in sequence:
        try:
            posted = post_event(sqlite_engine, event)
        except InputError:
            continue  # the ledger refused it (over the limit, above the payoff): nothing posted
        state = posted.state
        assert state is not None
        day = event.occurred_on
        assert could_be_due("repayment", state, day) == due_on_the_book(sqlite_engine, account, "repayment", day), day
    # Days pass with no event: arrears may come due, and the month turn.
    assert state is not None
    day = sequence[-1].occurred_on + timedelta(days=later)
    assert could_be_due("repayment", state, day) == due_on_the_book(sqlite_engine, account, "repayment", day), day


def test_a_trigger_with_no_rule_on_a_lines_state_could_always_be_due(sqlite_engine):
    opened = LineOpened(
        account_id="N1",
        occurred_on=date(2025, 3, 1),
        idempotency_key="open",
        customer_id="C1",
        currency="CNY",
        credit_limit=100_000,
    )
    state = post_event(sqlite_engine, opened).state
    assert state is not None
    assert could_be_due("income_proof", state, date(2025, 3, 1))
    assert could_be_due("review", state, date(2025, 3, 1))
    assert not could_be_due("repayment", state, date(2025, 3, 1)), "a line never in arrears"
