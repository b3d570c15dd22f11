"""Simulating strategies on a book: decide through the application layer, then price.

Every strategy is decided by :func:`linewise.review.decide_book`, exactly as a review
would decide it (no decision is re-implemented here), without recourse and without
logging; the decisions are then priced (:mod:`.economics`) against the status quo,
every line left as it is.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from linewise.errors import InputError
from linewise.review.run import Decider, ReviewRequest, decide_book
from linewise.review.sources import Book, month_described
from linewise.simulate.assumptions import Assumptions
from linewise.simulate.economics import Lines, Priced, price_with_interval, response_factor
from linewise.simulate.estimates import Estimate, carried_share_by_account, estimate_ccf, estimate_revolving_share

RUN_OFF_MONTHS = 3

__all__ = ["Simulation", "StrategyRun", "increased", "mask_of", "realised_defaults", "simulate"]


@dataclass(frozen=True)
class StrategyRun:
    """One strategy's decisions on the book and their prices."""

    label: str
    decider: Decider
    decisions: pd.DataFrame
    priced: Priced


@dataclass(frozen=True)
class Simulation:
    """Strategies decided on one book and priced with one set of assumptions.

    ``runs[0]`` is the champion the others are compared with. ``balance`` is each
    account's balance at the month decided; ``ccf`` and ``revolving`` the rates priced
    with, and where they came from; ``run_off`` each account's own carried-over share and
    ``response`` its factor on the balance-response path. ``realised`` holds, per account, whether it
    defaulted within the outcome horizon that opened at the as-of month (None when the
    book's outcomes are not known).
    """

    as_of: date
    currency: str
    source: str
    assumptions: Assumptions
    ccf: Estimate
    revolving: Estimate
    run_off: pd.Series
    response: pd.Series
    pd_horizon_months: int
    balance: pd.Series
    status_quo: Priced
    runs: tuple[StrategyRun, ...]
    realised: pd.Series | None


def simulate(
    book: Book,
    deciders: Sequence[tuple[str, Decider]],
    assumptions: Assumptions,
    *,
    outcomes: pd.DataFrame | None = None,
    on_strategy: Callable[[str], None] | None = None,
    on_progress: Callable[[int, int], None] | None = None,
) -> Simulation:
    """Decide every account of ``book`` under each (label, decider) and price the decisions.

    ``outcomes`` (the portfolio's, when known) give the CCF and the PD's horizon
    unless the assumptions set them, and the realised defaults of a back-test.
    Raises InputError when no strategy is given, two share a label, or the PD's
    horizon is neither assumed nor known from the outcomes.
    """
    if not deciders:
        raise InputError.for_field(
            "strategy_required", where="simulate", field="--strategy", rule="at least one strategy", value=0
        )
    labels = [label for label, _ in deciders]
    if len(set(labels)) != len(labels):
        raise InputError.for_field(
            "strategy_repeated",
            where="simulate",
            field="--strategy",
            rule="each strategy once",
            value=sorted({label for label in labels if labels.count(label) > 1}),
        )
    month = month_described(book)
    at_month = _outcomes_at(outcomes, month)
    horizon = assumptions.pd_horizon_months or _outcome_horizon(at_month)
    runs = []
    for label, decider in deciders:
        if on_strategy is not None:
            on_strategy(label)
        decided = decide_book(
            book, decider, ReviewRequest(trigger="review", recourse=False, log=False), log=None, on_progress=on_progress
        )
        runs.append((label, decider, decided.decisions))
    champion = runs[0][2]
    month_rows = book.panel.loc[book.panel["month"] == pd.Timestamp(month)]
    balance = month_rows.set_index("account_id")["balance"]
    response = response_factor(champion.set_index("account_id")["pd"], assumptions)
    ccf = _ccf(book, outcomes, month, assumptions)
    revolving = _revolving(book, month, assumptions)
    # Each line pays down at its own pace of the last three months: a line that has
    # fallen behind pays little, whatever it paid a year ago. A line whose payments are
    # unknown pays down at the book's pace.
    run_off = carried_share_by_account(book.panel, month, lookback_months=RUN_OFF_MONTHS)
    run_off = run_off.reindex(balance.index).fillna(revolving.value)

    def priced(decisions: pd.DataFrame, *, status_quo: bool = False) -> Priced:
        lines = Lines.from_decisions(decisions, balance, response, run_off, status_quo=status_quo)
        return price_with_interval(
            lines, assumptions, ccf=ccf.value, pd_horizon_months=horizon, revolving=revolving.value
        )

    return Simulation(
        as_of=book.as_of,
        currency=book.currency,
        source=book.source,
        assumptions=assumptions,
        ccf=ccf,
        revolving=revolving,
        run_off=run_off,
        response=response,
        pd_horizon_months=horizon,
        balance=balance,
        status_quo=priced(champion, status_quo=True),
        runs=tuple(StrategyRun(label, decider, decisions, priced(decisions)) for label, decider, decisions in runs),
        realised=None if at_month is None else realised_defaults(at_month),
    )


def realised_defaults(outcomes: pd.DataFrame) -> pd.Series:
    """Per account, whether it went bad within its outcome horizon."""
    return outcomes.set_index("account_id")["default"].astype(bool)


def _outcomes_at(outcomes: pd.DataFrame | None, month: date) -> pd.DataFrame | None:
    """The outcomes whose window opens at ``month`` (None when there are none)."""
    if outcomes is None or outcomes.empty:
        return None
    rows = outcomes.loc[pd.to_datetime(outcomes["as_of"]) == pd.Timestamp(month)]
    return None if rows.empty else rows


def _outcome_horizon(outcomes: pd.DataFrame | None) -> int:
    horizons = [] if outcomes is None else sorted(set(outcomes["horizon_months"].astype(int)))
    if len(horizons) != 1:
        raise InputError.for_field(
            "pd_horizon_unknown",
            where="simulate",
            field="pd_horizon_months",
            rule="set in the assumptions file, or one outcome horizon in the portfolio at the month simulated",
            value=horizons or None,
        )
    return int(horizons[0])


def _ccf(book: Book, outcomes: pd.DataFrame | None, month: date, assumptions: Assumptions) -> Estimate:
    if assumptions.ccf is not None:
        return Estimate(assumptions.ccf, "assumed")
    estimate = estimate_ccf(book.panel, outcomes, month)
    return estimate if estimate is not None else Estimate(assumptions.ccf_fallback, "fallback")


def _revolving(book: Book, month: date, assumptions: Assumptions) -> Estimate:
    if assumptions.revolving_share is not None:
        return Estimate(assumptions.revolving_share, "assumed")
    estimate = estimate_revolving_share(book.panel, month)
    return estimate if estimate is not None else Estimate(1.0, "fallback")


def increased(decisions: pd.DataFrame) -> pd.Series:
    """Per account (indexed by account id), whether its limit was raised."""
    return pd.Series(
        (decisions["action"] == "increase").to_numpy(), index=pd.Index(decisions["account_id"]), dtype=bool
    )


def mask_of(decisions: pd.DataFrame, accounts: pd.Index) -> np.ndarray:
    """A boolean array over ``decisions``' rows: whether each row's account is in ``accounts``."""
    return decisions["account_id"].isin(accounts).to_numpy()
