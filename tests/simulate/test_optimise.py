"""The upper bound is a bound, its book meets the budgets, and the strategy found is a file that ships."""

from __future__ import annotations

import itertools
import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.inprocess import run_linewise

from linewise.data import write_portfolio
from linewise.data.synthetic import SynthSpec, synthesize
from linewise.errors import InputError
from linewise.simulate.optimise import Budgets, Options, upper_bound
from linewise.strategy import read_strategy_file


def _options(profit, loss, balance, added) -> Options:
    profit = np.asarray(profit, dtype=float)
    return Options(
        labels=tuple(f"o{k}" for k in range(profit.shape[1])),
        new_limit=np.zeros_like(profit),
        valid=np.ones(profit.shape, dtype=bool),
        profit=profit,
        loss=np.asarray(loss, dtype=float),
        balance=np.asarray(balance, dtype=float),
        added=np.asarray(added, dtype=float),
    )


def _best_by_enumeration(options: Options, budgets: Budgets) -> float | None:
    n, k = options.profit.shape
    best = None
    rows = np.arange(n)
    for choice in itertools.product(range(k), repeat=n):
        pick = np.asarray(choice)
        loss, balance = options.loss[rows, pick].sum(), options.balance[rows, pick].sum()
        if budgets.loss_rate_max is not None and loss > budgets.loss_rate_max * balance + 1e-9:
            continue
        if budgets.limit_added_max is not None and options.added[rows, pick].sum() > budgets.limit_added_max:
            continue
        profit = options.profit[rows, pick].sum()
        best = profit if best is None else max(best, profit)
    return best


@settings(max_examples=60, deadline=None)
@given(
    data=st.lists(
        st.tuples(
            st.floats(-50, 100),
            st.floats(-50, 100),
            st.floats(-50, 100),  # profit of hold, raise, freeze
            st.floats(0, 20),
            st.floats(0, 40),
            st.floats(0, 10),  # loss of each
        ),
        min_size=2,
        max_size=5,
    ),
    rate=st.floats(0.05, 0.5),
    cap=st.sampled_from([None, 100.0, 250.0]),
)
def test_the_bound_is_never_below_the_best_book_and_its_book_meets_the_budgets(data, rate, cap):
    rows = np.asarray(data)
    options = _options(
        profit=rows[:, 0:3],
        loss=rows[:, 3:6],
        balance=np.tile([100.0, 150.0, 100.0], (len(rows), 1)),
        added=np.tile([0.0, 100.0, 0.0], (len(rows), 1)),
    )
    budgets = Budgets(loss_rate_max=rate, limit_added_max=cap)
    best = _best_by_enumeration(options, budgets)
    if best is None:  # no book meets the budgets: refused, or at least not called feasible
        try:
            refused = upper_bound(options, budgets)
        except InputError:
            return
        assert not refused.feasible
        return
    try:
        found = upper_bound(options, budgets)
    except InputError:
        pytest.fail("a book meets the budgets, yet none was found")
    assert found.feasible
    assert found.profit <= best + 1e-6
    assert found.upper_bound >= best - 1e-6


def test_without_budgets_each_account_takes_its_best_option():
    options = _options(
        profit=[[1, 5, 0], [3, -2, 1]], loss=[[0, 1, 0], [0, 1, 0]], balance=[[1, 1, 1]] * 2, added=[[0, 1, 0]] * 2
    )
    found = upper_bound(options, Budgets())
    assert found.upper_bound == found.profit == 8
    assert list(found.choice) == [1, 0]


def test_a_loss_budget_no_book_can_meet_is_refused_by_name():
    options = _options(profit=[[1, 2]], loss=[[5, 6]], balance=[[10, 10]], added=[[0, 1]])
    with pytest.raises(InputError) as caught:
        upper_bound(options, Budgets(loss_rate_max=0.1))
    assert caught.value.code == "budget_infeasible"


@pytest.mark.slow  # fits a model and decides a synthetic book under a dozen strategies
def test_the_strategy_found_is_a_file_that_simulates_to_what_was_reported(tmp_path):
    write_portfolio(synthesize(SynthSpec(accounts=3000, months=12, seed=5, horizon_months=1)), tmp_path / "book")
    (tmp_path / "cash.yaml").write_text("apr: 0.24\nrevolving_share: 1.0\n", encoding="utf-8")
    strategy = run_linewise("strategy", "init", "--currency", "CNY", "--out", "base.yaml", cwd=tmp_path)
    trained = run_linewise(
        "model", "train", "--portfolio", "book", "--kind", "gbm", "--cv", "2", "--out", "model", cwd=tmp_path
    )
    assert strategy.returncode == 0 and trained.returncode == 0, trained.stderr

    found = run_linewise(
        "optimise", "--portfolio", "book", "--model", "model", "--strategy", "base.yaml", "--loss-rate-max", "0.2",
        "--candidates", "12", "--assumptions", "cash.yaml", "--out", "opt", cwd=tmp_path,
    )  # fmt: skip
    assert found.returncode == 0, found.stderr
    report = json.loads((tmp_path / "opt" / "optimise.json").read_text(encoding="utf-8"))
    best = report["best"]
    assert best is not None and best["within_budgets"]
    assert best["profit"] >= report["base"]["profit"]
    assert best["profit"] <= report["upper_bound"]["upper_bound"]
    assert report["upper_bound"]["loss_rate"] <= 0.2
    read_strategy_file(tmp_path / "opt" / "strategy.yaml")  # it validates as any strategy file does

    replayed = run_linewise(
        "simulate", "--portfolio", "book", "--model", "model", "--strategy", "opt/strategy.yaml",
        "--assumptions", "cash.yaml", "--json", "--out", "sim", cwd=tmp_path,
    )  # fmt: skip
    assert replayed.returncode == 0, replayed.stderr
    assert json.loads(replayed.stdout)["strategies"][0]["expected_profit"]["value"] == pytest.approx(
        best["profit"], abs=2
    )
