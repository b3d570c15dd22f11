"""Decision throughput: ``decide`` on 1,000,000 accounts, recourse for 100,000, one account.

Fits linewise's scorecard and GBM on the bundled UCI portfolio's behaviour features
(monotone signs from the registry, as ``linewise model train --portfolio`` does),
tiles those 30,000 feature rows to ``--accounts`` accounts with new ids, and times,
for each model, with the shipped default strategy:

- decisions with reasons (model scoring and model reasons included, no recourse)
  for ``--accounts`` accounts;
- recourse for ``--held`` accounts that were not increased (``decide`` with
  recourse, minus the same call without it);
- one account's decision with reasons and recourse (median and 95th percentile of
  ``--repeats`` runs, after a warm-up call).

``decide`` works through a large frame in batches of ``linewise.decide.BATCH``
accounts, as ``linewise review`` does.

Targets (the issue): 1,000,000 decisions in under 10 s, recourse for 100,000 held
accounts in under 30 s, one account in under 20 ms, on 2 cores.

Usage::

    .venv/bin/python benchmarks/decide_throughput.py [--accounts 1000000] [--held 100000]
        [--repeats 50] [--models scorecard,gbm]
"""

from __future__ import annotations

import argparse
import statistics
import time
from datetime import date

import numpy as np
import pandas as pd

from linewise.data.importers.uci_taiwan import uci_portfolio
from linewise.decide import decide
from linewise.features import REGISTRY
from linewise.features.projection import History, history_of
from linewise.models.base import RiskModel
from linewise.models.gbm import GradientBoostedModel
from linewise.models.inputs import inputs_from_portfolio
from linewise.models.scorecard import Scorecard
from linewise.strategy import default_strategy_text, read_strategy
from linewise.strategy.compiled import Strategy, compile_strategy
from linewise.strategy.evaluate import Context

AS_OF = date(2005, 9, 30)
TARGETS = {"decisions": 10.0, "recourse": 30.0, "one": 0.020}


def tiled(features: pd.DataFrame, rows: int) -> pd.DataFrame:
    """``rows`` rows cycling through ``features``, each with its own account id."""
    picked = features.iloc[np.arange(rows) % len(features)].copy()
    picked.index = pd.Index([f"T{i}" for i in range(rows)], name="account_id")
    return picked


def tiled_history(history: History, accounts: pd.Index, rows: int) -> History:
    """The history of :func:`tiled`'s rows: ``accounts``' histories cycled, renamed alike."""
    source = history.position_of(accounts)[np.arange(rows) % len(accounts)]
    return history.rows(source, ids=np.asarray([f"T{i}" for i in range(rows)], dtype=object))


def timed(run) -> float:  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    run()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--accounts", type=int, default=1_000_000)
    parser.add_argument("--held", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=50)
    parser.add_argument("--models", default="scorecard,gbm")
    args = parser.parse_args()

    portfolio = uci_portfolio()
    inputs = inputs_from_portfolio(portfolio)
    features = inputs.features
    history = history_of(portfolio.panel, portfolio.customers, AS_OF)
    monotone = {n: REGISTRY[n].risk_direction.sign for n in features.columns if n in REGISTRY}
    strategy = compile_strategy(read_strategy(default_strategy_text()))
    kinds: dict[str, type[RiskModel]] = {"scorecard": Scorecard, "gbm": GradientBoostedModel}
    print(f"default strategy, {len(features):,} UCI feature rows tiled; 2 cores")
    for kind in args.models.split(","):
        model = kinds[kind](monotone=monotone).fit(features, inputs.bad)
        measure(kind, model, features, history, strategy, args)


def measure(
    kind: str, model: RiskModel, features: pd.DataFrame, history: History, strategy: Strategy, args: argparse.Namespace
) -> None:
    """Print the three figures for one model."""
    context = Context(as_of=AS_OF)

    def run(frame: pd.DataFrame, *, recourse: bool, lived: History | None = None) -> pd.DataFrame:
        return decide(
            frame, model=model, model_ref=kind, strategy=strategy, context=context, history=lived, recourse=recourse
        )

    sample = run(features, recourse=False)
    many = tiled(features, args.accounts)
    seconds = timed(lambda: run(many, recourse=False))
    print(
        f"{kind}: {args.accounts:,} decisions with reasons: {seconds:.2f} s "
        f"({args.accounts / seconds:,.0f}/s; target < {TARGETS['decisions']:.0f} s)"
    )

    not_raised = features[(sample["action"] != "increase").to_numpy()]
    held = tiled(not_raised, args.held)
    held_history = tiled_history(history, not_raised.index, args.held)
    with_recourse = timed(lambda: run(held, recourse=True, lived=held_history))
    without = timed(lambda: run(held, recourse=False))
    print(
        f"{kind}: recourse for {args.held:,} accounts not increased: "
        f"{with_recourse - without:.2f} s (decide with recourse {with_recourse:.2f} s, "
        f"without {without:.2f} s; target < {TARGETS['recourse']:.0f} s)"
    )

    found = run(held.iloc[:2000], recourse=True, lived=held_history)
    with_way_up = found["recourse"].map(len) > 0
    # One whose recourse is found, and one for whom every candidate is tried in vain.
    for label, row in (
        ("with recourse", np.flatnonzero(with_way_up)[0]),
        ("without any (every candidate tried)", np.flatnonzero(~with_way_up)[0]),
    ):
        account = held.iloc[[int(row)]]
        own = held_history.rows(np.asarray([int(row)]))  # one account's history, as a service reads it
        run(account, recourse=True, lived=own)  # warm: first calls import and cache
        runs = sorted(
            timed(lambda account=account, own=own: run(account, recourse=True, lived=own)) for _ in range(args.repeats)
        )
        p95 = runs[min(len(runs) - 1, int(0.95 * len(runs)))]
        print(
            f"{kind}: one account {label}: median {statistics.median(runs) * 1000:.1f} ms, "
            f"95th percentile {p95 * 1000:.1f} ms, max {runs[-1] * 1000:.1f} ms over "
            f"{args.repeats} runs (target < {TARGETS['one'] * 1000:.0f} ms)"
        )


if __name__ == "__main__":
    main()
