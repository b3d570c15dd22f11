"""Ledger throughput on PostgreSQL, in a database of its own that is dropped at the end.

Measures, in one run on one server:

(a) repayments posted per second through ``post_event`` by concurrent clients, each
    on its own accounts (every line has a drawdown first); a posting runs in a
    SQLAlchemy transaction, its statements sent to psycopg directly;
(b) the ceiling for that: bare single-row INSERTs, each its own transaction, through
    the same engine (psycopg 3 under SQLAlchemy) with the same number of clients,
    and the ratio of (a) to (b);
(c) the month-end panel for many lines: ``export_panel`` for one month end, and
    writing that frame to Parquet.

Usage::

    .venv/bin/python benchmarks/ledger_throughput.py [--lines 100000] [--repayments 4000]

The server is LINEWISE_BENCH_DATABASE_URL (default
postgresql://postgres@127.0.0.1:5432/postgres), used as an admin connection to
CREATE and DROP the benchmark database.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import random
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TypeVar

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Engine,
    MetaData,
    String,
    Table,
    create_engine,
    insert,
    text,
)
from sqlalchemy.engine import make_url

from linewise.ledger.events import Event, LineOpened, RepaymentPosted
from linewise.ledger.product import Product
from linewise.ledger.service import (
    drawdown_event,
    export_panel,
    load_product,
    post_event,
    post_events,
)
from linewise.ledger.store import create_store_engine, upgrade

DEFAULT_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
LEDGER_TABLES = "allocations, instalments, drawdowns, limit_history, events, lines"

# (a) lines are opened and drawn on this day; repayments follow weekly.
OPENED_ON = date(2025, 1, 2)
# (c) every line is opened in January 2025, so the panel has one month end.
PANEL_OPENED_ON = date(2025, 1, 2)
PANEL_REPAID_ON = date(2025, 1, 20)
PANEL_MONTH_END = date(2025, 1, 31)

bare = Table(
    "bench_bare_inserts",
    MetaData(),
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("account_id", String(64), nullable=False),
    Column("amount", BigInteger, nullable=False),
    Column("posted_at", DateTime(timezone=True), nullable=False),
)


# --- the benchmark database -----------------------------------------------------


@contextmanager
def bench_database(admin_url: str) -> Iterator[Engine]:
    """A migrated store in a new database ``linewise_bench_<random>``, dropped on exit."""
    url = make_url(create_store_engine(admin_url).url)
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    name = f"linewise_bench_{uuid.uuid4().hex[:10]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine = create_store_engine(url.set(database=name).render_as_string(hide_password=False))
    try:
        upgrade(engine)
        yield engine
    finally:
        engine.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def truncate_ledger(engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {LEDGER_TABLES} RESTART IDENTITY"))


# --- running clients ------------------------------------------------------------


def run_clients(jobs: Sequence[Callable[[], int]]) -> tuple[int, float]:
    """Run each job on its own thread, released together; (items done, seconds)."""
    barrier = threading.Barrier(len(jobs) + 1)

    def run(job: Callable[[], int]) -> int:
        barrier.wait()
        return job()

    with ThreadPoolExecutor(max_workers=len(jobs)) as pool:
        futures = [pool.submit(run, job) for job in jobs]
        barrier.wait()
        start = time.perf_counter()
        done = sum(f.result() for f in futures)
        elapsed = time.perf_counter() - start
    return done, elapsed


def warm_pool(engine: Engine, clients: int) -> None:
    """Open the clients' connections before anything is timed."""

    def ping() -> int:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
            time.sleep(0.05)  # hold the connection so that each client gets its own
        return 1

    run_clients([ping] * clients)


def post_batches(engine: Engine, batches: Sequence[list[Event]], threads: int) -> float:
    """Post the batches (each one transaction) on ``threads`` threads; seconds taken."""
    lock = threading.Lock()
    pending = list(reversed(batches))

    def worker() -> int:
        count = 0
        while True:
            with lock:
                if not pending:
                    return count
                batch = pending.pop()
            post_events(engine, batch)
            count += len(batch)

    _, elapsed = run_clients([worker] * threads)
    return elapsed


# --- (a) repayments through post_event -------------------------------------------


def open_and_draw(product: Product, account: str, opened_on: date, amount: int, term: int) -> list[Event]:
    return [
        LineOpened(
            account_id=account,
            occurred_on=opened_on,
            idempotency_key=f"{account}:open",
            customer_id=f"cust-{account}",
            currency="CNY",
            credit_limit=2_000_000,
        ),
        drawdown_event(
            product,
            None,
            account_id=account,
            amount=amount,
            term_months=term,
            method="equal_instalment",
            purpose="daily_consumption",
            occurred_on=opened_on,
            idempotency_key=f"{account}:draw",
        ),
    ]


def repayment_rate(engine: Engine, product: Product, *, accounts: int, repayments: int, clients: int) -> float:
    names = [f"R{n:06d}" for n in range(accounts)]
    setup = [e for a in names for e in open_and_draw(product, a, OPENED_ON, 1_200_000, 12)]
    post_batches(engine, [setup[i : i + 1_000] for i in range(0, len(setup), 1_000)], threads=2)

    # Client c owns accounts c, c + clients, ...; round k repays every account on day k.
    plans: list[list[RepaymentPosted]] = [[] for _ in range(clients)]
    for n in range(repayments):
        round_, index = divmod(n, accounts)
        account = names[index]
        plans[index % clients].append(
            RepaymentPosted(
                account_id=account,
                occurred_on=OPENED_ON + timedelta(days=7 * (round_ + 1)),
                idempotency_key=f"{account}:pay{round_}",
                amount=20_000 + 100 * (n % 50),
            )
        )

    def client(plan: list[RepaymentPosted]) -> Callable[[], int]:
        def post_all() -> int:
            for event in plan:
                post_event(engine, event)
            return len(plan)

        return post_all

    warm_pool(engine, clients)
    done, elapsed = run_clients([client(p) for p in plans])
    if done != repayments:
        raise RuntimeError(f"posted {done} repayments of {repayments}")
    return done / elapsed


# --- (b) bare inserts -----------------------------------------------------------


def bare_insert_rate(engine: Engine, *, inserts: int, clients: int) -> float:
    bare.create(engine, checkfirst=True)
    statement = insert(bare)

    def client(count: int, number: int) -> Callable[[], int]:
        def insert_all() -> int:
            for n in range(count):
                with engine.begin() as conn:
                    conn.execute(
                        statement, {"account_id": f"B{number}-{n}", "amount": 20_000, "posted_at": datetime.now(UTC)}
                    )
            return count

        return insert_all

    counts = [inserts // clients + (1 if c < inserts % clients else 0) for c in range(clients)]
    warm_pool(engine, clients)
    done, elapsed = run_clients([client(count, c) for c, count in enumerate(counts)])
    if done != inserts:
        raise RuntimeError(f"inserted {done} rows of {inserts}")
    return done / elapsed


# --- (c) the month-end panel ----------------------------------------------------


_process_engines: dict[str, Engine] = {}


def _engine_of_this_process(url: str) -> Engine:
    if url not in _process_engines:
        _process_engines[url] = create_store_engine(url)
    return _process_engines[url]


def _warm_worker(url: str) -> int:
    """Import linewise and connect, holding the worker so that each one gets a call."""
    with _engine_of_this_process(url).connect() as conn:
        conn.execute(text("SELECT 1"))
    time.sleep(0.5)
    return os.getpid()


def _load_chunk(url: str, first: int, stop: int, batch_events: int) -> int:
    """In a worker process: lines ``first`` to ``stop - 1``, posted in batches; events posted.

    Each line is opened and drawn on in January; every fourth repays on the 20th.
    """
    engine = _engine_of_this_process(url)
    product = load_product(None)
    rng = random.Random(first)
    batch: list[Event] = []
    posted = 0
    for n in range(first, stop):
        account = f"P{n:07d}"
        batch += open_and_draw(
            product, account, PANEL_OPENED_ON, rng.randrange(100_000, 1_500_001, 100), rng.choice(product.terms_months)
        )
        if n % 4 == 0:
            batch.append(
                RepaymentPosted(
                    account_id=account,
                    occurred_on=PANEL_REPAID_ON,
                    idempotency_key=f"{account}:pay",
                    amount=rng.randrange(10_000, 50_001, 100),
                )
            )
        if len(batch) >= batch_events or n == stop - 1:
            post_events(engine, batch)
            posted += len(batch)
            batch = []
    return posted


def load_panel_lines(engine: Engine, *, lines: int, batch_events: int, processes: int) -> tuple[int, float]:
    """Post the panel's lines from ``processes`` worker processes; (events, seconds).

    Processes, not threads: posting is bound by Python's CPU time, which threads share.
    """
    url = engine.url.render_as_string(hide_password=False)
    chunk = max(1, min(10_000, -(-lines // processes)))
    ranges = [(lo, min(lo + chunk, lines)) for lo in range(0, lines, chunk)]
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=processes, mp_context=context) as pool:
        # Let every worker start, import linewise and connect before the clock starts.
        list(pool.map(_warm_worker, [url] * processes))
        start = time.perf_counter()
        futures = [pool.submit(_load_chunk, url, lo, hi, batch_events) for lo, hi in ranges]
        events = sum(f.result() for f in futures)
        elapsed = time.perf_counter() - start
    return events, elapsed


T = TypeVar("T")


def timed(work: Callable[[], T]) -> tuple[T, float]:
    start = time.perf_counter()
    value = work()
    return value, time.perf_counter() - start


# --- main -----------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=100_000, help="lines in the month-end panel (c) (default 100000)")
    parser.add_argument(
        "--repayments", type=int, default=4_000, help="repayments posted in (a), and bare inserts in (b) (default 4000)"
    )
    parser.add_argument(
        "--accounts", type=int, default=800, help="lines the repayments of (a) are spread over (default 800)"
    )
    parser.add_argument("--clients", type=int, default=8, help="concurrent client threads in (a) and (b) (default 8)")
    parser.add_argument(
        "--batch-events",
        type=int,
        default=3_000,
        help="events per post_events transaction when loading (c) (default 3000)",
    )
    parser.add_argument(
        "--load-processes",
        type=int,
        default=os.cpu_count() or 2,
        help="processes loading the lines of (c) (default: one per CPU)",
    )
    args = parser.parse_args()
    admin_url = os.environ.get("LINEWISE_BENCH_DATABASE_URL", DEFAULT_ADMIN_URL)
    product = load_product(None)
    started = time.perf_counter()

    with bench_database(admin_url) as engine:
        print(f"database: {engine.url.render_as_string(hide_password=True)}")
        rate = repayment_rate(engine, product, accounts=args.accounts, repayments=args.repayments, clients=args.clients)
        print(
            f"repayments/s ({args.clients} clients): {rate:,.0f}"
            f"  [{args.repayments:,} repayments over {args.accounts:,} lines, post_event]"
        )
        ceiling = bare_insert_rate(engine, inserts=args.repayments, clients=args.clients)
        print(
            f"bare inserts/s ({args.clients} clients): {ceiling:,.0f}  [{args.repayments:,} single-row INSERT + COMMIT]"
        )
        print(
            f"ratio (repayments / bare inserts): {rate / ceiling:.3f}"
            f"  (a repayment costs {ceiling / rate:.1f}x a bare insert)"
        )

        truncate_ledger(engine)
        events, load_s = load_panel_lines(
            engine, lines=args.lines, batch_events=args.batch_events, processes=args.load_processes
        )
        print(
            f"load for the panel: {events:,} events for {args.lines:,} lines in {load_s:.1f} s"
            f" ({events / load_s:,.0f} events/s, post_events, {args.batch_events:,} a batch,"
            f" {args.load_processes} processes)"
        )
        panel, panel_s = timed(lambda: export_panel(engine, PANEL_MONTH_END))
        months = sorted(panel["month"].unique())
        if len(panel) != args.lines or months != [PANEL_MONTH_END]:
            raise RuntimeError(
                f"panel has {len(panel)} rows for {months}; expected {args.lines} rows for {PANEL_MONTH_END}"
            )
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "panel.parquet"
            _, parquet_s = timed(lambda: panel.to_parquet(path, index=False))
            size = path.stat().st_size
        print(
            f"panel {args.lines:,} lines: {panel_s + parquet_s:.2f} s"
            f"  [export_panel {panel_s:.2f} s + to_parquet {parquet_s:.2f} s;"
            f" {len(panel):,} rows for {PANEL_MONTH_END}, {size / 1e6:.1f} MB]"
        )
    print(f"total run: {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
