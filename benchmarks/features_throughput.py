"""Feature computation for a whole book: seconds and peak memory of ``compute_features``.

Synthesizes ``--accounts`` lines over ``--months`` month ends
(``linewise.data.synthetic.synthesize``, timed apart), then times
``compute_features`` for every account at the last month, best of ``--repeats``.
Peak resident memory comes from ``resource.getrusage``: once for the whole process
(synthesis included), and once for feature computation alone, after resetting the
kernel's high-water mark through ``/proc/self/clear_refs`` where Linux allows it.

Target (the issue): 1,000,000 accounts x 12 months in under 30 s on 2 cores.

``--profile`` prints cProfile's top entries, and the seconds of each stage
(the panel window, then each feature family).

Usage::

    .venv/bin/python benchmarks/features_throughput.py [--accounts 1000000]
        [--months 12] [--seed 0] [--repeats 1] [--profile]
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import resource
import sys
import time
from pathlib import Path

import pandas as pd

from linewise.data.synthetic import SynthSpec, synthesize
from linewise.features.compute import compute_features
from linewise.features.families import bureau, income, repayment, usage
from linewise.features.window import build_window

TARGET_S = 30.0


def peak_rss_gb() -> float:
    """The process's peak resident memory so far (or since the last reset)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    # Linux reports kibibytes, macOS bytes.
    per_unit = 1 if sys.platform == "darwin" else 1024
    return peak * per_unit / 1e9


def current_rss_gb() -> float:
    """Resident memory now (Linux; NaN elsewhere)."""
    status = Path("/proc/self/status")
    if not status.exists():
        return float("nan")
    for line in status.read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024 / 1e9
    return float("nan")


def reset_peak_rss() -> bool:
    """Reset the high-water mark getrusage reports (Linux ``clear_refs`` 5)."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def stages(panel: pd.DataFrame, customers: pd.DataFrame, as_of: pd.Timestamp) -> None:
    """Seconds of the window and of each family, run one after another."""
    started = time.perf_counter()
    window = build_window(panel, as_of)
    print(f"  build_window          {time.perf_counter() - started:>7.1f} s")
    for name, run in (
        ("repayment", lambda: repayment.compute(window)),
        ("usage", lambda: usage.compute(window, customers)),
        ("income", lambda: income.compute(window, customers)),
        ("bureau", lambda: bureau.compute(window, customers)),
    ):
        started = time.perf_counter()
        run()
        print(f"  {name:<21} {time.perf_counter() - started:>7.1f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=1_000_000)
    parser.add_argument("--months", type=int, default=12)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()

    print(f"load average at the start {os.getloadavg()[0]:.1f}, {os.cpu_count()} cores")
    started = time.perf_counter()
    portfolio = synthesize(SynthSpec(accounts=args.accounts, months=args.months, seed=args.seed))
    print(
        f"synthesize            {time.perf_counter() - started:>9.1f} s  "
        f"({portfolio.n_accounts:,} accounts, {len(portfolio.panel):,} panel rows)"
    )
    print(f"peak RSS so far       {peak_rss_gb():>9.2f} GB  (synthesis included)")
    as_of = portfolio.months[-1]

    is_reset = reset_peak_rss()
    before = current_rss_gb()
    fastest = float("inf")
    for _ in range(args.repeats):
        started = time.perf_counter()
        features = compute_features(portfolio.panel, portfolio.customers, as_of)
        fastest = min(fastest, time.perf_counter() - started)
        del features
    verdict = "met" if fastest < TARGET_S else "NOT met"
    print(f"compute_features      {fastest:>9.1f} s  as of {as_of.date()}, target < {TARGET_S:.0f} s: {verdict}")
    print(f"                      {args.accounts / fastest:>9,.0f} accounts/s")
    peak = peak_rss_gb()
    if is_reset:
        print(f"peak RSS in features  {peak:>9.2f} GB  (resident before: {before:.2f} GB, so +{peak - before:.2f} GB)")
    else:
        print(f"peak RSS of process   {peak:>9.2f} GB  (the high-water mark could not be reset)")

    if args.profile:
        print("\nstages:")
        stages(portfolio.panel, portfolio.customers, as_of)
        print("\n--- cProfile: compute_features ---")
        profiler = cProfile.Profile()
        profiler.runcall(compute_features, portfolio.panel, portfolio.customers, as_of)
        pstats.Stats(profiler).strip_dirs().sort_stats("tottime").print_stats(15)
    print(f"load average at the end {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
