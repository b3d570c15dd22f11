"""Applying limit decisions to lines, against the bare-insert rate of the same database.

In a fresh database (a temporary SQLite file, or with ``--url`` a database of its own
on that PostgreSQL server, dropped at the end), opens N lines and measures, on one
client:

(a) the bare-insert rate: rows like an ``events`` row (account, kind, date, key,
    reason, decision reference, a JSON payload and result, a time) inserted into a
    scratch table, each row its own INSERT + COMMIT, as ``ledger_throughput.py``
    measures the ceiling for repayments; and, for information, the same rows in
    transactions of ``--chunk`` rows (executemany), the ceiling of a chunked writer;
(b) ``apply_decisions`` for N limit changes (each line's limit cut or raised, with
    the version it was decided from), one transaction per ``--chunk`` decisions;
(c) ``apply_decisions`` again for the same N decisions: every one a duplicate.

It prints the rates and the ratio of (b) to (a); the target (issue 12) is at least 1/3.

Usage::

    .venv/bin/python benchmarks/apply_decisions.py [--lines 10000] [--chunk 1000]
    .venv/bin/python benchmarks/apply_decisions.py --url postgresql://postgres@127.0.0.1:5432/postgres
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TypeVar

from sqlalchemy import (
    BigInteger,
    Column,
    Date,
    DateTime,
    Engine,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    create_engine,
    insert,
    text,
)
from sqlalchemy.engine import make_url

from linewise.ledger.decisions import (
    Applied,
    LineDecision,
    apply_decisions,
    line_versions,
)
from linewise.ledger.events import LineOpened
from linewise.ledger.service import post_events
from linewise.ledger.store import create_store_engine, upgrade

OPENED_ON = date(2025, 1, 2)
DECIDED_ON = date(2025, 2, 1)
LIMIT = 2_000_000

scratch = Table(
    "bench_bare_events",
    MetaData(),
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("account_id", String(64), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("occurred_on", Date, nullable=False),
    Column("idempotency_key", String(128), nullable=False),
    Column("reason_code", String(64)),
    Column("decision_ref", String(128)),
    Column("payload", Text, nullable=False),
    Column("result", Text, nullable=False),
    Column("posted_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("account_id", "idempotency_key", name="uq_bench_bare_events"),
)


# --- the benchmark database -------------------------------------------------------


@contextmanager
def bench_database(url: str | None) -> Iterator[Engine]:
    """A migrated store: a temporary SQLite file, or a new database on ``url``'s server, dropped on exit."""
    if url is None:
        with tempfile.TemporaryDirectory() as tmp:
            engine = create_store_engine(f"sqlite:///{Path(tmp) / 'bench.db'}")
            try:
                upgrade(engine)
                yield engine
            finally:
                engine.dispose()
        return
    server = make_url(create_store_engine(url).url)
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    name = f"linewise_bench_{uuid.uuid4().hex[:10]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine = create_store_engine(server.set(database=name).render_as_string(hide_password=False))
    try:
        upgrade(engine)
        yield engine
    finally:
        engine.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def account(n: int) -> str:
    return f"L{n:07d}"


def open_lines(engine: Engine, lines: int, chunk: int) -> None:
    events = [
        LineOpened(
            account_id=account(n),
            occurred_on=OPENED_ON,
            idempotency_key=f"{account(n)}:open",
            customer_id=f"C{n:07d}",
            currency="CNY",
            credit_limit=LIMIT,
        )
        for n in range(lines)
    ]
    for start in range(0, lines, chunk):
        post_events(engine, events[start : start + chunk])


# --- (a) bare inserts -------------------------------------------------------------


def bare_row(n: int) -> dict[str, object]:
    """A row the size and shape of a limit change's ``events`` row."""
    ref = f"decision:{n}"
    payload = {
        "kind": "limit_changed",
        "account_id": account(n),
        "occurred_on": str(DECIDED_ON),
        "idempotency_key": f"{ref}:limit",
        "new_limit": LIMIT // 2,
        "reason_code": "utilisation_above_max",
        "decision_ref": ref,
    }
    result = {
        "account_id": account(n),
        "kind": "limit_changed",
        "credit_limit": LIMIT // 2,
        "previous_credit_limit": LIMIT,
        "status": "active",
        "currency": "CNY",
        "principal_outstanding": 0,
        "available_credit": LIMIT // 2,
        "idempotency_key": f"{ref}:limit",
        "occurred_on": str(DECIDED_ON),
    }
    return {
        "account_id": account(n),
        "kind": "limit_changed",
        "occurred_on": DECIDED_ON,
        "idempotency_key": f"{ref}:limit",
        "reason_code": "utilisation_above_max",
        "decision_ref": ref,
        "payload": json.dumps(payload, sort_keys=True),
        "result": json.dumps(result, sort_keys=True),
        "posted_at": datetime.now(UTC),
    }


def bare_insert_rate(engine: Engine, rows: int, *, per_transaction: int) -> float:
    """Rows/s inserting ``rows`` scratch rows, ``per_transaction`` rows to a transaction."""
    scratch.drop(engine, checkfirst=True)
    scratch.create(engine)
    statement = insert(scratch)
    batches = [
        [bare_row(n) for n in range(lo, min(lo + per_transaction, rows))] for lo in range(0, rows, per_transaction)
    ]
    start = time.perf_counter()
    for batch in batches:
        with engine.begin() as conn:
            conn.execute(statement, batch if len(batch) > 1 else batch[0])
    return rows / (time.perf_counter() - start)


# --- (b) and (c) apply_decisions ----------------------------------------------------


def limit_decisions(engine: Engine, lines: int) -> list[LineDecision]:
    """A cut for even lines and a raise for odd ones, made from the lines' versions now."""
    versions = line_versions(engine)
    return [
        LineDecision(
            account_id=account(n),
            decision_ref=f"decision:{n}",
            action="decrease" if n % 2 == 0 else "increase",
            current_limit=LIMIT,
            new_limit=LIMIT // 2 if n % 2 == 0 else LIMIT * 2,
            decided_on=DECIDED_ON,
            seen_version=versions[account(n)],
            reason_code="utilisation_above_max" if n % 2 == 0 else "repaid_on_time",
        )
        for n in range(lines)
    ]


T = TypeVar("T")


def timed(work: Callable[[], T]) -> tuple[T, float]:
    start = time.perf_counter()
    value = work()
    return value, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--lines",
        type=int,
        default=10_000,
        help="lines opened, limit changes applied and bare rows inserted (default 10000)",
    )
    parser.add_argument(
        "--chunk", type=int, default=1_000, help="decisions (and chunked bare rows) per transaction (default 1000)"
    )
    parser.add_argument(
        "--url",
        default=None,
        help="a PostgreSQL server to run on (a database of its own is created "
        "and dropped); default: a temporary SQLite file",
    )
    args = parser.parse_args()
    started = time.perf_counter()

    with bench_database(args.url) as engine:
        print(f"database: {engine.dialect.name}, {args.lines:,} lines, {args.chunk:,} per chunk")
        open_lines(engine, args.lines, args.chunk)
        one_by_one = bare_insert_rate(engine, args.lines, per_transaction=1)
        chunked = bare_insert_rate(engine, args.lines, per_transaction=args.chunk)
        print(f"(a) bare inserts/s, one row per transaction: {one_by_one:,.0f}")
        print(f"    bare inserts/s, {args.chunk:,} rows per transaction: {chunked:,.0f}")

        decisions = limit_decisions(engine, args.lines)
        outcomes, apply_s = timed(lambda: apply_decisions(engine, decisions, chunk_size=args.chunk))
        applied = [o for o in outcomes if isinstance(o, Applied) and not o.duplicate and o.events]
        if len(applied) != args.lines:
            raise RuntimeError(
                f"applied {len(applied)} of {args.lines} decisions: {[o for o in outcomes if o not in applied][:3]}"
            )
        rate = args.lines / apply_s
        print(f"(b) limit changes applied/s (apply_decisions): {rate:,.0f}  [{args.lines:,} in {apply_s:.2f} s]")

        again, again_s = timed(lambda: apply_decisions(engine, decisions, chunk_size=args.chunk))
        if not all(isinstance(o, Applied) and o.duplicate for o in again):
            raise RuntimeError("a second application wrote something")
        print(f"(c) decisions re-applied/s (all duplicates): {args.lines / again_s:,.0f}")

        print(f"ratio (b) / (a) one row per transaction: {rate / one_by_one:.2f}  (target >= 0.33)")
        print(f"ratio (b) / (a) {args.chunk:,} rows per transaction: {rate / chunked:.2f}")
    print(f"total run: {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
