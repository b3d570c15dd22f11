"""The whole book reviewed from the ledger, phase by phase (issue 12: 100,000 lines in under 30 s).

Builds a simulated book of ``--lines`` lines over 12 months with the bulk path
(``post_book``) and prints its posting rate, then fits a GBM on a synthetic portfolio
in the book's currency and times what ``decide_book(book_from_ledger(engine, AS_OF),
decider, ReviewRequest(), log=SqlDecisionLog(engine))`` does, one phase at a time, the
way it does it:

1. reading the book from the database (``book_from_ledger``);
2. features (``Book.features``);
3. the accounts due (the review trigger);
4. deciding without recourse (model, strategy, reasons), in the core's batches;
5. recourse (deciding with recourse, less phase 4), and the history it is lived on;
6. logging the run (``SqlDecisionLog.save_run``).

Then the same call end to end, as the CLI makes it, to check the phases add up.

The book goes in a temporary SQLite file by default, or with ``--url`` in a new
database on that PostgreSQL server, dropped at the end. With ``--keep NAME`` the book
is kept in database ``NAME`` on that server (or the SQLite file ``NAME``) and reused
by the next run given the same name, which then skips posting.

Usage::

    .venv/bin/python benchmarks/review_ledger_book.py [--lines 100000]
    .venv/bin/python benchmarks/review_ledger_book.py --lines 100000 \\
        --url postgresql://postgres@127.0.0.1:5432/postgres --keep linewise_book_100k
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import pandas as pd
from apply_decisions import bench_database
from decide_from_ledger import book_decider
from sqlalchemy import Engine, create_engine, func, select, text
from sqlalchemy.engine import make_url

from linewise.decide import BATCH, decide
from linewise.features.projection import History, history_of, history_records
from linewise.ledger.book import BookSpec, simulate_book
from linewise.ledger.product import Product
from linewise.ledger.service import post_book
from linewise.ledger.store import create_store_engine, upgrade
from linewise.ledger.store.decision_log import SqlDecisionLog
from linewise.ledger.store.tables import lines
from linewise.review import Decider, ReviewRequest, decide_book
from linewise.review.sources import book_from_ledger, month_described
from linewise.review.triggers import DueQuery, trigger_named
from linewise.strategy.evaluate import Context

AS_OF = date(2025, 12, 31)
START = date(2025, 1, 1)


@contextmanager
def kept_database(url: str | None, name: str) -> Iterator[Engine]:
    """A migrated store named ``name`` (a database on ``url``'s server, or a SQLite file), kept on exit."""
    if url is None:
        engine = create_store_engine(f"sqlite:///{Path(name).resolve()}")
    else:
        server = make_url(create_store_engine(url).url)
        admin = create_engine(server, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            if conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).first() is None:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
        engine = create_store_engine(server.set(database=name).render_as_string(hide_password=False))
    try:
        upgrade(engine)
        yield engine
    finally:
        engine.dispose()


def build_book(engine: Engine, count: int) -> None:
    """Post the simulated book unless the database holds its lines already."""
    with engine.connect() as conn:
        held = conn.execute(select(func.count()).select_from(lines)).scalar_one()
    if held == count:
        print(f"book: {count:,} lines already in the database, reused")
        return
    if held:
        sys.exit(f"the database holds {held:,} lines, not {count:,}: give another --keep name")
    started = time.perf_counter()
    posted = post_book(engine, simulate_book(BookSpec(count, 12, START, 7), Product()))
    took = time.perf_counter() - started
    print(
        f"book: {posted.lines:,} lines, {posted.events:,} events simulated and posted in {took:.1f} s "
        f"({posted.lines / took:,.0f} lines/s, {posted.events / took:,.0f} events/s)"
    )
    # As after any bulk load: the planner's statistics of the new rows (this server runs no autovacuum).
    started = time.perf_counter()
    with engine.begin() as conn:
        conn.execute(text("ANALYZE"))
    print(f"ANALYZE after the load: {time.perf_counter() - started:.1f} s")


class Clock:
    """Named phases, timed one after another."""

    def __init__(self) -> None:
        self.phases: dict[str, float] = {}
        self._last = time.perf_counter()

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.phases[name] = self.phases.get(name, 0.0) + now - self._last
        self._last = now


def _decide(
    features: pd.DataFrame, decider: Decider, context: Context, history: History | None, *, recourse: bool
) -> pd.DataFrame:
    parts = [
        decide(
            features.iloc[start : start + BATCH],
            model=decider.model,
            model_ref=decider.model_ref,
            strategy=decider.strategy,
            context=context,
            history=history,
            recourse=recourse,
        )
        for start in range(0, len(features), BATCH)
    ]
    return pd.concat(parts, ignore_index=True)


def review_in_phases(engine: Engine, decider: Decider) -> None:
    """decide_book's steps for the whole book (review trigger, recourse, logged), each timed."""
    log = SqlDecisionLog(engine)
    clock = Clock()
    book = book_from_ledger(engine, AS_OF)
    clock.lap("read the book from the database")
    features = book.features()
    clock.lap("features")
    month = month_described(book)
    query = DueQuery(
        accounts=features.index,
        panel=book.panel,
        customers=book.customers,
        as_of=book.as_of,
        log=log,
        cycle_days=0,
        month=month,
    )
    due = trigger_named("review").due(query)
    features = features.loc[due]
    context_frame = book.last_limit_change_on(due).to_frame("last_limit_change_on")
    context = Context(
        as_of=book.as_of,
        trigger="review",
        last_limit_change_on=context_frame["last_limit_change_on"],
        requests_in_window=None,
        month_so_far=month != book.as_of,
    )
    clock.lap("accounts due and their context")
    _decide(features, decider, context, None, recourse=False)
    clock.lap("decide without recourse")
    history = history_of(book.panel, book.customers, month)
    decisions = _decide(features, decider, context, history, recourse=True)
    clock.lap("decide with recourse")
    clock.phases["recourse (with less without)"] = (
        clock.phases["decide with recourse"] - clock.phases["decide without recourse"]
    )
    assert book.lines is not None
    context_frame = context_frame.join(
        book.lines[["status", "version"]].rename(columns={"status": "line_status", "version": "line_version"}),
        how="left",
    )
    records = history_records(history.rows(history.position_of(pd.Index(decisions["account_id"]))))
    clock.lap("history records for the log")
    log.save_run(
        decisions,
        features,
        strategy_text=decider.strategy.loaded.text,
        with_recourse=True,
        context=context_frame,
        history=records,
    )
    clock.lap("log the run (save_run)")
    print(f"whole-book review of {len(decisions):,} due accounts ({len(book.lines):,} lines), phase by phase:")
    for name, seconds in clock.phases.items():
        if name != "decide with recourse":
            print(f"  {name:<40} {seconds:7.2f} s")
    total = sum(s for n, s in clock.phases.items() if n != "recourse (with less without)")
    print(f"  {'sum (with-recourse decide counted once)':<40} {total - clock.phases['decide without recourse']:7.2f} s")

    started = time.perf_counter()
    decided = decide_book(book_from_ledger(engine, AS_OF), decider, ReviewRequest(), log=log)
    took = time.perf_counter() - started
    print(
        f"end to end: decide_book(book_from_ledger(...), ..., log=SqlDecisionLog(engine)) "
        f"{len(decided.decisions):,} decisions in {took:.2f} s (target: 100,000 lines < 30 s)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=100_000)
    parser.add_argument("--url", default=None, help="A PostgreSQL server (default: a temporary SQLite file).")
    parser.add_argument("--keep", default=None, help="Keep the book in this database (or SQLite file) and reuse it.")
    parser.add_argument("--build-only", action="store_true", help="Post the book and stop.")
    args = parser.parse_args()

    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())} ({os.cpu_count()} cores)")
    database = kept_database(args.url, args.keep) if args.keep else bench_database(args.url)
    with database as engine:
        print(f"database: {engine.url.get_backend_name()}")
        build_book(engine, args.lines)
        if not args.build_only:
            decider = book_decider()
            review_in_phases(engine, decider)
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
