"""Synthetic portfolio generation: time and peak memory, validation included.

Generates ``--accounts`` lines over ``--months`` month ends with
``linewise.data.synthetic.synthesize`` (which validates the tables into a
``Portfolio``, part of the product and so of the time), optionally writes them as
Parquet with ``linewise.data.write_portfolio``, and prints accounts, panel rows,
seconds, and the process's peak resident memory.

Target (the issue): 1,000,000 accounts x 12 months in under 60 s and under 4 GB on
2 cores.

Usage::

    .venv/bin/python benchmarks/synth_portfolio.py [--accounts 1000000] [--months 12]
        [--seed 0] [--out DIR]
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from pathlib import Path

from linewise.data import write_portfolio
from linewise.data.synthetic import SynthSpec, synthesize


def _peak_rss_gb() -> float:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    # Linux reports kibibytes, macOS bytes.
    per_unit = 1 if sys.platform == "darwin" else 1024
    return peak * per_unit / 1e9


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=1_000_000)
    parser.add_argument("--months", type=int, default=12)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--out", type=Path, default=None, help="also write the portfolio as Parquet into this directory"
    )
    args = parser.parse_args()

    spec = SynthSpec(accounts=args.accounts, months=args.months, seed=args.seed)
    started = time.perf_counter()
    portfolio = synthesize(spec)
    generated = time.perf_counter() - started
    print(f"accounts            {portfolio.n_accounts:>12,}")
    print(f"panel rows          {len(portfolio.panel):>12,}")
    assert portfolio.outcomes is not None
    print(f"bad rate            {portfolio.outcomes['default'].mean():>12.2%}")
    print(f"generate+validate s {generated:>12.1f}")
    if args.out is not None:
        started = time.perf_counter()
        write_portfolio(portfolio, args.out)
        print(f"write Parquet s     {time.perf_counter() - started:>12.1f}")
    print(f"peak RSS GB         {_peak_rss_gb():>12.2f}")


if __name__ == "__main__":
    main()
