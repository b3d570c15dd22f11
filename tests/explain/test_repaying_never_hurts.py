"""Doing better never costs the customer, on the whole pipeline.

Each improvement is made in the panel or the customer table (never in the features),
every feature is recomputed with ``compute_features`` and the account is decided
again with ``decide``: repaying more of the balance, paying the whole of a bill,
clearing arrears or proving a higher income never turns an increase into a hold, a
hold into a cut, or lowers the new limit. Checked on the real UCI portfolio and on a
synthetic one (with income and bureau data), with both model kinds.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from linewise.data.synthetic import SynthSpec, synthesize
from linewise.decide import decide
from linewise.features import REGISTRY, compute_features
from linewise.models.inputs import inputs_from_portfolio
from linewise.models.training import make_model
from linewise.strategy import default_strategy_text, read_strategy
from linewise.strategy.compiled import compile_strategy
from linewise.strategy.evaluate import Context

SAMPLE = 4_000
# Scorecards and GBMs fitted on the whole UCI portfolio and on a synthetic one.
pytestmark = pytest.mark.slow


def _monotone(features: pd.DataFrame) -> dict[str, int]:
    return {name: REGISTRY[name].risk_direction.sign for name in features.columns if name in REGISTRY}


@pytest.fixture(scope="module")
def synthetic():
    return synthesize(SynthSpec(accounts=SAMPLE, months=14, seed=11, currency="TWD"))


@pytest.fixture(scope="module", params=["uci", "synthetic"])
def book(request, uci, uci_inputs, uci_gbm):
    """A portfolio, a sample of its accounts and the as-of month, with a model of each kind fitted on it.

    On UCI the GBM is the session's (the same monotone GBM, fitted on the same rows).
    """
    portfolio = uci if request.param == "uci" else request.getfixturevalue("synthetic")
    inputs = uci_inputs if request.param == "uci" else inputs_from_portfolio(portfolio)
    monotone = _monotone(inputs.features)
    models = {
        "scorecard": make_model("scorecard", monotone=monotone).fit(inputs.features, inputs.bad),
        "gbm": uci_gbm
        if request.param == "uci"
        else make_model("gbm", monotone=monotone).fit(inputs.features, inputs.bad),
    }
    as_of = pd.Timestamp(portfolio.months[-1]).date()
    accounts = inputs.features.sample(min(SAMPLE, len(inputs.features)), random_state=3).index
    panel = portfolio.panel[portfolio.panel["account_id"].isin(accounts)]
    customers = portfolio.customers[portfolio.customers["account_id"].isin(accounts)]
    return request.param, panel, customers, as_of, models


@pytest.fixture(scope="module")
def strategy():
    return compile_strategy(read_strategy(default_strategy_text()))


def _decide(panel, customers, as_of: date, model, strategy) -> pd.DataFrame:
    features = compute_features(panel, customers, as_of)
    return decide(
        features, model=model, model_ref="m@test", strategy=strategy, context=Context(as_of=as_of), recourse=False
    ).set_index("account_id")


def _repay_part_of_the_balance(panel, customers, as_of):
    """Each line with a balance pays off a further 10% of its limit (at most the balance)."""
    out = panel.copy()
    now = out["month"] == pd.Timestamp(as_of)
    extra = np.minimum((out["credit_limit"] // 10), out["balance"].clip(lower=0))
    out.loc[now, "balance"] -= extra[now]
    out.loc[now, "amount_paid"] += extra[now]
    return out, customers


def _pay_the_whole_bill(panel, customers, as_of):
    """Where less than the amount due was paid in the as-of month, the rest is paid too."""
    out = panel.copy()
    now = (out["month"] == pd.Timestamp(as_of)) & out["amount_due"].notna()
    short = (out["amount_due"] - out["amount_paid"]).clip(lower=0).fillna(0).astype("int64")
    out.loc[now, "amount_paid"] += short[now]
    out.loc[now, "balance"] -= short[now]
    return out, customers


def _clear_arrears(panel, customers, as_of):
    """Every line late at the as-of month end has cleared what was overdue."""
    out = panel.copy()
    late = (out["month"] == pd.Timestamp(as_of)) & (out["dpd"] > 0)
    out.loc[late, "dpd"] = 0
    out.loc[late & out["amount_due"].gt(0).fillna(False), "on_time"] = True
    return out, customers


def _prove_a_higher_income(panel, customers, as_of):
    """Every customer proves a third more income than the table holds (see ``_with_some_income``)."""
    out = customers.copy()
    out["income_monthly"] = (out["income_monthly"] * 4 // 3).astype("Int64")
    out["income_verified_on"] = pd.Timestamp(as_of) - pd.offsets.MonthEnd(1)
    out["income_source"] = "income_proof"
    out["consent_income"] = True
    return panel, out


def _with_some_income(customers, as_of):
    """The customers with a verified income of 15,000 where the table has none."""
    out = customers.copy()
    if "income_monthly" not in out:
        out["income_monthly"] = pd.array([pd.NA] * len(out), dtype="Int64")
    missing = out["income_monthly"].isna().to_numpy()
    out.loc[missing, "income_monthly"] = 15_000_00
    out["income_verified_on"] = pd.Timestamp(as_of) - pd.offsets.MonthEnd(2)
    out["income_source"] = "income_proof"
    out["consent_income"] = True
    return out


IMPROVEMENTS = {
    "repaying_part_of_the_balance": _repay_part_of_the_balance,
    "paying_the_whole_bill": _pay_the_whole_bill,
    "clearing_arrears": _clear_arrears,
    "proving_a_higher_income": _prove_a_higher_income,
}


@pytest.mark.parametrize("kind", ["scorecard", "gbm"])
@pytest.mark.parametrize("improvement", list(IMPROVEMENTS))
def test_doing_better_never_lowers_a_decision(book, strategy, kind, improvement):
    name, panel, customers, as_of, models = book
    if improvement == "proving_a_higher_income":
        customers = _with_some_income(customers, as_of)
    better_panel, better_customers = IMPROVEMENTS[improvement](panel, customers, as_of)
    before = _decide(panel, customers, as_of, models[kind], strategy)
    after = _decide(better_panel, better_customers, as_of, models[kind], strategy).loc[before.index]
    moved = (after[["action", "new_limit"]] != before[["action", "new_limit"]]).any(axis=1)
    assert moved.any() or (improvement == "clearing_arrears" and (panel["dpd"] == 0).all()), (
        "the improvement changed no decision: it tests nothing"
    )
    lost_increase = (before["action"] == "increase") & (after["action"] != "increase")
    hold_cut = (before["action"] == "hold") & after["action"].isin(["decrease", "freeze"])
    lower = after["new_limit"] < before["new_limit"]
    worse = lost_increase | hold_cut | lower
    assert not worse.any(), (
        f"{name}/{kind}: {int(worse.sum())} decisions got worse, e.g.\n"
        + pd.concat(
            [before.loc[worse, ["action", "new_limit", "pd"]], after.loc[worse, ["action", "new_limit", "pd"]]],
            axis=1,
            keys=["before", "after"],
        )
        .head(10)
        .to_string()
    )
