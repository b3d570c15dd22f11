"""Decisions made on the ledger itself: one account in real time, and the whole book.

In a fresh database (a temporary SQLite file, or with ``--url`` a database of its own
on that PostgreSQL server, dropped at the end), posts a simulated book of ``--lines``
lines over 12 months, fits a GBM on a synthetic portfolio in the book's currency, and
measures, on one client, what issue 12's targets are about:

(a) one account decided from the ledger: its features read from the database, the
    model, the strategy, reasons, recourse, and the decision logged — ``--repeats``
    accounts drawn at random, each timed alone: median and p95 (target: p95 < 30 ms);
(b) the whole book reviewed from the ledger the same way (target: 100,000 lines in
    under 30 s on PostgreSQL), and its decisions applied to the lines.

Usage::

    .venv/bin/python benchmarks/decide_from_ledger.py [--lines 2000] [--repeats 200]
    .venv/bin/python benchmarks/decide_from_ledger.py --url postgresql://postgres@127.0.0.1:5432/postgres
"""

from __future__ import annotations

import argparse
import gc
import statistics
import time
from datetime import date

import numpy as np
from apply_decisions import bench_database

from linewise.data.synthetic import SynthSpec, synthesize
from linewise.ledger.book import BookSpec, simulate_book
from linewise.ledger.product import Product
from linewise.ledger.service import post_book
from linewise.ledger.store.decision_log import SqlDecisionLog
from linewise.models.gbm import GradientBoostedModel
from linewise.models.inputs import inputs_from_portfolio
from linewise.review import Decider, ReviewRequest, decide_book
from linewise.review.apply import apply_decided
from linewise.review.sources import book_from_ledger
from linewise.strategy import default_strategy_text, read_strategy
from linewise.strategy.compiled import compile_strategy

AS_OF = date(2025, 12, 31)


def book_decider() -> Decider:
    """A GBM fitted on a synthetic portfolio in the book's currency, with the default strategy in it.

    The frames the model is fitted on are dropped on return: a server holds the model
    and the strategy, not them.
    """
    portfolio = synthesize(SynthSpec(accounts=20_000, months=12, seed=7, last_month=AS_OF, horizon_months=1))
    inputs = inputs_from_portfolio(portfolio)
    model = GradientBoostedModel().fit(inputs.features, inputs.bad)
    text = default_strategy_text().replace("\ncurrency: TWD\n", "\ncurrency: CNY\n", 1)
    return Decider(
        model=model, model_ref="bench-gbm@1", strategy=compile_strategy(read_strategy(text)), model_currency="CNY"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=200)
    parser.add_argument("--url", default=None, help="A PostgreSQL server (default: a temporary SQLite file).")
    args = parser.parse_args()

    decider = book_decider()
    gc.collect()

    with bench_database(args.url) as engine:
        started = time.perf_counter()
        post_book(engine, simulate_book(BookSpec(args.lines, 12, date(2025, 1, 1), 7), Product()))
        print(
            f"database: {engine.url.get_backend_name()}; book of {args.lines:,} lines posted in "
            f"{time.perf_counter() - started:.1f} s"
        )
        log = SqlDecisionLog(engine)
        accounts = [f"L{n + 1:06d}" for n in range(args.lines)]
        rng = np.random.default_rng(1)
        times, cpu = [], []
        for account in rng.choice(accounts, size=args.repeats):
            started, cpu_started = time.perf_counter(), time.process_time()
            decide_book(
                book_from_ledger(engine, AS_OF, str(account)), decider, ReviewRequest(account=str(account)), log=log
            )
            times.append(time.perf_counter() - started)
            cpu.append(time.process_time() - cpu_started)
        times.sort()
        cpu.sort()
        print(
            f"one account from the ledger (features, model, strategy, reasons, recourse, logged): "
            f"median {statistics.median(times) * 1000:.1f} ms, p95 {times[int(0.95 * len(times))] * 1000:.1f} ms "
            f"over {args.repeats} accounts"
        )
        # On a shared machine the client's own CPU time is the steadier figure (the database
        # server's work is not in it).
        print(
            f"  the client's CPU time: median {statistics.median(cpu) * 1000:.1f} ms, "
            f"p95 {cpu[int(0.95 * len(cpu))] * 1000:.1f} ms"
        )

        started = time.perf_counter()
        book = book_from_ledger(engine, AS_OF)
        read = time.perf_counter() - started
        decided = decide_book(book, decider, ReviewRequest(), log=log)
        whole = time.perf_counter() - started
        print(
            f"whole book: {len(decided.decisions):,} lines read in {read:.2f} s, decided with recourse and "
            f"logged in {whole:.2f} s ({len(decided.decisions) / whole:,.0f} lines/s)"
        )
        started = time.perf_counter()
        outcomes = apply_decided(engine, decided)
        took = time.perf_counter() - started
        changed = sum(1 for o in outcomes if getattr(o, "events", ()))
        print(f"applied: {len(outcomes):,} decisions ({changed:,} lines changed) in {took:.2f} s")


if __name__ == "__main__":
    main()
