"""Idempotency keys are scoped to their account, on SQLite and PostgreSQL, and migration 0003 moves them."""

from datetime import date, timedelta

import pytest
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError
from tests.ledger.common import snapshot

from linewise.errors import IdempotencyConflictError
from linewise.ledger.events import (
    LimitChanged,
    LineOpened,
    RepaymentPosted,
    StatusChanged,
)
from linewise.ledger.model import LineStatus
from linewise.ledger.product import Product
from linewise.ledger.service import drawdown_event, post_event, post_events, read_state
from linewise.ledger.store import is_at_head, upgrade
from linewise.ledger.store.engine import _MIGRATIONS
from linewise.ledger.store.tables import events as events_table

PRODUCT = Product()
DAY = date(2026, 1, 15)


def opening(account, key=None, limit=2_000_000):
    return LineOpened(
        account_id=account,
        occurred_on=DAY,
        idempotency_key=key or f"{account}-open",
        customer_id=f"C{account}",
        currency="CNY",
        credit_limit=limit,
    )


def drawdown(account, amount=600_000, key="d1"):
    return drawdown_event(
        PRODUCT,
        None,
        account_id=account,
        amount=amount,
        term_months=6,
        method="equal_instalment",
        purpose="travel",
        occurred_on=DAY,
        idempotency_key=key,
    )


def repayment(account, amount, key="pay-2026-02", on=date(2026, 2, 15)):
    return RepaymentPosted(account_id=account, occurred_on=on, idempotency_key=key, amount=amount)


def two_lines_with_a_drawdown(engine):
    post_events(engine, [opening("A1"), drawdown("A1"), opening("B1", limit=1_000_000), drawdown("B1", amount=300_000)])


def test_the_same_key_on_two_accounts_is_two_requests(engine):
    two_lines_with_a_drawdown(engine)
    first = post_event(engine, repayment("A1", 105_315))
    second = post_event(engine, repayment("B1", 50_000))
    assert not first.duplicate and not second.duplicate
    assert second.result["account_id"] == "B1"
    assert read_state(engine, "A1").principal_outstanding == 600_000 - 96_315
    assert read_state(engine, "B1").principal_outstanding < 300_000


def test_a_key_another_account_used_never_shows_that_account_in_a_result_or_message(engine):
    two_lines_with_a_drawdown(engine)
    post_event(engine, repayment("A1", 105_315))
    posted = post_event(engine, repayment("B1", 105_315))
    assert "A1" not in repr(posted.result)
    with pytest.raises(IdempotencyConflictError) as info:
        post_event(engine, repayment("B1", 100_000))
    assert "A1" not in str(info.value)
    assert info.value.code == "event_exists_with_different_amount"


def test_the_same_key_on_the_same_account_is_still_a_retry(engine):
    two_lines_with_a_drawdown(engine)
    first = post_event(engine, repayment("A1", 105_315))
    before = snapshot(engine)
    again = post_event(engine, repayment("A1", 105_315))
    assert again.duplicate and again.result == first.result
    assert snapshot(engine) == before


def test_opening_a_line_with_a_key_another_line_opened_with_opens_it(engine):
    post_event(engine, opening("A1", key="open-1"))
    posted = post_event(engine, opening("B1", key="open-1"))
    assert not posted.duplicate and posted.result["account_id"] == "B1"


def test_a_limit_or_status_change_reports_what_it_changed_from(engine):
    post_event(engine, opening("A1"))
    cut = post_event(
        engine,
        LimitChanged(
            account_id="A1", occurred_on=DAY, idempotency_key="cut", new_limit=1_500_000, reason_code="dpd_above_max"
        ),
    )
    frozen = post_event(
        engine,
        StatusChanged(
            account_id="A1",
            occurred_on=DAY,
            idempotency_key="fz",
            new_status=LineStatus.FROZEN,
            reason_code="dpd_above_max",
        ),
    )
    assert cut.result["previous_credit_limit"] == 2_000_000 and cut.result["credit_limit"] == 1_500_000
    assert frozen.result["previous_status"] == "active" and frozen.result["status"] == "frozen"


def test_the_database_refuses_a_second_event_with_the_same_account_and_key(engine):
    post_event(engine, opening("A1"))
    with engine.connect() as conn:
        row = conn.execute(select(events_table).where(events_table.c.account_id == "A1")).mappings().one()
    copy = {k: v for k, v in row.items() if k != "id"}
    with engine.begin() as conn:
        conn.execute(insert(events_table).values({**copy, "account_id": "B1"}))
    with pytest.raises(IntegrityError), engine.begin() as conn:
        conn.execute(insert(events_table).values(copy))


# --- migration 0003 ---------------------------------------------------------------


def _alembic(engine):
    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS))
    config.attributes["engine"] = engine
    return config


def _revision(engine):
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def test_migration_0003_keeps_every_event_and_scopes_the_keys_of_a_ledger_in_use(engine):
    command.downgrade(_alembic(engine), "0002")
    assert _revision(engine) == "0002"
    # Keys unique across the ledger, as schema 0002 required.
    post_events(
        engine,
        [
            opening("A1"),
            drawdown("A1", key="A1-d1"),
            opening("B1", limit=1_000_000),
            drawdown("B1", amount=300_000, key="B1-d1"),
        ],
    )
    post_event(engine, repayment("A1", 105_315))
    before = snapshot(engine)
    state_a = read_state(engine, "A1")

    upgrade(engine)

    assert is_at_head(engine)
    assert snapshot(engine) == before
    assert read_state(engine, "A1") == state_a
    assert post_event(engine, repayment("A1", 105_315)).duplicate
    assert not post_event(engine, repayment("B1", 50_000)).duplicate
    assert not post_event(
        engine, repayment("A1", 10_000, key="A1-extra", on=date(2026, 2, 15) + timedelta(days=1))
    ).duplicate


def test_migration_0003_goes_down_while_no_key_is_shared_and_up_again(engine):
    post_events(engine, [opening("A1"), opening("B1")])
    before = snapshot(engine)
    command.downgrade(_alembic(engine), "0002")
    assert snapshot(engine) == before
    upgrade(engine)
    assert snapshot(engine) == before
    assert not post_event(engine, opening("C1", key="A1-open")).duplicate
