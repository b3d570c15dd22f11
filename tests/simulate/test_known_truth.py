"""The lab's predictions against a world whose truth is known: a synthetic book played forward.

The synthetic generator draws a book, a model is fitted on it, and the lab decides and
prices it as it would a lender's. The generator then plays the book on for a year
under those very decisions, with its own behaviour, hazard and balance response,
none of which the lab reads; what it books is compared with what the lab predicted.
"""

from __future__ import annotations

import pandas as pd
import pytest

from linewise.data.forward import RECOVERY, play_forward
from linewise.data.synthetic import SynthSpec, synthesize
from linewise.features import REGISTRY
from linewise.models.gbm import GradientBoostedModel
from linewise.models.inputs import inputs_from_portfolio
from linewise.review.run import Decider
from linewise.review.sources import book_of
from linewise.simulate import Assumptions, simulate, simulation_summary
from linewise.strategy import default_strategy_text, read_strategy
from linewise.strategy.compiled import compile_strategy

SPEC = SynthSpec(accounts=20_000, months=12, seed=11, currency="CNY", horizon_months=12)
YEAR = 12
COST_OF_FUNDS = 0.04

pytestmark = pytest.mark.slow


def strategy(appetite: str, name: str):
    text = default_strategy_text().replace("\ncurrency: TWD\n", "\ncurrency: CNY\n")
    text = text.replace("risk_appetite: 1.0", f"risk_appetite: {appetite}").replace(
        "strategy: default", f"strategy: {name}"
    )
    return compile_strategy(read_strategy(text))


@pytest.fixture(scope="module")
def lab_and_world():
    portfolio = synthesize(SPEC)
    inputs = inputs_from_portfolio(portfolio)
    monotone = {name: REGISTRY[name].risk_direction.sign for name in inputs.features.columns if name in REGISTRY}
    model = GradientBoostedModel(monotone=monotone).fit(inputs.features, inputs.bad)
    # What the world's lender knows of its own book: its rates and how much it recovers.
    assumptions = Assumptions(lgd=1 - RECOVERY, apr=0.18, cost_of_funds=COST_OF_FUNDS, horizon_months=YEAR)
    deciders = [
        ("default", Decider(model, "synthetic-gbm@test", strategy("1.0", "default"))),
        ("tight", Decider(model, "synthetic-gbm@test", strategy("0.8", "tight"))),
    ]
    simulation = simulate(book_of(portfolio), deciders, assumptions, outcomes=portfolio.outcomes)
    predicted = {item["label"]: item for item in simulation_summary(simulation)["strategies"]}
    booked = {run.label: _booked(play_forward(SPEC, run.decisions, YEAR)) for run in simulation.runs}
    return predicted, booked


def _booked(world: pd.DataFrame) -> dict[str, float]:
    funding = world["funded_balance"].sum() * COST_OF_FUNDS / 12
    return {
        "expected_loss": float(world["loss"].sum()),
        "expected_revenue": float(world["interest"].sum()),
        "cost_of_funds": float(funding),
        "expected_profit": float(world["interest"].sum() - funding - world["loss"].sum()),
    }


@pytest.mark.parametrize("label", ["default", "tight"])
def test_the_loss_and_profit_the_world_books_lie_within_the_labs_intervals(lab_and_world, label):
    predicted, booked = lab_and_world
    for figure in ("expected_loss", "expected_profit"):
        told = predicted[label][figure]
        assert told["low"] <= booked[label][figure] <= told["high"], (figure, told, booked[label][figure])


@pytest.mark.parametrize("label", ["default", "tight"])
def test_revenue_and_funding_are_predicted_within_a_tenth(lab_and_world, label):
    # Their intervals carry the PD's uncertainty only, not the balances' own path
    # (the lab holds a line's balance where it is unless its limit is raised), which
    # is why they are held to a tolerance here rather than to the interval.
    predicted, booked = lab_and_world
    for figure in ("expected_revenue", "cost_of_funds"):
        assert booked[label][figure] == pytest.approx(predicted[label][figure]["value"], rel=0.10), figure


def test_a_tighter_appetite_raises_fewer_lines_and_the_lab_and_the_world_agree_it_lends_less(lab_and_world):
    predicted, booked = lab_and_world
    assert predicted["tight"]["actions"]["increase"] < predicted["default"]["actions"]["increase"]
    assert predicted["tight"]["limit_added"] < predicted["default"]["limit_added"]
    assert booked["tight"]["cost_of_funds"] < booked["default"]["cost_of_funds"]
    assert predicted["tight"]["cost_of_funds"]["value"] < predicted["default"]["cost_of_funds"]["value"]
