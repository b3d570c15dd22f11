"""Pricing decisions: the figures a risk team reads, on lines whose arithmetic is known."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from linewise.simulate.assumptions import Assumptions
from linewise.simulate.economics import Lines, price, price_with_interval

SURE = 1e-12  # a PD no line defaults with, in practice


def lines(current=100_000, new=100_000, balance=50_000, pd=0.02, frozen=False, response=1.0, run_off=1.0, n=1) -> Lines:
    def full(value):
        return np.full(n, value, dtype=np.float64)

    return Lines(full(current), full(new), full(balance), full(pd), np.full(n, frozen), full(response), full(run_off))


def test_a_line_that_cannot_default_earns_a_year_of_interest_and_costs_a_year_of_funding():
    assumptions = Assumptions(apr=0.18, fee_rate=0.02, cost_of_funds=0.05)
    figures = price(lines(pd=SURE), assumptions, ccf=0.5, pd_horizon_months=12)

    assert figures["expected_revenue"][0] == pytest.approx(50_000 * 0.20)
    assert figures["cost_of_funds"][0] == pytest.approx(50_000 * 0.05)
    assert figures["expected_loss"][0] == pytest.approx(0, abs=1e-3)
    assert figures["expected_profit"][0] == pytest.approx(50_000 * 0.15, rel=1e-6)


def test_a_line_held_for_a_year_at_a_twelve_month_pd_loses_pd_times_lgd_times_its_exposure():
    # Nothing changes on a held line: its exposure is the balance plus the CCF's share
    # of what it could still draw, the same every month.
    assumptions = Assumptions(lgd=0.6)
    figures = price(lines(pd=0.1), assumptions, ccf=0.4, pd_horizon_months=12)

    assert figures["expected_loss"][0] == pytest.approx(0.1 * 0.6 * (50_000 + 0.4 * 50_000))
    assert figures["default_within_horizon"][0] == pytest.approx(0.1)


def test_a_raised_line_draws_the_published_share_of_what_was_added():
    # Aydin's trial: 11% of a new limit drawn after a quarter, 28% after three years.
    path = Assumptions(horizon_months=36, apr=0.12, cost_of_funds=0, fee_rate=0)
    quarter = Assumptions(horizon_months=3, apr=0.12, cost_of_funds=0, fee_rate=0)
    raised = lines(current=100_000, new=200_000, balance=0, pd=SURE)

    revenue_36 = price(raised, path, ccf=0.5, pd_horizon_months=12)["expected_revenue"][0]
    revenue_3 = price(raised, quarter, ccf=0.5, pd_horizon_months=12)["expected_revenue"][0]

    # Interest at 1% a month on a balance that reaches 11,000 by month 3 along a straight path.
    assert revenue_3 == pytest.approx(0.01 * 11_000 * (1 + 2 + 3) / 3)
    assert revenue_36 > revenue_3
    balances_36 = 0.01 * np.array([11_000 * min(m, 3) / 3 + (m > 3) * 17_000 * (m - 3) / 33 for m in range(1, 37)])
    assert revenue_36 == pytest.approx(balances_36.sum())


def test_a_raise_costs_more_loss_and_earns_more_and_its_provision_is_paid_on_the_day():
    assumptions = Assumptions()
    held = price(lines(), assumptions, ccf=0.5, pd_horizon_months=12)
    raised = price(lines(new=150_000), assumptions, ccf=0.5, pd_horizon_months=12)

    assert raised["expected_loss"][0] > held["expected_loss"][0]
    assert raised["expected_revenue"][0] > held["expected_revenue"][0]
    assert held["day_one_provision"][0] == 0
    assert raised["day_one_provision"][0] == pytest.approx(0.02 * 0.85 * 0.5 * 50_000)


def test_a_freeze_takes_the_undrawn_credit_out_of_the_exposure_and_releases_its_provision():
    assumptions = Assumptions()
    held = price(lines(pd=0.3), assumptions, ccf=0.5, pd_horizon_months=1)
    frozen = price(lines(pd=0.3, frozen=True), assumptions, ccf=0.5, pd_horizon_months=1)

    assert frozen["expected_loss"][0] == pytest.approx(held["expected_loss"][0] * 50_000 / 75_000)
    assert frozen["day_one_provision"][0] < 0


def test_a_line_cut_below_its_balance_that_repays_nothing_keeps_owing_it():
    assumptions = Assumptions()
    cut = price(lines(current=100_000, new=30_000, balance=50_000, pd=SURE), assumptions, ccf=0.5, pd_horizon_months=12)

    assert cut["expected_revenue"][0] == pytest.approx(50_000 * (assumptions.apr + assumptions.fee_rate))


def test_a_line_that_may_not_draw_pays_down_at_its_own_pace_and_a_cut_one_stops_at_its_new_limit():
    assumptions = Assumptions(apr=0.12, fee_rate=0.0)
    frozen = price(lines(balance=60_000, pd=SURE, frozen=True, run_off=0.5), assumptions, ccf=0.5, pd_horizon_months=12)
    cut = price(lines(new=30_000, balance=60_000, pd=SURE, run_off=0.5), assumptions, ccf=0.5, pd_horizon_months=12)
    held = price(lines(balance=60_000, pd=SURE, run_off=0.5), assumptions, ccf=0.5, pd_horizon_months=12)

    # 1% a month on 60,000 halved each month: the sum of 300, 150, 75, ...
    assert frozen["expected_revenue"][0] == pytest.approx(sum(600 * 0.5**m for m in range(1, 13)))
    # Down to 30,000 in the first month, then held there.
    assert cut["expected_revenue"][0] == pytest.approx(300 * 12)
    assert held["expected_revenue"][0] == pytest.approx(600 * 12)


def test_freezing_a_line_that_pays_down_costs_revenue_as_well_as_saving_loss():
    assumptions = Assumptions()
    held = price(lines(pd=0.2, run_off=0.7), assumptions, ccf=0.5, pd_horizon_months=12)
    frozen = price(lines(pd=0.2, run_off=0.7, frozen=True), assumptions, ccf=0.5, pd_horizon_months=12)

    assert frozen["expected_revenue"][0] < held["expected_revenue"][0]
    assert frozen["expected_loss"][0] < held["expected_loss"][0]


@given(
    pd=st.floats(0.001, 0.6),
    riskier=st.floats(0.001, 0.3),
    change=st.integers(-90_000, 200_000),
    balance=st.integers(0, 100_000),
)
def test_a_riskier_line_never_loses_less(pd, riskier, change, balance):
    assumptions = Assumptions()
    base = lines(new=100_000 + change, balance=balance, pd=pd)
    worse = lines(new=100_000 + change, balance=balance, pd=min(pd + riskier, 0.99))

    lost = price(base, assumptions, ccf=0.5, pd_horizon_months=3)["expected_loss"][0]
    lost_worse = price(worse, assumptions, ccf=0.5, pd_horizon_months=3)["expected_loss"][0]

    assert lost_worse >= lost - 1e-6


def test_every_interval_holds_its_value_and_widens_with_the_pds_uncertainty():
    rng = np.random.default_rng(3)
    n = 2_000
    book = Lines(
        current_limit=np.full(n, 100_000.0),
        new_limit=np.where(rng.random(n) < 0.3, 150_000.0, 100_000.0),
        balance=rng.integers(0, 100_000, n).astype(float),
        pd_=rng.uniform(0.001, 0.2, n),
        frozen=np.zeros(n, dtype=bool),
        response=np.ones(n),
        run_off=np.ones(n),
    )
    narrow = price_with_interval(book, Assumptions(pd_log_odds_sd=0.05), ccf=0.5, pd_horizon_months=12).total()
    wide = price_with_interval(book, Assumptions(pd_log_odds_sd=0.5), ccf=0.5, pd_horizon_months=12).total()

    for figure, total in narrow.items():
        assert total["low"] <= total["value"] <= total["high"], figure
        assert wide[figure]["value"] == pytest.approx(total["value"])
        assert wide[figure]["high"] - wide[figure]["low"] >= total["high"] - total["low"], figure
    assert wide["expected_loss"]["high"] > narrow["expected_loss"]["high"]


def test_the_same_lines_priced_against_themselves_differ_by_nothing():
    book = lines(new=150_000, n=5)
    priced = price_with_interval(book, Assumptions(), ccf=0.5, pd_horizon_months=12)

    for total in priced.minus(priced).total().values():
        assert total == {"value": 0.0, "low": 0.0, "high": 0.0}
