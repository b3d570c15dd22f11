"""The strategy lab's optimiser at scale (issue 14): the per-account upper bound for a million
accounts in under 60 s, and a search of 200 strategies on 100,000 accounts in under 5 minutes.

Draws synthetic CNY books (the generator's time is not counted), fits a GBM on a
50,000-account book of another seed, and times, with the shipped strategy (in CNY) as
the base and the cash-line assumptions (24% a year on everything drawn):

1. ``--accounts`` (a million): the base strategy simulated (as ``simulate``), every
   account's options priced (``option_grid``) and the upper bound within a loss-rate
   budget found (``upper_bound``);
2. ``--search-accounts`` (100,000): ``--candidates`` (200) strategy files searched
   (``search_strategies``: each decided through the application layer and priced).

Usage::

    .venv/bin/python benchmarks/optimise_throughput.py [--accounts 1000000] [--search-accounts 100000] [--candidates 200]
"""

from __future__ import annotations

import argparse
import os
import resource
import time

from linewise.data.synthetic import SynthSpec, synthesize
from linewise.features import REGISTRY
from linewise.models.gbm import GradientBoostedModel
from linewise.models.inputs import inputs_from_portfolio
from linewise.review.run import Decider
from linewise.review.sources import book_of
from linewise.simulate import Assumptions, simulate
from linewise.simulate.optimise import Budgets, option_grid, search_strategies, upper_bound
from linewise.strategy import default_strategy_text, read_strategy
from linewise.strategy.compiled import compile_strategy

CASH_LINE = Assumptions(apr=0.24, revolving_share=1.0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=1_000_000)
    parser.add_argument("--search-accounts", type=int, default=100_000)
    parser.add_argument("--candidates", type=int, default=200)
    parser.add_argument("--loss-rate-max", type=float, default=0.1)
    args = parser.parse_args()

    training = synthesize(SynthSpec(accounts=50_000, months=12, seed=2, currency="CNY", horizon_months=1))
    inputs = inputs_from_portfolio(training)
    monotone = {name: REGISTRY[name].risk_direction.sign for name in inputs.features.columns if name in REGISTRY}
    model = GradientBoostedModel(monotone=monotone).fit(inputs.features, inputs.bad)
    text = default_strategy_text().replace("\ncurrency: TWD\n", "\ncurrency: CNY\n")
    base = Decider(model, "synthetic-gbm@bench", compile_strategy(read_strategy(text)))
    ladder = [int(tier) for tier in base.strategy.loaded.spec.ladder]
    budgets = Budgets(loss_rate_max=args.loss_rate_max)

    portfolio = synthesize(SynthSpec(accounts=args.accounts, months=12, seed=1, currency="CNY", horizon_months=1))
    started = time.perf_counter()
    simulation = simulate(book_of(portfolio), [("base", base)], CASH_LINE, outcomes=portfolio.outcomes)
    simulated = time.perf_counter() - started
    started = time.perf_counter()
    options = option_grid(simulation, ladder)
    priced = time.perf_counter() - started
    started = time.perf_counter()
    bound = upper_bound(options, budgets)
    solved = time.perf_counter() - started
    total = simulated + priced + solved
    print(
        f"upper bound, {args.accounts:,} accounts x {len(options.labels)} options: simulate {simulated:.2f} s + "
        f"options priced {priced:.2f} s + solved {solved:.2f} s = {total:.2f} s (target < 60 s: "
        f"{'met' if total < 60 else 'NOT met'})"
    )
    print(
        f"  bound {bound.upper_bound / 100:,.0f} CNY; its book {bound.profit / 100:,.0f} CNY at a loss rate of "
        f"{bound.loss_rate:.2%} (budget {args.loss_rate_max:.0%}), feasible: {bound.feasible}"
    )
    del portfolio, simulation, options

    portfolio = synthesize(
        SynthSpec(accounts=args.search_accounts, months=12, seed=3, currency="CNY", horizon_months=1)
    )
    book = book_of(portfolio)
    simulation = simulate(book, [("base", base)], CASH_LINE, outcomes=portfolio.outcomes)
    started = time.perf_counter()
    tried = search_strategies(book, base, simulation, candidates=args.candidates)
    searched = time.perf_counter() - started
    within = [candidate for candidate in tried if candidate.meets(budgets)]
    best = max(within, key=lambda candidate: candidate.profit, default=None)
    print(
        f"search, {len(tried)} strategies on {args.search_accounts:,} accounts: {searched:.1f} s "
        f"({searched / max(len(tried), 1):.2f} s a strategy; target < 300 s: {'met' if searched < 300 else 'NOT met'})"
    )
    if best is not None:
        print(f"  best within the budget: {best.profit / 100:,.0f} CNY at a loss rate of {best.loss_rate:.2%}")
    peak_gb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2
    print(f"peak RSS {peak_gb:.1f} GB; load average at the end {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
