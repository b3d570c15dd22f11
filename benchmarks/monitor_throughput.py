"""Monitoring at scale (issue 14: a million accounts x every feature x 12 months in under 60 s).

Draws a synthetic CNY book of ``--accounts`` accounts over 12 months (not counted),
fits a GBM on a 50,000-account book of another seed, and times
``linewise.simulate.monitor.monitor`` with the shipped strategy: every month decided
through the application layer (features, model, strategy), the PSI of the score, of
every feature and of the action mix against the first month, AUC, KS and calibration
by grade where outcomes are known, and fairness at the last month.

Usage::

    .venv/bin/python benchmarks/monitor_throughput.py [--accounts 1000000]
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
from linewise.simulate.monitor import monitor
from linewise.strategy import default_strategy_text, read_strategy
from linewise.strategy.compiled import compile_strategy

TARGET_SECONDS = 60.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=1_000_000)
    args = parser.parse_args()
    training = synthesize(SynthSpec(accounts=50_000, months=12, seed=2, currency="CNY"))
    inputs = inputs_from_portfolio(training)
    monotone = {name: REGISTRY[name].risk_direction.sign for name in inputs.features.columns if name in REGISTRY}
    model = GradientBoostedModel(monotone=monotone).fit(inputs.features, inputs.bad)
    text = default_strategy_text().replace("\ncurrency: TWD\n", "\ncurrency: CNY\n")
    decider = Decider(model, "synthetic-gbm@bench", compile_strategy(read_strategy(text)))
    portfolio = synthesize(SynthSpec(accounts=args.accounts, months=12, seed=1, currency="CNY"))

    months: list[float] = []
    started = time.perf_counter()
    report = monitor(portfolio, decider, on_month=lambda _: months.append(time.perf_counter()))
    total = time.perf_counter() - started
    features = len(report["months"][-1]["features"])
    verdict = "met" if total < TARGET_SECONDS else "NOT met"
    print(
        f"monitor: {args.accounts:,} accounts x {features} features x {len(report['months'])} months: {total:.1f} s "
        f"(target < {TARGET_SECONDS:.0f} s: {verdict}); a month decided and compared in about "
        f"{(total / len(report['months'])):.1f} s"
    )
    last = report["months"][-1]
    print(
        f"  last month: score PSI {last['score']['psi']:.4f} (no-drift bound {last['score']['threshold']:.5f}), "
        f"{len(last['features_drifting'])} features drifting; AUC {last.get('performance', {}).get('auc')}"
    )
    peak_gb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2
    print(f"peak RSS {peak_gb:.1f} GB; load average at the end {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
