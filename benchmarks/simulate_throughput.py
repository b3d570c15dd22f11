"""A strategy simulated on a million accounts (issue 14: in under 30 s on 2 cores).

Draws a synthetic portfolio of ``--accounts`` accounts over 12 months in CNY (the
generator's own time is reported, not counted), fits a GBM on a 50,000-account
synthetic portfolio of another seed, and times ``linewise.simulate.simulate`` with
the shipped strategy (in CNY) end to end: features, deciding through the application
layer in batches (model, strategy, reasons; no recourse), the CCF and revolving share
read off the portfolio, and pricing each line month by month at the PD and at both
ends of its uncertainty, against the status quo. Then the summary (per segment and
grade). With ``--strategies 2`` a looser second strategy is simulated beside the
first, and the swap set computed.

Usage::

    .venv/bin/python benchmarks/simulate_throughput.py [--accounts 1000000] [--strategies 1]
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
from linewise.simulate import Assumptions, simulate, simulation_summary
from linewise.strategy import default_strategy_text, read_strategy
from linewise.strategy.compiled import compile_strategy

TARGET_SECONDS = 30.0


def _strategy(appetite: str, name: str):
    text = default_strategy_text().replace("\ncurrency: TWD\n", "\ncurrency: CNY\n")
    text = text.replace("risk_appetite: 1.0", f"risk_appetite: {appetite}").replace(
        "strategy: default", f"strategy: {name}"
    )
    return compile_strategy(read_strategy(text))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=1_000_000)
    parser.add_argument("--strategies", type=int, choices=(1, 2), default=1)
    args = parser.parse_args()

    started = time.perf_counter()
    portfolio = synthesize(SynthSpec(accounts=args.accounts, months=12, seed=1, currency="CNY"))
    print(
        f"portfolio: {args.accounts:,} accounts x 12 months drawn in {time.perf_counter() - started:.1f} s (not counted)"
    )
    training = synthesize(SynthSpec(accounts=50_000, months=12, seed=2, currency="CNY"))
    inputs = inputs_from_portfolio(training)
    monotone = {name: REGISTRY[name].risk_direction.sign for name in inputs.features.columns if name in REGISTRY}
    model = GradientBoostedModel(monotone=monotone).fit(inputs.features, inputs.bad)
    deciders = [("default", Decider(model, "synthetic-gbm@bench", _strategy("1.0", "default")))]
    if args.strategies == 2:
        deciders.append(("looser", Decider(model, "synthetic-gbm@bench", _strategy("1.2", "looser"))))
    book = book_of(portfolio)

    started = time.perf_counter()
    simulation = simulate(book, deciders, Assumptions(), outcomes=portfolio.outcomes)
    simulated = time.perf_counter() - started
    started = time.perf_counter()
    summary = simulation_summary(simulation)
    summarised = time.perf_counter() - started

    total = simulated + summarised
    rate = args.accounts * args.strategies / total
    peak_gb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2
    verdict = "met" if total < TARGET_SECONDS * args.strategies * args.accounts / 1_000_000 else "NOT met"
    print(
        f"simulate: {args.accounts:,} accounts x {args.strategies} strategy(ies): {simulated:.2f} s "
        f"+ summary {summarised:.2f} s = {total:.2f} s ({rate:,.0f} account-strategies/s; target < "
        f"{TARGET_SECONDS:.0f} s a strategy per million: {verdict})"
    )
    first = summary["strategies"][0]
    print(
        f"  {first['label']}: increase {first['actions']['increase']:,}, freeze {first['actions']['freeze']:,}; "
        f"expected profit {first['expected_profit']['value'] / 100:,.0f} CNY; CCF {summary['ccf']['value']:.3f} "
        f"({summary['ccf']['source']}), revolving share {summary['revolving_share']['value']:.3f}"
    )
    print(f"peak RSS {peak_gb:.1f} GB; load average at the end {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
