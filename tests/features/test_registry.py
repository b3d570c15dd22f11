"""Sweeps over every registered feature: texts, computation, look-back and evolution.

Reasons, recourse and models read the registry rather than the code, so each claim a
spec makes (its texts, its window, how it moves with an on-time month) is checked
against what ``compute_features`` does.
"""

from __future__ import annotations

import re

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.features.panels import (
    LAST_MONTH,
    canonical_portfolio,
    month_end,
    panel_rows,
    portfolio_tables,
    portfolios,
)
from tests.strategies import scaled

from linewise.data.synthetic import SynthSpec, synthesize
from linewise.features import (
    REGISTRY,
    WINDOW_MONTHS,
    Evolution,
    RiskDirection,
    Source,
    compute_features,
)
from linewise.features.families import bureau, income, repayment, usage
from linewise.features.window import build_window

FAMILIES = {"repayment": repayment, "usage": usage, "income": income, "bureau": bureau}
UNITS = {"months", "days", "ratio", "count", "minor_units", "score"}
SPECS = list(REGISTRY.values())
LEDGER = [spec for spec in SPECS if spec.source is Source.LEDGER]
CJK = re.compile(r"[\u4e00-\u9fff]")

sweep_settings = settings(max_examples=scaled(25), deadline=None, suppress_health_check=[HealthCheck.too_slow])


@pytest.fixture(scope="module")
def synthetic():
    return synthesize(SynthSpec(accounts=300, months=14, seed=3))


# --- every feature is declared once and fully ---------------------------------------------


@pytest.mark.parametrize("spec", SPECS, ids=lambda spec: spec.name)
def test_every_feature_has_chinese_and_english_text_a_unit_and_a_direction(spec):
    assert spec.description_zh.strip() and CJK.search(spec.description_zh)
    assert spec.description_en.strip() and spec.description_en.isascii()
    assert spec.unit in UNITS
    assert isinstance(spec.source, Source)
    assert isinstance(spec.risk_direction, RiskDirection)
    assert isinstance(spec.evolution, Evolution)
    assert spec.window_months is None or 1 <= spec.window_months <= WINDOW_MONTHS
    if spec.evolution in (Evolution.WINDOW_ON_TIME, Evolution.WINDOW_CLEARS):
        assert spec.window_months is not None  # recourse says how many months it takes


def test_no_two_families_declare_the_same_name():
    declared = [spec.name for family in FAMILIES.values() for spec in family.SPECS]
    assert len(declared) == len(set(declared)) == len(REGISTRY)


@pytest.mark.parametrize("name", list(FAMILIES))
def test_each_family_computes_exactly_the_features_it_declares(name, synthetic):
    family = FAMILIES[name]
    window = build_window(synthetic.panel, LAST_MONTH)
    computed = family.compute(window) if family is repayment else family.compute(window, synthetic.customers)
    assert set(computed) == {spec.name for spec in family.SPECS}
    assert all(len(values) == len(window) for values in computed.values())


def test_every_registered_feature_is_computed_and_nothing_else(synthetic):
    features = compute_features(synthetic.panel, synthetic.customers, LAST_MONTH)
    assert list(features.columns) == list(REGISTRY)
    assert features.index.name == "account_id"
    # each one is really computed: on a realistic portfolio none is missing everywhere
    assert not [name for name in features.columns if features[name].isna().all()]


def _outside_declared_range(features: pd.DataFrame) -> dict[str, tuple[float, float]]:
    out = {}
    for spec in SPECS:
        values = features[spec.name].dropna()
        if len(values) and (values.min() < spec.lowest or values.max() > spec.highest):
            out[spec.name] = (float(values.min()), float(values.max()))
    return out


def test_every_feature_stays_within_the_range_it_declares_on_real_and_synthetic_data(uci, synthetic):
    for portfolio, as_of in ((uci, uci.panel["month"].max()), (synthetic, LAST_MONTH)):
        features = compute_features(portfolio.panel, portfolio.customers, as_of)
        assert not _outside_declared_range(features)
    # The declared ranges are not vacuous: the signed features do go below zero on UCI.
    uci_features = compute_features(uci.panel, uci.customers, uci.panel["month"].max())
    signed = [spec.name for spec in SPECS if spec.lowest < 0]
    assert signed and all(uci_features[name].min() < 0 for name in signed)


@sweep_settings
@given(tables=portfolio_tables(payments_may_be_missing=True))
def test_every_feature_stays_within_its_declared_range_on_any_panel(tables):
    portfolio = canonical_portfolio(*tables)
    features = compute_features(portfolio.panel, portfolio.customers, LAST_MONTH)
    assert not _outside_declared_range(features)


# --- the look-back a spec declares is the look-back the code uses ---------------------------


def _windowed(months: int) -> list[str]:
    return [spec.name for spec in LEDGER if spec.window_months == months]


@sweep_settings
@given(
    tables=portfolio_tables(payments_may_be_missing=True),
    months=st.sampled_from(sorted({spec.window_months for spec in LEDGER if spec.window_months})),
    data=st.data(),
)
def test_rows_older_than_a_features_window_do_not_move_it(tables, months, data):
    rows, customers = tables
    oldest_kept = month_end(LAST_MONTH, months - 1)
    older = [row for row in rows if row["month"] < oldest_kept]
    redrawn = []
    for account_id in sorted({row["account_id"] for row in older}):
        own = [row["month"] for row in older if row["account_id"] == account_id]
        redrawn += data.draw(panel_rows(account_id, own, payments_may_be_missing=True))
    changed = [row for row in rows if row["month"] >= oldest_kept] + redrawn
    names = _windowed(months)
    original = canonical_portfolio(rows, customers)
    redrawn_portfolio = canonical_portfolio(changed, customers)
    before = compute_features(original.panel, original.customers, LAST_MONTH)
    after = compute_features(redrawn_portfolio.panel, redrawn_portfolio.customers, LAST_MONTH)
    pd.testing.assert_frame_equal(before[names], after[names], check_exact=True)


# --- each feature moves with an on-time month as its evolution says --------------------------


def _after_clean_months(portfolio, months: int) -> pd.DataFrame:
    """Features ``months`` month ends after :data:`LAST_MONTH`, every one of them on time.

    In each added month everything due is paid on time, nothing new is drawn, and the
    limit and balance stay as they were; accounts closed before then get no rows.
    """
    last = portfolio.panel[portfolio.panel["month"] == LAST_MONTH]
    added = [
        last.assign(
            month=LAST_MONTH + pd.offsets.MonthEnd(step),
            amount_due=1_000,
            amount_paid=1_000,
            drawn_amount=0,
            dpd=0,
            on_time=True,
        )
        for step in range(1, months + 1)
    ]
    panel = pd.concat([portfolio.panel, *added], ignore_index=True).astype(portfolio.panel.dtypes)
    return compute_features(panel, portfolio.customers, LAST_MONTH + pd.offsets.MonthEnd(months))


WINDOWS_THAT_CLEAR = sorted(
    {spec.window_months for spec in LEDGER if spec.evolution in (Evolution.WINDOW_ON_TIME, Evolution.WINDOW_CLEARS)}
)


def _with_evolution(evolution: Evolution) -> list[str]:
    return [spec.name for spec in LEDGER if spec.evolution is evolution]


def _best_value(evolution: Evolution) -> float:
    return 1.0 if evolution is Evolution.WINDOW_ON_TIME else 0.0


@sweep_settings
@given(portfolio=portfolios())
def test_features_that_count_up_grow_by_one_with_each_on_time_month(portfolio):
    names = _with_evolution(Evolution.COUNTS_UP)
    assert {"on_time_streak", "months_since_delinquency", "months_on_book"} <= set(names)
    start = _after_clean_months(portfolio, 0)
    for months in (1, 2, 13):
        later = _after_clean_months(portfolio, months)
        assert later.index.equals(start.index)
        pd.testing.assert_frame_equal(later[names], start[names] + months, check_exact=True)


@sweep_settings
@given(portfolio=portfolios())
def test_window_features_reach_their_best_value_after_a_window_of_on_time_months(portfolio):
    after = {months: _after_clean_months(portfolio, months) for months in WINDOWS_THAT_CLEAR}
    for spec in LEDGER:
        if spec.evolution in (Evolution.WINDOW_ON_TIME, Evolution.WINDOW_CLEARS):
            values = after[spec.window_months][spec.name]
            assert (values == _best_value(spec.evolution)).all(), spec.name


def test_one_on_time_month_short_of_the_window_is_not_enough_for_somebody(synthetic):
    """The window a spec declares is not longer than the one the code uses."""
    for spec in LEDGER:
        if spec.evolution in (Evolution.WINDOW_ON_TIME, Evolution.WINDOW_CLEARS):
            short = _after_clean_months(synthetic, spec.window_months - 1)[spec.name]
            assert (short.dropna() != _best_value(spec.evolution)).any(), spec.name


@sweep_settings
@given(tables=portfolio_tables(), verified_months_ago=st.integers(0, 20))
def test_the_income_proof_ages_by_one_month_each_month(tables, verified_months_ago):
    rows, customers = tables
    proved = [
        {
            **customer,
            "consent_income": True,
            "income_monthly": 500_000,
            "income_source": "bank_statement",
            "income_verified_on": month_end(LAST_MONTH, verified_months_ago).date(),
        }
        for customer in customers
    ]
    portfolio = canonical_portfolio(rows, proved)
    assert REGISTRY["income_age_months"].evolution is Evolution.AGES
    for months in (0, 1, 5):
        ages = _after_clean_months(portfolio, months)["income_age_months"]
        assert (ages == verified_months_ago + months).all()
