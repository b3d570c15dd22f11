from dataclasses import replace
from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.strategies import event_sequences, scaled

from linewise.errors import LedgerRejected
from linewise.ledger.dpd import bucket_of, dpd_as_of, is_instalment_on_time
from linewise.ledger.events import (
    LimitChanged,
    LineOpened,
    RepaymentPosted,
    Reversal,
    StatusChanged,
)
from linewise.ledger.model import LineStatus
from linewise.ledger.posting import apply, due_amount, payoff_amount, replay
from linewise.ledger.product import Prepayment, Product
from linewise.ledger.service import drawdown_event

PRODUCT = Product()
OPENED = date(2025, 1, 31)


def opened(limit=2_000_000):
    return apply(
        None,
        LineOpened(
            account_id="A", occurred_on=OPENED, idempotency_key="o", customer_id="C", currency="CNY", credit_limit=limit
        ),
    ).state


def draw(state, amount, term=12, on=OPENED, key="d1", method="equal_instalment", product=PRODUCT):
    event = drawdown_event(
        product,
        state,
        account_id="A",
        amount=amount,
        term_months=term,
        method=method,
        purpose="travel",
        occurred_on=on,
        idempotency_key=key,
    )
    return apply(state, event).state


def pay(state, amount, on, key="p"):
    return apply(state, RepaymentPosted(account_id="A", occurred_on=on, idempotency_key=key, amount=amount))


def test_drawdown_equal_to_available_limit_is_accepted_and_one_more_fen_is_not():
    state = draw(opened(1_000_000), 950_000)
    assert state.available_credit == 50_000
    with pytest.raises(LedgerRejected) as info:
        draw(state, 50_001, key="d2")
    assert info.value.code == "exceeds_available_limit"
    assert draw(state, 50_000, key="d2").available_credit == 0


def test_frozen_line_refuses_drawdowns_but_takes_repayments():
    state = draw(opened(), 600_000)
    state = apply(
        state,
        StatusChanged(
            account_id="A",
            occurred_on=OPENED,
            idempotency_key="f",
            new_status=LineStatus.FROZEN,
            reason_code="dpd_above_max",
        ),
    ).state
    with pytest.raises(LedgerRejected) as info:
        draw(state, 60_000, key="d2")
    assert info.value.code == "line_frozen"
    assert pay(state, 10_000, OPENED + timedelta(days=3)).state.principal_outstanding < 600_000


def test_drawdown_racing_a_limit_cut_is_judged_against_the_new_limit():
    state = apply(
        opened(),
        LimitChanged(
            account_id="A", occurred_on=OPENED, idempotency_key="l", new_limit=500_000, reason_code="pd_deteriorated"
        ),
    ).state
    with pytest.raises(LedgerRejected, match=r"available credit 5,000\.00"):
        draw(state, 600_000)


def test_a_payment_on_the_due_date_settles_the_instalment_on_time():
    state = draw(opened(), 1_200_000)
    first = state.drawdowns[0].instalments[0]
    posted = pay(state, first.amount_due, first.due_on)
    drawdown = posted.state.drawdowns[0]
    assert drawdown.instalments[0].settled_on == first.due_on
    assert is_instalment_on_time(drawdown, drawdown.instalments[0], first.due_on) is True
    assert {a.component for a in posted.allocations} == {"interest", "principal"}


def test_grace_days_waive_penalty_and_lateness_but_not_dpd():
    state = draw(opened(), 1_200_000)
    first = state.drawdowns[0].instalments[0]
    in_grace = first.due_on + timedelta(days=PRODUCT.grace_days)
    assert dpd_as_of(state, in_grace) == PRODUCT.grace_days
    assert due_amount(state, in_grace) == first.amount_due  # no penalty yet
    after = pay(state, first.amount_due, in_grace).state.drawdowns[0]
    assert is_instalment_on_time(after, after.instalments[0], in_grace) is True
    late = first.due_on + timedelta(days=PRODUCT.grace_days + 1)
    assert due_amount(state, late) > first.amount_due  # penalty from the due date
    after = pay(state, due_amount(state, late), late).state.drawdowns[0]
    assert is_instalment_on_time(after, after.instalments[0], late) is False


def test_repayment_pays_penalty_then_interest_then_principal_oldest_first():
    state = draw(opened(), 1_200_000)
    second_due = state.drawdowns[0].instalments[1].due_on
    posted = pay(state, 50_000, second_due + timedelta(days=10))
    components = [(a.component, a.instalment_number) for a in posted.allocations]
    assert components[0] == ("penalty", 1)
    interest = [c for c in components if c[0] == "interest"]
    assert interest[0] == ("interest", 1)
    last_interest = components.index(interest[-1])
    assert all(c[0] != "principal" for c in components[:last_interest])
    assert all(c[0] == "principal" for c in components[last_interest + 1 :])
    principal = [n for c, n in components if c == "principal"]
    assert principal == sorted(principal)  # oldest instalment first


def test_payoff_clears_the_line_and_charges_interest_only_to_that_day():
    state = draw(opened(), 1_200_000)
    day = OPENED + timedelta(days=10)
    owed = payoff_amount(state, day)
    scheduled_interest = state.drawdowns[0].instalments[0].interest_due
    assert 1_200_000 < owed < 1_200_000 + scheduled_interest
    cleared = pay(state, owed, day).state
    assert cleared.principal_outstanding == 0
    assert cleared.available_credit == 2_000_000
    with pytest.raises(LedgerRejected) as info:
        pay(state, owed + 1, day)
    assert info.value.code == "exceeds_amount_outstanding"


@pytest.mark.parametrize("mode", list(Prepayment))
def test_prepayment_shortens_the_term_or_lowers_the_instalment(mode):
    product = Product(prepayment=mode)
    state = draw(opened(), 1_200_000, product=product)
    before = state.drawdowns[0].instalments
    day = OPENED + timedelta(days=5)
    after = pay(state, before[0].amount_due + 400_000, day).state.drawdowns[0].instalments
    assert sum(i.principal_due for i in after) == 1_200_000
    if mode is Prepayment.SHORTEN_TERM:
        assert len(after) < len(before)
        assert after[1].amount_due == before[1].amount_due
    else:
        assert len(after) == len(before)
        assert after[1].amount_due < before[1].amount_due


def test_drawdown_is_refused_while_past_due():
    state = draw(opened(), 600_000)
    late = state.drawdowns[0].instalments[0].due_on + timedelta(days=1)
    with pytest.raises(LedgerRejected) as info:
        draw(state, 60_000, on=late, key="d2")
    assert info.value.code == "account_past_due"


def test_back_dated_event_is_refused():
    state = draw(opened(), 600_000, on=OPENED + timedelta(days=5))
    with pytest.raises(LedgerRejected) as info:
        pay(state, 100, OPENED)
    assert info.value.code == "occurred_on_before_last_event"


def test_reversed_repayment_restores_what_it_paid():
    events = [
        LineOpened(
            account_id="A",
            occurred_on=OPENED,
            idempotency_key="o",
            customer_id="C",
            currency="CNY",
            credit_limit=2_000_000,
        ),
        drawdown_event(
            PRODUCT,
            None,
            account_id="A",
            amount=600_000,
            term_months=6,
            method="equal_instalment",
            purpose="travel",
            occurred_on=OPENED,
            idempotency_key="d1",
        ),
        RepaymentPosted(account_id="A", occurred_on=OPENED + timedelta(days=3), idempotency_key="p1", amount=200_000),
    ]
    paid = replay(events)
    reversed_ = replay(
        [
            *events,
            Reversal(
                account_id="A",
                occurred_on=OPENED + timedelta(days=4),
                idempotency_key="r1",
                target_key="p1",
                reason_code="payment_returned",
            ),
        ]
    )
    assert paid.state.principal_outstanding < 600_000
    assert reversed_.state.principal_outstanding == 600_000
    assert reversed_.allocations == ()
    assert reversed_.state.available_credit == 2_000_000 - 600_000
    assert reversed_.state.last_event_on == OPENED + timedelta(days=4)


def test_buckets_have_the_usual_edges():
    assert [bucket_of(d) for d in (0, 1, 30, 31, 60, 61, 90, 91)] == [
        "current",
        "1-30",
        "1-30",
        "31-60",
        "31-60",
        "61-90",
        "61-90",
        "90+",
    ]


def _post_all(events):
    state, accepted, allocations = None, [], []
    for event in events:
        try:
            posted = apply(state, event)
        except LedgerRejected:
            continue
        if isinstance(event, RepaymentPosted):
            assert sum(a.amount for a in posted.allocations) == event.amount
        state = posted.state
        accepted.append(event)
        allocations.extend(posted.allocations)
    return state, accepted, allocations


@settings(max_examples=scaled(200), deadline=None)
@given(event_sequences())
def test_any_valid_sequence_conserves_money_and_replays_to_the_same_state(events):
    state, accepted, allocations = _post_all(events)
    for drawdown in state.drawdowns:
        assert sum(i.principal_due for i in drawdown.instalments) == drawdown.principal
        for i in drawdown.instalments:
            assert 0 <= i.principal_paid <= i.principal_due
            assert 0 <= i.interest_paid <= i.interest_due
            assert 0 <= i.penalty_paid <= i.penalty_accrued
    assert state.principal_outstanding >= 0
    assert state.principal_outstanding <= sum(d.principal for d in state.drawdowns)
    drawn = sum(d.principal for d in state.drawdowns)
    repaid_principal = sum(a.amount for a in allocations if a.component == "principal")
    assert drawn - repaid_principal == state.principal_outstanding
    again = replay(accepted)
    assert again.state == state
    assert list(again.allocations) == allocations


@settings(max_examples=scaled(100), deadline=None)
@given(event_sequences(), st.integers(min_value=0, max_value=60))
def test_paying_the_payoff_amount_always_clears_the_line(events, days):
    state, accepted, _ = _post_all(events)
    day = accepted[-1].occurred_on + timedelta(days=days)
    owed = payoff_amount(state, day)
    if owed == 0:
        return
    cleared = pay(replace(state), owed, day, key="payoff").state
    assert cleared.principal_outstanding == 0
    assert payoff_amount(cleared, day) == 0
