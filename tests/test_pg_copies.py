"""The suite's reused PostgreSQL databases: a database given back is put back exactly as its template was."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select, text
from tests.ledger.common import snapshot

from linewise.ledger.events import LimitChanged, LineOpened
from linewise.ledger.service import post_event
from linewise.ledger.store.tables import events

KEY = "pg-copies-test"


def _fill(engine) -> None:
    opened = LineOpened(
        account_id="A",
        occurred_on=date(2025, 1, 31),
        idempotency_key="open",
        customer_id="C",
        currency="CNY",
        credit_limit=100_000,
    )
    post_event(engine, opened)


def _post_and_read_last_id(engine) -> int:
    post_event(
        engine,
        LimitChanged(
            account_id="A",
            occurred_on=date(2025, 2, 1),
            idempotency_key="k",
            new_limit=90_000,
            reason_code="manual_review",
        ),
    )
    with engine.connect() as conn:
        return int(conn.execute(select(func.max(events.c.id))).scalar_one())


def test_a_database_given_back_holds_its_templates_rows_and_sequences_and_one_with_a_changed_schema_is_dropped(
    pg_server_url, store_templates
):
    with store_templates.postgresql(pg_server_url, KEY, _fill) as engine:
        name, fresh = engine.url.database, snapshot(engine)
        first_id = _post_and_read_last_id(engine)
    with store_templates.postgresql(pg_server_url, KEY, _fill) as engine:
        assert engine.url.database == name, "given back and taken again"
        assert snapshot(engine) == fresh
        assert _post_and_read_last_id(engine) == first_id, "the sequences start where the template's stood"
        with engine.begin() as conn:
            conn.execute(text("CREATE TABLE stray (x integer)"))
    with store_templates.postgresql(pg_server_url, KEY, _fill) as engine:
        assert engine.url.database != name, "a database whose schema a test changed is not used again"
        assert snapshot(engine) == fresh
