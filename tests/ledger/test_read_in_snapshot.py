"""Reads run together (each on its own connection on PostgreSQL) see one snapshot, the one they share."""

from datetime import date

import pytest
from sqlalchemy import func, select

from linewise.ledger.events import LineOpened
from linewise.ledger.service import post_events
from linewise.ledger.store import read_snapshot
from linewise.ledger.store.tables import lines
from linewise.ledger.store.unit_of_work import read_in_snapshot


def opening(account):
    return LineOpened(
        account_id=account,
        occurred_on=date(2025, 1, 2),
        idempotency_key=f"{account}-open",
        customer_id="C",
        currency="CNY",
        credit_limit=100_000,
    )


def count_lines(conn):
    return conn.execute(select(func.count()).select_from(lines)).scalar_one()


@pytest.mark.postgres
def test_reads_run_together_see_the_snapshot_and_not_a_posting_committed_meanwhile(pg_engine):
    # PostgreSQL only: on SQLite a read transaction holds the write lock (BEGIN IMMEDIATE).
    post_events(pg_engine, [opening("A")])
    with read_snapshot(pg_engine) as conn:
        assert count_lines(conn) == 1  # the snapshot is taken here
        post_events(pg_engine, [opening("B")])

        seen = read_in_snapshot(conn, [count_lines, count_lines, count_lines, count_lines])

        assert seen == [1, 1, 1, 1]
    with read_snapshot(pg_engine) as conn:
        assert read_in_snapshot(conn, [count_lines, count_lines]) == [2, 2]


def test_reads_give_their_results_in_the_order_they_were_given(engine):
    with read_snapshot(engine) as conn:
        assert read_in_snapshot(conn, [lambda c, n=n: (n, count_lines(c)) for n in range(5)]) == [
            (n, 0) for n in range(5)
        ]
