"""How the store reads and writes a posting: locks held, snapshots kept, errors retried on.

Each test runs on SQLite and PostgreSQL. On PostgreSQL the posting path sends its
statements to psycopg directly (in pipeline mode), so these tests pin what that
path must keep doing: the stored state equals a replay of the log, the line stays
locked for the rest of the transaction, and a duplicate key is still
SQLAlchemy's ``IntegrityError``.
"""

import sqlite3
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError, OperationalError
from tests.ledger.common import snapshot

from linewise.errors import UnknownAccountError
from linewise.ledger.events import LineOpened, RepaymentPosted
from linewise.ledger.posting import apply, payoff_amount, replay
from linewise.ledger.product import Product
from linewise.ledger.service import drawdown_event, post_event, post_events, read_state
from linewise.ledger.store import UnitOfWork, read_snapshot
from linewise.ledger.store.repository import (
    load_account_events,
    load_for_posting,
    load_state,
    save_posting,
)
from linewise.ledger.store.tables import events as events_table
from linewise.ledger.store.tables import instalments as instalments_table

PRODUCT = Product()
DAY = date(2025, 1, 31)


def opening(account="A", key=None):
    return LineOpened(
        account_id=account,
        occurred_on=DAY,
        idempotency_key=key or f"{account}-open",
        customer_id="C",
        currency="CNY",
        credit_limit=2_000_000,
    )


def drawdown(account="A", amount=1_200_000, key="d1", term=12):
    return drawdown_event(
        PRODUCT,
        None,
        account_id=account,
        amount=amount,
        term_months=term,
        method="equal_instalment",
        purpose="travel",
        occurred_on=DAY,
        idempotency_key=key,
    )


def repayment(amount, on, key, account="A"):
    return RepaymentPosted(account_id=account, occurred_on=on, idempotency_key=key, amount=amount)


def stored_instalments(engine, account="A"):
    with engine.connect() as conn:
        return conn.execute(
            select(func.count()).select_from(instalments_table).where(instalments_table.c.account_id == account)
        ).scalar_one()


def assert_store_equals_replay(engine, account="A"):
    with engine.connect() as conn:
        log = load_account_events(conn, account)
    state = read_state(engine, account)
    assert replay(log).state == state
    assert stored_instalments(engine, account) == sum(len(d.instalments) for d in state.drawdowns)
    return state


def test_a_payoff_deletes_the_cancelled_instalments_and_the_store_equals_a_replay(engine):
    post_events(engine, [opening(), drawdown(), drawdown(amount=300_000, key="d2", term=6)])
    on = DAY + timedelta(days=45)
    owed = payoff_amount(read_state(engine, "A"), on)

    post_event(engine, repayment(owed, on, "payoff"))

    state = assert_store_equals_replay(engine)
    assert state.principal_outstanding == 0
    assert stored_instalments(engine) < 12 + 6


def test_a_prepayment_that_shortens_the_term_is_stored_as_its_replay(engine):
    post_events(engine, [opening(), drawdown(), drawdown(amount=300_000, key="d2", term=6)])
    before = read_state(engine, "A")

    post_event(engine, repayment(500_000, DAY + timedelta(days=10), "prepay"))

    state = assert_store_equals_replay(engine)
    assert len(state.drawdowns[0].instalments) < len(before.drawdowns[0].instalments)


def test_a_batch_on_one_line_is_stored_as_its_replay(engine):
    batch = [
        opening(),
        drawdown(),
        *(repayment(50_000 + n * 100, DAY + timedelta(days=20 * n), f"p{n}") for n in range(1, 6)),
    ]

    results = post_events(engine, batch)

    assert not any(r.duplicate for r in results)
    state = assert_store_equals_replay(engine)
    assert results[-1].result["principal_outstanding"] == state.principal_outstanding


def test_a_duplicate_key_in_the_write_raises_integrity_error_and_writes_nothing(engine):
    post_events(engine, [opening(), drawdown()])
    event = repayment(20_000, DAY + timedelta(days=3), "p1")
    post_event(engine, event)
    with engine.connect() as conn:
        count = conn.execute(select(func.count()).select_from(events_table)).scalar_one()

    with UnitOfWork(engine) as uow:
        # Skips the key check that post_event does, as a racing writer would.
        before, _ = load_for_posting(uow.conn, "A", "another-key")
        posted = apply(before, event)
        with pytest.raises(IntegrityError):
            save_posting(uow.conn, before, posted, event, {"kind": "repayment"})

    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(events_table)).scalar_one() == count
    assert_store_equals_replay(engine)


@pytest.mark.postgres
def test_loading_for_a_posting_locks_the_line_until_the_transaction_ends(pg_engine):
    post_events(pg_engine, [opening(), drawdown()])
    lock_query = text("SELECT 1 FROM lines WHERE account_id = 'A' FOR UPDATE NOWAIT")
    with UnitOfWork(pg_engine) as uow:
        load_for_posting(uow.conn, "A", "some-key")
        with pg_engine.connect() as other, pytest.raises(OperationalError, match="could not obtain lock"):
            other.execute(lock_query)
    with pg_engine.connect() as other:
        assert other.execute(lock_query).scalar_one() == 1


def test_a_posting_holds_sqlite_s_write_lock_from_its_first_read(sqlite_engine):
    post_events(sqlite_engine, [opening(), drawdown()])
    path = sqlite_engine.url.database
    with UnitOfWork(sqlite_engine) as uow:
        load_for_posting(uow.conn, "A", "some-key")
        other = sqlite3.connect(path, timeout=0, isolation_level=None)
        try:
            with pytest.raises(sqlite3.OperationalError, match="locked"):
                other.execute("BEGIN IMMEDIATE")
        finally:
            other.close()


@pytest.mark.postgres
def test_a_read_snapshot_does_not_see_postings_committed_after_its_first_read(pg_engine):
    post_events(pg_engine, [opening(), drawdown()])
    with read_snapshot(pg_engine) as conn:
        first = load_state(conn, "A", for_update=False)
        post_event(pg_engine, repayment(100_000, DAY + timedelta(days=3), "p1"))
        again = load_state(conn, "A", for_update=False)
    assert again == first
    assert read_state(pg_engine, "A") != first


def test_a_posting_for_a_customer_on_another_customers_line_is_refused_as_unknown_and_writes_nothing(engine):
    post_events(engine, [opening(), drawdown()])
    paid = post_event(engine, repayment(10_000, DAY + timedelta(days=3), "pay-1"), owner="C")
    assert not paid.duplicate and paid.state is not None and paid.state.line.customer_id == "C"
    before = snapshot(engine)
    for key in ("pay-2", "pay-1"):  # a new key, and one the line holds: neither tells anything of the line
        with pytest.raises(UnknownAccountError):
            post_event(engine, repayment(10_000, DAY + timedelta(days=3), key), owner="someone-else")
    with pytest.raises(UnknownAccountError):
        post_event(engine, repayment(10_000, DAY + timedelta(days=3), "pay-3", account="NOPE"), owner="C")
    assert snapshot(engine) == before
    again = post_event(engine, repayment(10_000, DAY + timedelta(days=3), "pay-1"), owner="C")
    assert again.duplicate and again.state is None and again.result == paid.result
