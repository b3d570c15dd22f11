"""The bureau's records on SQLite and PostgreSQL: histories, statuses and sums agree with the ledger's own figures."""

from __future__ import annotations

import itertools
from datetime import date, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.strategies import scaled

from linewise.calendar import add_months, month_end, month_ends
from linewise.errors import InputError, LedgerRejected, UnknownAccountError
from linewise.ledger.book import BookSpec, simulate_book
from linewise.ledger.bureau import (
    HISTORY_MONTHS,
    BureauRecord,
    RecordType,
    ReportStatus,
    account_records,
    history_month_ends,
    is_reported,
    months_late,
)
from linewise.ledger.credit_report import account_report, book_report, customer_report
from linewise.ledger.dpd import BUCKETS, bucket_of
from linewise.ledger.events import LineOpened, RepaymentPosted, Reversal, StatusChanged
from linewise.ledger.model import LineStatus
from linewise.ledger.posting import due_amount, payoff_amount
from linewise.ledger.product import Product
from linewise.ledger.service import drawdown_event, export_panel, post_book, post_event, read_state, statement
from linewise.ledger.store import read_snapshot
from linewise.ledger.store.repository import load_account_events

PRODUCT = Product()
OPENED = date(2025, 1, 15)


# --- posting with the ledger's own functions ---------------------------------------------


def open_line(engine, account="A", customer="C", limit=5_000_000, on=OPENED):
    post_event(
        engine,
        LineOpened(
            account_id=account,
            occurred_on=on,
            idempotency_key=f"{account}-open",
            customer_id=customer,
            currency="CNY",
            credit_limit=limit,
        ),
    )


def draw(engine, account, on, amount=600_000, term=6):
    event = drawdown_event(
        PRODUCT,
        None,
        account_id=account,
        amount=amount,
        term_months=term,
        method="equal_instalment",
        purpose="travel",
        occurred_on=on,
        idempotency_key=f"{account}-draw-{on}",
    )
    post_event(engine, event)


def pay(engine, account, on, amount, key=None):
    post_event(
        engine,
        RepaymentPosted(
            account_id=account, occurred_on=on, idempotency_key=key or f"{account}-pay-{on}", amount=amount
        ),
    )


def pay_due(engine, account, on):
    """Pay everything due on ``on`` (penalty included), as a customer catching up does."""
    amount = due_amount(read_state(engine, account), on)
    assert amount > 0
    pay(engine, account, on, amount)


def pay_off(engine, account, on):
    pay(engine, account, on, payoff_amount(read_state(engine, account), on))


def by_ref(records):
    return {record.record_ref: record for record in records}


def ledger_months_late(engine, account, end):
    """What the ledger says: the statement's days past due at the month end, told in months."""
    return months_late(statement(engine, account, end).dpd)


def late_of(symbol):
    return int(symbol) if symbol.isdigit() else 0


# --- the history ---------------------------------------------------------------------------


def test_history_covers_24_month_ends_oldest_first():
    ends = history_month_ends(date(2026, 3, 14))
    assert len(ends) == HISTORY_MONTHS == 24
    assert ends[0] == date(2024, 4, 30) and ends[-1] == date(2026, 3, 31)
    assert ends == sorted(ends) and ends == month_ends(ends[0], ends[-1])


@pytest.mark.parametrize(
    ("dpd", "late"),
    [(0, 0), (1, 1), (30, 1), (31, 2), (60, 2), (61, 3), (90, 3), (91, 4), (180, 6), (181, 7), (10_000, 7)],
)
def test_months_late_splits_days_past_due_at_each_30_days_up_to_7(dpd, late):
    assert months_late(dpd) == late
    assert bucket_of(dpd) == BUCKETS[min(late, len(BUCKETS) - 1)]


def test_a_loan_repaid_on_time_reports_on_time_every_month_it_is_open(engine):
    open_line(engine)
    draw(engine, "A", OPENED)
    for month in range(1, 5):
        pay_due(engine, "A", add_months(OPENED, month))
    records = by_ref(account_report(engine, "A", date(2025, 5, 31)))
    assert list(records) == ["A", "A/1"]
    for record in records.values():
        assert record.history == "/" * 19 + "NNNNN"
        assert record.status is ReportStatus.CURRENT
        assert record.months_late == record.days_past_due == record.amount_past_due == 0
    loan = records["A/1"]
    assert loan.record_type is RecordType.LOAN and loan.loan_seq == 1
    assert loan.original_amount == 600_000 and loan.term_months == 6 and loan.opened_on == OPENED
    assert loan.matures_on == date(2025, 7, 15)
    assert loan.balance == read_state(engine, "A").principal_outstanding
    assert loan.last_payment_on == date(2025, 5, 15)


def test_a_loan_paid_one_then_two_months_late_shows_1_then_2_then_on_time_once_cleared(engine):
    open_line(engine)
    draw(engine, "A", OPENED)
    # February's and March's instalments are missed; on 15 April all three due are paid.
    pay_due(engine, "A", date(2025, 4, 15))
    pay_due(engine, "A", date(2025, 5, 15))
    loan = by_ref(account_report(engine, "A", date(2025, 5, 31)))["A/1"]
    assert loan.history[-5:] == "N12NN"
    ends = history_month_ends(date(2025, 5, 31))
    for symbol, end in zip(loan.history[-5:], ends[-5:], strict=True):
        assert late_of(symbol) == ledger_months_late(engine, "A", end), end
    march = by_ref(account_report(engine, "A", date(2025, 3, 31)))
    for record in march.values():
        assert record.status is ReportStatus.PAST_DUE
        assert record.days_past_due == statement(engine, "A", date(2025, 3, 31)).dpd == 44
        assert record.months_late == 2
        assert record.amount_past_due == sum(i.amount_due for i in read_state(engine, "A").drawdowns[0].instalments[:2])
        assert record.history.endswith("N12")


def test_a_paid_off_loan_reports_zero_balance_paid_off_and_leaves_the_file_the_month_after(engine):
    open_line(engine)
    draw(engine, "A", OPENED)
    pay_due(engine, "A", date(2025, 2, 15))
    pay_off(engine, "A", date(2025, 3, 10))
    march = by_ref(account_report(engine, "A", date(2025, 3, 31)))
    loan = march["A/1"]
    assert loan.balance == loan.amount_past_due == loan.months_late == 0
    assert loan.status is ReportStatus.PAID_OFF and loan.closed_on == date(2025, 3, 10)
    assert loan.history.endswith("NNC")
    assert is_reported(loan)
    assert march["A"].status is ReportStatus.CURRENT and march["A"].balance == 0

    april = by_ref(account_report(engine, "A", date(2025, 4, 30)))
    assert april["A/1"].history.endswith("NNCC") and april["A/1"].status is ReportStatus.PAID_OFF
    assert not is_reported(april["A/1"])
    assert [r.record_ref for r in book_report(engine, date(2025, 3, 31))] == ["A", "A/1"]
    assert [r.record_ref for r in book_report(engine, date(2025, 4, 30))] == ["A"]


def test_a_closed_line_is_reported_closed_in_its_month_and_not_after(engine):
    open_line(engine)
    draw(engine, "A", OPENED)
    pay_off(engine, "A", date(2025, 2, 10))
    post_event(
        engine,
        StatusChanged(
            account_id="A",
            occurred_on=date(2025, 3, 5),
            idempotency_key="close",
            new_status=LineStatus.CLOSED,
            reason_code="customer_request",
        ),
    )
    line = by_ref(account_report(engine, "A", date(2025, 3, 31)))["A"]
    assert line.status is ReportStatus.CLOSED and line.closed_on == date(2025, 3, 5)
    assert line.history.endswith("NNC")
    assert [r.record_ref for r in book_report(engine, date(2025, 3, 31))] == ["A"]
    assert list(book_report(engine, date(2025, 4, 30))) == []


def test_a_loan_drawn_mid_history_is_not_open_before_its_month(engine):
    open_line(engine)
    draw(engine, "A", OPENED)
    for month in range(1, 4):
        pay_due(engine, "A", add_months(OPENED, month))
    draw(engine, "A", date(2025, 4, 20), amount=300_000, term=3)
    pay_due(engine, "A", date(2025, 5, 15))
    pay_due(engine, "A", date(2025, 5, 20))
    records = by_ref(account_report(engine, "A", date(2025, 5, 31)))
    assert records["A/1"].history == "/" * 19 + "NNNNN"
    assert records["A/2"].history == "/" * 22 + "NN"
    assert records["A/2"].opened_on == date(2025, 4, 20)
    assert records["A"].balance == records["A/1"].balance + records["A/2"].balance
    assert records["A"].history == "/" * 19 + "NNNNN"


def test_a_history_of_a_line_older_than_24_months_has_no_month_before_opening(engine):
    open_line(engine)
    records = account_report(engine, "A", date(2027, 6, 30))
    assert [r.history for r in records] == ["N" * 24]


def test_a_reversed_repayment_is_reported_as_if_it_was_never_made(engine):
    open_line(engine)
    draw(engine, "A", OPENED)
    pay_due(engine, "A", date(2025, 2, 15))
    post_event(
        engine,
        Reversal(
            account_id="A",
            occurred_on=date(2025, 3, 2),
            idempotency_key="bounced",
            target_key="A-pay-2025-02-15",
            reason_code="payment_returned",
        ),
    )
    line = by_ref(account_report(engine, "A", date(2025, 3, 31)))["A"]
    assert line.history.endswith("N12")
    assert line.last_payment_on is None and line.actual_payment == 0
    # February's file, made before the reversal was posted, said the payment was made.
    assert by_ref(account_report(engine, "A", date(2025, 2, 28)))["A"].history.endswith("NN")


def test_records_come_from_the_events_up_to_the_month_end_only(engine):
    open_line(engine)
    draw(engine, "A", OPENED)
    pay_off(engine, "A", date(2025, 6, 2))
    with read_snapshot(engine) as conn:
        events = load_account_events(conn, "A")
    may = date(2025, 5, 31)
    assert account_records(events, may) == account_records([e for e in events if e.occurred_on <= may], may)
    assert account_records(events, date(2024, 12, 31)) == ()


def test_an_unknown_account_or_a_month_before_the_line_is_refused(engine):
    open_line(engine)
    with pytest.raises(UnknownAccountError):
        account_report(engine, "Z", date(2025, 3, 31))
    with pytest.raises(InputError) as info:
        account_report(engine, "A", date(2024, 12, 31))
    assert info.value.code == "as_of_before_line_opened"
    with pytest.raises(InputError) as info:
        customer_report(engine, "nobody", date(2025, 3, 31))
    assert info.value.code == "customer_not_found"


def test_a_customer_report_holds_the_customer_lines_opened_by_the_month(engine):
    open_line(engine, "A", customer="C1")
    open_line(engine, "B", customer="C1", on=date(2025, 4, 2))
    open_line(engine, "D", customer="C2")
    draw(engine, "A", OPENED)
    assert [r.record_ref for r in customer_report(engine, "C1", date(2025, 3, 31))] == ["A", "A/1"]
    assert [r.record_ref for r in customer_report(engine, "C1", date(2025, 4, 30))] == ["A", "A/1", "B"]


# --- the whole book, against the ledger's panel -------------------------------------------------

BOOK = BookSpec(lines=12, months=14, start=date(2025, 1, 1), seed=7)
BOOK_LAST = date(2026, 2, 28)


def _post_book(engine):
    post_book(engine, simulate_book(BOOK, PRODUCT))


@pytest.fixture
def book(filled_engine):
    return filled_engine("bureau_book", _post_book)


def test_the_file_has_one_record_per_line_and_open_loan_and_its_sums_agree_with_the_panel(book):
    panel = export_panel(book, BOOK_LAST)
    previous: dict[str, BureauRecord] = {}
    late_months = 0
    for end in month_ends(BOOK.start, BOOK_LAST):
        records = list(book_report(book, end))
        lines = {r.account_id: r for r in records if r.record_type is RecordType.LINE}
        rows = panel[panel["month"] == end].set_index("account_id")
        assert sorted(lines) == sorted(rows.index)
        assert len({r.record_ref for r in records}) == len(records)
        for account, line in lines.items():
            row = rows.loc[account]
            assert (line.balance, line.credit_limit, line.days_past_due) == (row.balance, row.credit_limit, row.dpd)
            assert (line.scheduled_payment, line.actual_payment) == (row.amount_due, row.amount_paid)
            loans = [r for r in records if r.account_id == account and r.record_type is RecordType.LOAN]
            assert sum(loan.balance for loan in loans) == line.balance
            assert sum(loan.amount_past_due for loan in loans) == line.amount_past_due
            assert max((loan.days_past_due for loan in loans), default=0) == line.days_past_due
            state = statement(book, account, end).state
            open_loans = {f"{account}/{d.seq}" for d in state.drawdowns if d.principal_outstanding > 0}
            assert open_loans <= {loan.record_ref for loan in loans}
            late_months += line.months_late > 0
        for record in records:
            assert len(record.history) == HISTORY_MONTHS
            assert late_of(record.history[-1]) == record.months_late
            before = previous.get(record.record_ref)
            if before is not None:
                assert record.history[:-1] == before.history[1:], record.record_ref
        previous = {r.record_ref: r for r in records}
    assert late_months > 0, "the simulated book has late lines to report"


# --- any repayment pattern: the history's lateness is the ledger's month-end DPD -------------------

_accounts = itertools.count(1)
MONTHS = 10
# What the customer does each month: pay all that is due on a day of it (days after the due
# date: on time within the grace days, late after), pay half of it, or nothing.
ACTIONS = st.one_of(
    st.tuples(st.just("pay"), st.integers(0, 25)),
    st.tuples(st.just("half"), st.integers(0, 25)),
    st.tuples(st.just("skip"), st.just(0)),
)


@settings(
    max_examples=scaled(40),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    actions=st.lists(ACTIONS, min_size=MONTHS, max_size=MONTHS),
    second_loan_month=st.one_of(st.none(), st.integers(1, MONTHS - 2)),
    term=st.sampled_from(PRODUCT.terms_months),
)
def test_any_repayment_pattern_gives_a_history_whose_lateness_is_the_ledger_month_end_dpd(
    engine, actions, second_loan_month, term
):
    account = f"P{next(_accounts)}"
    opened = date(2025, 1, 5)
    open_line(engine, account, on=opened)
    draw(engine, account, opened, term=term)
    for month, (action, days_late) in enumerate(actions, start=1):
        day = add_months(opened, month) + timedelta(days=days_late)
        if month == second_loan_month:
            refused = None
            try:
                draw(engine, account, day - timedelta(days=1), amount=200_000, term=3)
            except LedgerRejected as exc:
                refused = exc.code
            assert refused in (None, "account_past_due")
        owed = due_amount(read_state(engine, account), day)
        if action != "skip" and owed > 0:
            pay(engine, account, day, owed if action == "pay" else max(1, owed // 2))
    last = month_end(add_months(opened, MONTHS))
    records = account_report(engine, account, last)
    panel = export_panel(engine, last, account).set_index("month")
    ends = history_month_ends(last)
    line, loans = records[0], records[1:]
    for position, end in enumerate(ends):
        if end not in panel.index:
            assert line.history[position] == "/"
            continue
        dpd = panel.loc[end, "dpd"]
        late = late_of(line.history[position])
        assert late == months_late(dpd), end
        assert bucket_of(dpd) == BUCKETS[min(late, len(BUCKETS) - 1)]
        assert max(late_of(loan.history[position]) for loan in loans) == late
