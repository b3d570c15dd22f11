"""The store on SQLite and PostgreSQL: postings persist, refusals write nothing."""

from datetime import date, timedelta

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import func, select

from linewise.errors import (
    IdempotencyConflictError,
    LedgerRejected,
    UnknownAccountError,
)
from linewise.ledger.dpd import dpd_as_of
from linewise.ledger.events import LimitChanged, LineOpened, RepaymentPosted, Reversal
from linewise.ledger.posting import replay
from linewise.ledger.product import Product
from linewise.ledger.service import (
    drawdown_event,
    export_panel,
    post_event,
    post_events,
    read_state,
    statement,
)
from linewise.ledger.store.repository import load_account_events, load_state
from linewise.ledger.store.tables import events as events_table
from linewise.ledger.store.tables import metadata

PRODUCT = Product()
DAY = date(2025, 1, 31)


def open_line(engine, account="A", limit=2_000_000, key=None):
    return post_event(
        engine,
        LineOpened(
            account_id=account,
            occurred_on=DAY,
            idempotency_key=key or f"{account}-open",
            customer_id="C",
            currency="CNY",
            credit_limit=limit,
        ),
    )


def draw_event(account="A", amount=1_200_000, on=DAY, key="d1", term=12):
    return drawdown_event(
        PRODUCT,
        None,
        account_id=account,
        amount=amount,
        term_months=term,
        method="equal_instalment",
        purpose="travel",
        occurred_on=on,
        idempotency_key=key,
    )


def event_count(engine):
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(events_table)).scalar_one()


def test_migrations_create_exactly_the_tables_the_code_uses(engine):
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    assert diff == []


def test_the_decision_logs_json_is_compressed_with_lz4_on_postgresql(pg_engine):
    """pglz, PostgreSQL's default, took most of the time a whole book's run took to log."""
    with pg_engine.connect() as conn:
        methods = conn.exec_driver_sql(
            "SELECT attname, attcompression FROM pg_attribute "
            "WHERE attrelid = 'decisions'::regclass AND attname IN ('features', 'context')"
        ).all()
    assert sorted(methods) == [("context", "l"), ("features", "l")]


def test_posted_events_persist_and_equal_a_replay_of_the_log(engine):
    open_line(engine)
    post_event(engine, draw_event())
    post_event(
        engine,
        RepaymentPosted(account_id="A", occurred_on=DAY + timedelta(days=28), idempotency_key="p1", amount=110_016),
    )
    post_event(
        engine,
        RepaymentPosted(account_id="A", occurred_on=DAY + timedelta(days=40), idempotency_key="p2", amount=400_000),
    )
    stored = read_state(engine, "A")
    with engine.connect() as conn:
        assert replay(load_account_events(conn, "A")).state == stored
    assert stored.principal_outstanding < 1_200_000 - 400_000


def test_same_key_same_request_returns_the_original_and_writes_nothing(engine):
    open_line(engine)
    first = post_event(engine, draw_event())
    count = event_count(engine)
    again = post_event(engine, draw_event())
    assert again.duplicate and not first.duplicate
    assert again.result == first.result
    assert event_count(engine) == count
    assert read_state(engine, "A").principal_outstanding == 1_200_000


def test_same_key_different_request_is_refused_naming_the_field(engine):
    open_line(engine)
    post_event(engine, draw_event())
    with pytest.raises(IdempotencyConflictError) as info:
        post_event(engine, draw_event(amount=1_300_000))
    assert info.value.code == "event_exists_with_different_amount"
    assert read_state(engine, "A").principal_outstanding == 1_200_000


def test_refused_event_writes_nothing(engine):
    open_line(engine, limit=1_000_000)
    count = event_count(engine)
    before = read_state(engine, "A")
    with pytest.raises(LedgerRejected) as info:
        post_event(engine, draw_event(amount=1_000_001 // 100 * 100 + 100))
    assert info.value.code == "exceeds_available_limit"
    assert event_count(engine) == count
    assert read_state(engine, "A") == before


def test_a_batch_with_one_bad_event_writes_none_of_it(engine):
    open_line(engine)
    with pytest.raises(LedgerRejected):
        post_events(engine, [draw_event(), draw_event(key="d2", amount=1_000_000)])
    assert read_state(engine, "A").drawdowns == ()


def test_unknown_account_is_refused(engine):
    with pytest.raises(UnknownAccountError):
        post_event(engine, draw_event(account="nobody"))
    assert event_count(engine) == 0


def test_opening_an_existing_account_is_refused(engine):
    open_line(engine)
    with pytest.raises(LedgerRejected) as info:
        open_line(engine, key="another-key")
    assert info.value.code == "account_exists"


def test_reversal_is_a_new_event_and_rebuilds_the_state(engine):
    open_line(engine)
    post_event(engine, draw_event())
    post_event(
        engine,
        RepaymentPosted(account_id="A", occurred_on=DAY + timedelta(days=5), idempotency_key="p1", amount=300_000),
    )
    post_event(
        engine,
        Reversal(
            account_id="A",
            occurred_on=DAY + timedelta(days=6),
            idempotency_key="r1",
            target_key="p1",
            reason_code="payment_returned",
        ),
    )
    assert read_state(engine, "A").principal_outstanding == 1_200_000
    assert event_count(engine) == 4  # nothing deleted
    with pytest.raises(LedgerRejected) as info:
        post_event(
            engine,
            Reversal(
                account_id="A",
                occurred_on=DAY + timedelta(days=7),
                idempotency_key="r2",
                target_key="p1",
                reason_code="dup",
            ),
        )
    assert info.value.code == "event_already_reversed"


def test_month_end_panel_agrees_with_a_replay_at_each_month_end(engine):
    open_line(engine, "A")
    open_line(engine, "B", limit=500_000)
    post_event(engine, draw_event("A"))
    post_event(engine, draw_event("B", amount=300_000, key="dB", term=3))
    first_due = date(2025, 2, 28)
    post_event(engine, RepaymentPosted(account_id="A", occurred_on=first_due, idempotency_key="pA", amount=110_016))
    post_event(
        engine,
        LimitChanged(
            account_id="A",
            occurred_on=date(2025, 3, 10),
            idempotency_key="lA",
            new_limit=2_500_000,
            reason_code="review",
        ),
    )
    post_event(
        engine, RepaymentPosted(account_id="B", occurred_on=date(2025, 4, 20), idempotency_key="pB", amount=150_000)
    )
    panel = export_panel(engine, date(2025, 5, 31))
    assert sorted(panel["month"].unique()) == [
        date(2025, m, d) for m, d in ((1, 31), (2, 28), (3, 31), (4, 30), (5, 31))
    ]
    with engine.connect() as conn:
        history = {a: load_account_events(conn, a) for a in ("A", "B")}
    for row in panel.itertuples():
        state = replay([e for e in history[row.account_id] if e.occurred_on <= row.month]).state
        assert row.balance == state.principal_outstanding
        assert row.credit_limit == state.line.credit_limit
        assert row.dpd == dpd_as_of(state, row.month)
    a_feb = panel[(panel.account_id == "A") & (panel.month == first_due)].iloc[0]
    assert bool(a_feb.on_time) is True
    assert a_feb.amount_paid == 110_016
    b_mar = panel[(panel.account_id == "B") & (panel.month == date(2025, 3, 31))].iloc[0]
    assert bool(b_mar.on_time) is False and b_mar.dpd > 0


def test_statement_replays_to_the_date_asked(engine):
    open_line(engine)
    post_event(engine, draw_event())
    post_event(
        engine, RepaymentPosted(account_id="A", occurred_on=date(2025, 4, 10), idempotency_key="p1", amount=500_000)
    )
    early = statement(engine, "A", date(2025, 4, 1))
    late = statement(engine, "A", date(2025, 4, 10))
    assert early.dpd == 32 and early.bucket == "31-60"
    assert early.repayments == []
    assert late.dpd == 0 and len(late.repayments) == 1
    with engine.connect() as conn:
        assert load_state(conn, "A", for_update=False).principal_outstanding == late.state.principal_outstanding
