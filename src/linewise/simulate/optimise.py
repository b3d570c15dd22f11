"""The best a book could do under its budgets, and the best strategy file found towards it.

**The per-account upper bound.** Every account may take any of: hold, a raise to one
of the next tiers of the ladder above its limit (at most :data:`MAX_TIERS`, as many as
a strategy of the search may climb in one review), a cut to the tier below, or a
freeze. Each option
is priced (:func:`linewise.simulate.economics.price`), and the book's choice maximises
expected profit subject to budgets: the expected loss rate (expected loss over the
average balance expected) at most ``loss_rate_max``, and the limit added at most
``limit_added_max``. This is a multiple-choice knapsack with two constraints, solved
by Lagrangian decomposition: for multipliers ``λ`` (loss) and ``μ`` (limit added) each
account takes its best option alone, and the smallest multipliers whose choices meet
the budgets are found by bisection (the budgets used fall as the multipliers rise).
The Lagrangian dual at those multipliers bounds every choice that meets the budgets
from above; the choices themselves are a feasible book, whose profit is reported
with the gap. Vectorised over accounts; written here because no maintained solver
takes a million accounts' choices in seconds (scipy's HiGHS would need a variable
per account and option).

**The deployable answer** (:func:`search_strategies`): strategy files, the base one's
parameters varied (risk appetite, the grades that may be raised, tiers per review,
step and cool-down, the utilisation gate, the PD that cuts a line and by how much),
each decided through the application layer and priced like any other; the most
profitable one within the budgets is kept, and reported as a share of the upper
bound.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import yaml
from scipy.stats import qmc

from linewise.errors import InputError, StrategyValidationError
from linewise.money import currency_exponent
from linewise.review.run import Decider, ReviewRequest, decide_book
from linewise.review.sources import Book
from linewise.simulate.assumptions import Assumptions
from linewise.simulate.economics import Lines, price
from linewise.simulate.run import Simulation, simulate
from linewise.strategy import read_strategy
from linewise.strategy.compiled import compile_strategy
from linewise.textfiles import parse_yaml

__all__ = ["Bound", "Budgets", "Candidate", "optimise", "option_grid", "search_strategies", "upper_bound"]

_BISECTIONS = 40
# The most tiers a raise may climb, in the bound as in the search (max_tiers_per_review).
MAX_TIERS = 3


@dataclass(frozen=True)
class Budgets:
    """A book's risk appetite in numbers: the loss rate and the limit it may add (minor units)."""

    loss_rate_max: float | None = None
    limit_added_max: int | None = None


@dataclass(frozen=True)
class Options:
    """Each account's options (columns) priced: profit, loss, balance and limit added per option."""

    labels: tuple[str, ...]
    new_limit: np.ndarray
    valid: np.ndarray
    profit: np.ndarray
    loss: np.ndarray
    balance: np.ndarray
    added: np.ndarray


@dataclass(frozen=True)
class Bound:
    """The upper bound, the feasible book found with it, and the multipliers."""

    upper_bound: float
    profit: float
    loss_rate: float
    limit_added: float
    choice: np.ndarray
    loss_multiplier: float
    added_multiplier: float
    feasible: bool

    def as_dict(self, options: Options) -> dict[str, Any]:
        """The figures as optimise.json holds them (money in minor units)."""
        picked = pd.Series(np.asarray(options.labels)[self.choice]).str.replace(r"_\d+$", "", regex=True)
        return {
            "upper_bound": round(self.upper_bound),
            "profit": round(self.profit),
            "loss_rate": round(self.loss_rate, 6),
            "limit_added": round(self.limit_added),
            "gap": round(self.upper_bound - self.profit),
            "feasible": self.feasible,
            "actions": {str(k): int(v) for k, v in picked.value_counts().items()},
        }


def option_grid(simulation: Simulation, ladder_major: list[int], *, max_tiers: int = MAX_TIERS) -> Options:
    """Every account of the simulation's champion with its options priced at its PD.

    A raise goes up at most ``max_tiers`` tiers of the ladder (a review raises a line
    step by step: by default as far as the search lets a strategy go in one review).
    """
    decisions = simulation.runs[0].decisions
    scale = 10 ** currency_exponent(simulation.currency)
    ladder = np.asarray(sorted(ladder_major), dtype=np.float64) * scale
    current = decisions["current_limit"].to_numpy(dtype=np.float64)
    above = np.searchsorted(ladder, current, side="right")
    below = np.searchsorted(ladder, current, side="left") - 1
    steps = min(max_tiers, len(ladder))
    labels = ["hold"] + [f"raise_{k}" for k in range(1, steps + 1)] + ["cut", "freeze"]
    n, k = len(decisions), len(labels)
    new_limit = np.tile(current[:, None], (1, k))
    valid = np.ones((n, k), dtype=bool)
    for step in range(1, steps + 1):
        tier = above + step - 1
        valid[:, step] = tier < len(ladder)
        new_limit[:, step] = np.where(valid[:, step], ladder[np.minimum(tier, len(ladder) - 1)], current)
    valid[:, -2] = below >= 0
    new_limit[:, -2] = np.where(valid[:, -2], ladder[np.maximum(below, 0)], current)
    base = Lines.from_decisions(decisions, simulation.balance, simulation.response, simulation.run_off, status_quo=True)
    priced = {name: np.empty((n, k)) for name in ("profit", "loss", "balance")}
    for column in range(k):
        lines = Lines(
            current_limit=base.current_limit,
            new_limit=new_limit[:, column],
            balance=base.balance,
            pd_=base.pd_,
            frozen=np.full(n, labels[column] == "freeze"),
            response=base.response,
            run_off=base.run_off,
        )
        figures = price(
            lines,
            simulation.assumptions,
            ccf=simulation.ccf.value,
            pd_horizon_months=simulation.pd_horizon_months,
            revolving=simulation.revolving.value,
        )
        priced["profit"][:, column] = figures["expected_profit"]
        priced["loss"][:, column] = figures["expected_loss"]
        priced["balance"][:, column] = figures["average_balance"]
    added = np.maximum(new_limit - current[:, None], 0.0)
    return Options(tuple(labels), new_limit, valid, priced["profit"], priced["loss"], priced["balance"], added)


def upper_bound(options: Options, budgets: Budgets) -> Bound:
    """The most profit any per-account choice of options makes within ``budgets``, and a book that meets them.

    Raises InputError (``budget_infeasible``) when no choice meets the loss budget.
    """
    rate = budgets.loss_rate_max
    excess = options.loss - (rate if rate is not None else 0.0) * options.balance

    def choose(lam: float, mu: float) -> tuple[np.ndarray, float]:
        score = options.profit - lam * excess - mu * options.added
        score = np.where(options.valid, score, -np.inf)
        choice = score.argmax(axis=1)
        dual = float(score[np.arange(len(choice)), choice].sum()) + mu * (budgets.limit_added_max or 0)
        return choice, dual

    def used(choice: np.ndarray) -> tuple[float, float]:
        rows = np.arange(len(choice))
        return float(excess[rows, choice].sum()), float(options.added[rows, choice].sum())

    def smallest(meets: Callable[[float], bool], *, active: bool) -> float:
        if not active or meets(0.0):
            return 0.0
        high = 1.0
        while not meets(high):
            high *= 4
            if high > 1e12:
                raise InputError.for_field(
                    "budget_infeasible",
                    where="optimise",
                    field="--loss-rate-max",
                    rule="a loss rate some choice of holds, cuts and freezes meets",
                    value=rate,
                )
        low = 0.0
        for _ in range(_BISECTIONS):
            middle = (low + high) / 2
            low, high = (low, middle) if meets(middle) else (middle, high)
        return high

    def loss_multiplier(mu: float) -> float:
        return smallest(lambda lam: used(choose(lam, mu)[0])[0] <= 0, active=rate is not None)

    cap = budgets.limit_added_max
    mu = smallest(lambda m: used(choose(loss_multiplier(m), m)[0])[1] <= cap, active=True) if cap is not None else 0.0
    lam = loss_multiplier(mu)
    choice, dual = choose(lam, mu)
    rows = np.arange(len(choice))
    over_loss, added = used(choice)
    balance = float(options.balance[rows, choice].sum())
    loss = float(options.loss[rows, choice].sum())
    return Bound(
        upper_bound=dual,
        profit=float(options.profit[rows, choice].sum()),
        loss_rate=loss / balance if balance > 0 else 0.0,
        limit_added=added,
        choice=choice,
        loss_multiplier=lam,
        added_multiplier=mu,
        feasible=(rate is None or over_loss <= 1e-6 * max(balance, 1.0)) and (cap is None or added <= cap),
    )


@dataclass(frozen=True)
class Candidate:
    """A strategy tried: its settings, its text, and what it would earn and lose."""

    settings: dict[str, Any]
    text: str
    profit: float
    loss_rate: float
    limit_added: float

    def meets(self, budgets: Budgets) -> bool:
        """Whether the strategy stays within ``budgets``."""
        return (budgets.loss_rate_max is None or self.loss_rate <= budgets.loss_rate_max) and (
            budgets.limit_added_max is None or self.limit_added <= budgets.limit_added_max
        )


# What the search varies, and over what: the base strategy's own value is tried too.
SEARCH_SPACE: dict[str, tuple[float, float] | tuple[int, int]] = {
    "risk_appetite": (0.5, 1.5),
    "increase_grades": (1, 3),
    "max_tiers_per_review": (1, MAX_TIERS),
    "step_pct_max": (20, 100),
    "cooldown_days": (30, 180),
    "utilisation_gate": (0.6, 1.0),
    "cut_pd": (0.2, 0.9),
    "cut_tiers": (1, 3),
}


def search_strategies(
    book: Book,
    base: Decider,
    simulation: Simulation,
    *,
    candidates: int,
    seed: int = 0,
    on_candidate: Callable[[int, int], None] | None = None,
) -> list[Candidate]:
    """The base strategy and ``candidates`` variations of it, each decided on ``book`` and priced.

    ``simulation`` is the base strategy's on ``book``: the CCF, revolving share, PD
    horizon and balance response it read are the candidates' too. Each candidate is
    decided by :func:`linewise.review.decide_book` and priced at its PDs. Variations
    are spread over :data:`SEARCH_SPACE` by a Latin hypercube (``seed``); one that
    does not validate as a strategy file is skipped.
    """
    base_text = base.strategy.loaded.text
    base_data = parse_yaml(base_text, "base strategy").data
    tried: list[Candidate] = []
    # A Latin hypercube: every parameter's range is covered evenly for any number of candidates.
    sampler = qmc.LatinHypercube(d=len(SEARCH_SPACE), seed=seed)
    points = sampler.random(candidates) if candidates else np.empty((0, len(SEARCH_SPACE)))
    settings_list: list[dict[str, Any] | None] = [None, *(_settings(point) for point in points)]
    for index, settings in enumerate(settings_list):
        text = base_text if settings is None else _varied(base_data, settings, index)
        try:
            strategy = compile_strategy(read_strategy(text, f"candidate {index}"))
        except StrategyValidationError:
            continue
        decider = Decider(
            base.model, base.model_ref, strategy, base.model_source, f"candidate {index}", base.model_currency
        )
        decisions = decide_book(book, decider, ReviewRequest(recourse=False, log=False), log=None).decisions
        mid = price(
            Lines.from_decisions(decisions, simulation.balance, simulation.response, simulation.run_off),
            simulation.assumptions,
            ccf=simulation.ccf.value,
            pd_horizon_months=simulation.pd_horizon_months,
            revolving=simulation.revolving.value,
        )
        balance = float(mid["average_balance"].sum())
        change = (decisions["new_limit"] - decisions["current_limit"]).clip(lower=0)
        tried.append(
            Candidate(
                settings=settings or {"base": True},
                text=text,
                profit=float(mid["expected_profit"].sum()),
                loss_rate=float(mid["expected_loss"].sum()) / balance if balance > 0 else 0.0,
                limit_added=float(change.sum()),
            )
        )
        if on_candidate is not None:
            on_candidate(index + 1, len(settings_list))
    return tried


def _settings(point: np.ndarray) -> dict[str, Any]:
    values = {}
    for (name, (low, high)), u in zip(SEARCH_SPACE.items(), point, strict=True):
        value = low + u * (high - low)
        values[name] = round(float(value), 2) if isinstance(low, float) else round(float(value))
    return values


def _varied(base: dict[str, Any], settings: dict[str, Any], index: int) -> str:
    data = copy.deepcopy(base)
    data["strategy"] = f"{base['strategy']}_candidate_{index}"
    data["risk_appetite"] = settings["risk_appetite"]
    grades = [grade["name"] for grade in data["grades"]]
    data["increase"]["grades"] = grades[: settings["increase_grades"]]
    data["increase"]["max_tiers_per_review"] = settings["max_tiers_per_review"]
    data["increase"]["step_pct_max"] = settings["step_pct_max"]
    data["increase"]["cooldown_days"] = settings["cooldown_days"]
    for gate in data["increase"].get("gates", []):
        if gate.get("feature") == "utilisation_current":
            gate["value"] = settings["utilisation_gate"]
    for rule in data.get("decrease", []):
        for condition in rule["when"]:
            if condition.get("feature") == "pd":
                condition["value"] = settings["cut_pd"]
                rule["tiers_down"] = settings["cut_tiers"]
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)


def optimise(
    book: Book,
    base: Decider,
    assumptions: Assumptions,
    budgets: Budgets,
    *,
    candidates: int,
    outcomes: pd.DataFrame | None = None,
    seed: int = 0,
    on_candidate: Callable[[int, int], None] | None = None,
) -> tuple[dict[str, Any], str | None]:
    """The upper bound within ``budgets``, the strategies tried, the best within them, the frontier.

    Returns the report (optimise.json's content) and the best strategy's text (None
    when no strategy tried meets the budgets).
    """
    simulation = simulate(book, [("base", base)], assumptions, outcomes=outcomes)
    options = option_grid(simulation, [int(tier) for tier in base.strategy.loaded.spec.ladder])
    bound = upper_bound(options, budgets)
    tried = search_strategies(book, base, simulation, candidates=candidates, seed=seed, on_candidate=on_candidate)
    within = [candidate for candidate in tried if candidate.meets(budgets)]
    best = max(within, key=lambda candidate: candidate.profit, default=None)
    base_tried = next((candidate for candidate in tried if candidate.settings == {"base": True}), None)

    def described(candidate: Candidate | None) -> dict[str, Any] | None:
        if candidate is None:
            return None
        return {
            "profit": round(candidate.profit),
            "loss_rate": round(candidate.loss_rate, 6),
            "limit_added": round(candidate.limit_added),
            "share_of_bound": _share(candidate.profit, bound.upper_bound),
            "within_budgets": candidate.meets(budgets),
            "settings": candidate.settings,
        }

    report = {
        "accounts": len(simulation.runs[0].decisions),
        "budgets": {"loss_rate_max": budgets.loss_rate_max, "limit_added_max": budgets.limit_added_max},
        "upper_bound": bound.as_dict(options),
        "base": described(base_tried),
        "best": described(best),
        "candidates_tried": len(tried),
        "frontier": _frontier(options, tried, budgets),
    }
    return report, None if best is None else best.text


def _share(profit: float, bound: float) -> float | None:
    """``profit`` as a share of ``bound``; None when the bound is not a positive profit."""
    return round(profit / bound, 4) if bound > 0 else None


def _frontier(options: Options, tried: list[Candidate], budgets: Budgets) -> list[dict[str, Any]]:
    """One point per loss budget, from below the lowest rate seen to the highest: the bound and the best found."""
    rates = sorted(candidate.loss_rate for candidate in tried)
    if not rates:
        return []
    unconstrained = upper_bound(options, Budgets(limit_added_max=budgets.limit_added_max)).loss_rate
    low = 0.8 * min(rates[0], unconstrained)
    points = sorted(
        {*np.linspace(low, rates[-1], 6), *rates[:1], *([budgets.loss_rate_max] if budgets.loss_rate_max else [])}
    )
    frontier = []
    for rate in points:
        at = Budgets(loss_rate_max=float(rate), limit_added_max=budgets.limit_added_max)
        try:
            bound: float | None = upper_bound(options, at).upper_bound
        except InputError:
            bound = None
        best = max((c.profit for c in tried if c.meets(at)), default=None)
        frontier.append(
            {
                "loss_rate_max": float(rate),
                "upper_bound": None if bound is None else round(bound),
                "best_strategy": None if best is None else round(best),
            }
        )
    return frontier
