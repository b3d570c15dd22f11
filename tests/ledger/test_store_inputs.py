"""Typed fields reach the store only in their documented form, the same on SQLite and PostgreSQL.

Every refusal is checked to write nothing: every table is compared before and after.
"""

from dataclasses import replace
from datetime import date, timedelta

import pytest
from tests.ledger.common import snapshot

from linewise.errors import InputError, LedgerRejected
from linewise.inputs import ID_MAX_LENGTH, KEY_MAX_LENGTH, REASON_MAX_LENGTH
from linewise.ledger.events import (
    LimitChanged,
    LineOpened,
    RepaymentPosted,
    Reversal,
    StatusChanged,
)
from linewise.ledger.model import LineStatus
from linewise.ledger.product import Product
from linewise.ledger.service import (
    drawdown_event,
    post_event,
    post_events,
    read_state,
    statement,
)

PRODUCT = Product()
DAY = date(2026, 1, 15)


def opening(account="A1", customer="C1", key="open", on=DAY):
    return LineOpened(
        account_id=account,
        occurred_on=on,
        idempotency_key=key,
        customer_id=customer,
        currency="CNY",
        credit_limit=2_000_000,
    )


def drawdown(account="A1", key="d1", on=DAY, amount=600_000):
    return drawdown_event(
        PRODUCT,
        None,
        account_id=account,
        amount=amount,
        term_months=6,
        method="equal_instalment",
        purpose="travel",
        occurred_on=on,
        idempotency_key=key,
    )


def limit_change(reason="dpd_above_max", key="cut", decision=None, on=DAY):
    return LimitChanged(
        account_id="A1",
        occurred_on=on,
        idempotency_key=key,
        new_limit=1_500_000,
        reason_code=reason,
        decision_ref=decision,
    )


def refused_writing_nothing(engine, event, code):
    before = snapshot(engine)
    with pytest.raises(InputError) as info:
        post_event(engine, event)
    assert info.value.code == code
    assert snapshot(engine) == before
    return info.value


def test_ids_keys_and_reasons_of_the_maximum_length_are_stored_alike_on_every_database(engine):
    account, customer = "A" * ID_MAX_LENGTH, "C" * ID_MAX_LENGTH
    post_event(engine, opening(account, customer, key="k" * KEY_MAX_LENGTH))
    post_event(
        engine,
        LimitChanged(
            account_id=account,
            occurred_on=DAY,
            idempotency_key="K" * KEY_MAX_LENGTH,
            new_limit=1_000_000,
            reason_code="r" * REASON_MAX_LENGTH,
            decision_ref="d" * KEY_MAX_LENGTH,
        ),
    )
    state = read_state(engine, account)
    assert state.line.customer_id == customer and state.line.credit_limit == 1_000_000


@pytest.mark.parametrize(
    ("event", "code"),
    [
        (opening(account="A" * (ID_MAX_LENGTH + 1)), "id_malformed"),
        (opening(customer="C" * (ID_MAX_LENGTH + 1)), "id_malformed"),
        (opening(account="X[/oops]"), "id_malformed"),
        (opening(customer="[red]C9"), "id_malformed"),
        (opening(account="A\x00"), "id_malformed"),
        (opening(account=" A1"), "id_malformed"),
        (opening(key="k" * (KEY_MAX_LENGTH + 1)), "key_malformed"),
        (opening(key="pay\n"), "key_malformed"),
        (opening(on=date(2200, 1, 1)), "date_out_of_range"),
        (opening(on=date(9999, 12, 31)), "date_out_of_range"),
    ],
)
def test_an_opening_with_a_field_out_of_form_is_refused_and_writes_nothing(engine, event, code):
    refused_writing_nothing(engine, event, code)


@pytest.mark.parametrize(
    ("event", "code"),
    [
        (limit_change(reason="r" * (REASON_MAX_LENGTH + 1)), "reason_malformed"),
        (limit_change(reason="X[/oops]"), "reason_malformed"),
        (limit_change(reason="Manual review"), "reason_malformed"),
        (limit_change(decision="d" * (KEY_MAX_LENGTH + 1)), "key_malformed"),
        (
            StatusChanged(
                account_id="A1",
                occurred_on=DAY,
                idempotency_key="f",
                new_status=LineStatus.FROZEN,
                reason_code="x" * 65,
            ),
            "reason_malformed",
        ),
        (
            Reversal(
                account_id="A1",
                occurred_on=DAY,
                idempotency_key="r",
                target_key="t" * (KEY_MAX_LENGTH + 1),
                reason_code="payment_returned",
            ),
            "key_malformed",
        ),
        (replace(drawdown(), purpose="p" * 65), "code_malformed"),
        (
            RepaymentPosted(account_id="A1", occurred_on=date(2200, 1, 1), idempotency_key="p", amount=100),
            "date_out_of_range",
        ),
    ],
)
def test_an_event_on_a_line_with_a_field_out_of_form_is_refused_and_writes_nothing(engine, event, code):
    post_events(engine, [opening(), drawdown()])
    refused_writing_nothing(engine, event, code)


def test_a_batch_with_one_malformed_event_writes_none_of_it(engine):
    before = snapshot(engine)
    with pytest.raises(InputError):
        post_events(engine, [opening(), drawdown(), limit_change(reason="Bad Reason")])
    assert snapshot(engine) == before


def test_an_event_the_day_the_line_opened_is_accepted_and_the_day_before_is_not(engine):
    post_events(engine, [opening(), drawdown(on=DAY)])
    error = refused_writing_nothing(
        engine,
        RepaymentPosted(account_id="A1", occurred_on=DAY - timedelta(days=1), idempotency_key="p", amount=100),
        "occurred_on_before_line_opened",
    )
    assert "2026-01-15" in str(error) and "'2026-01-14'" in str(error)


def test_reversing_a_paid_off_drawdown_names_the_repayment_that_depends_on_it(engine):
    post_events(engine, [opening(), drawdown(amount=50_000)])
    payoff = RepaymentPosted(
        account_id="A1", occurred_on=DAY + timedelta(days=1), idempotency_key="payoff", amount=50_025
    )
    post_event(engine, payoff)
    assert read_state(engine, "A1").principal_outstanding == 0
    error = refused_writing_nothing(
        engine,
        Reversal(
            account_id="A1",
            occurred_on=DAY + timedelta(days=2),
            idempotency_key="rev",
            target_key="d1",
            reason_code="drawdown_cancelled",
        ),
        "reversal_invalidates_later_event",
    )
    assert isinstance(error, LedgerRejected)
    assert "'payoff'" in str(error) and "nothing_outstanding" in str(error)
    assert str(error).endswith("got 'd1'")


def test_a_statement_the_day_the_line_opened_is_given_and_the_day_before_is_refused_by_name(engine):
    post_event(engine, opening())
    assert statement(engine, "A1", DAY).state.line.account_id == "A1"
    with pytest.raises(InputError) as info:
        statement(engine, "A1", DAY - timedelta(days=1))
    assert info.value.code == "as_of_before_line_opened"
    assert "account_id" not in str(info.value)
