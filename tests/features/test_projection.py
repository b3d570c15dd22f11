"""The projected history: stored and read back exactly, the same whichever way months are given."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from tests.decide.common import AS_OF

from linewise.features import compute_features, features_from_window
from linewise.features.projection import (
    Behaviour,
    Plan,
    history_from_records,
    history_records,
    project,
)


@pytest.fixture(scope="module")
def some(uci_history):
    return uci_history.rows(np.arange(0, 30_000, 97))


@pytest.fixture(scope="module")
def synthetic_history():
    """Lines with opening dates, verified incomes and bureau records (which UCI lacks)."""
    from linewise.data.synthetic import SynthSpec, synthesize
    from linewise.features.projection import history_of

    book = synthesize(SynthSpec(accounts=600, months=14, seed=2))
    return history_of(book.panel, book.customers, book.months[-1])


def test_a_history_read_back_from_its_records_gives_the_same_features_bit_for_bit(some):
    again = history_from_records(history_records(some), list(some.window.account_ids), AS_OF)
    pd.testing.assert_frame_equal(
        features_from_window(again.window, again.customers),
        features_from_window(some.window, some.customers),
        check_exact=True,
    )


def test_the_history_gives_the_features_a_review_computes(uci, some):
    features = features_from_window(some.window, some.customers)
    reviewed = compute_features(uci.panel, uci.customers, AS_OF).loc[features.index]
    pd.testing.assert_frame_equal(features, reviewed, check_exact=True)


@pytest.mark.parametrize("book", ["uci", "synthetic"])
@pytest.mark.parametrize("behaviour", list(Behaviour))
def test_months_per_account_give_what_each_account_alone_would_at_its_month(request, behaviour, book):
    some = request.getfixturevalue("some" if book == "uci" else "synthetic_history")
    plan = Plan.as_now(some)
    plan = Plan(
        plan.credit_limit,
        plan.repay,
        plan.clear_overdue,
        np.where(np.arange(len(some)) % 3 == 0, 9_000_00.0, np.nan),
        plan.external_debt,
        no_new_applications=np.ones(len(some), dtype=bool),
        on_time_elsewhere=np.ones(len(some), dtype=bool),
    )
    months = (np.arange(len(some)) % 12) + 1
    together = project(some, plan, months, behaviour, minimum_payment_bp=500)
    mixed = features_from_window(together.window, together.customers)
    for m in (1, 5, 12):
        rows = np.flatnonzero(months == m)
        part = some.rows(rows)
        own = Plan(
            plan.credit_limit[rows],
            plan.repay[rows],
            plan.clear_overdue[rows],
            plan.income_monthly[rows],
            plan.external_debt[rows],
            no_new_applications=plan.no_new_applications[rows],
            on_time_elsewhere=plan.on_time_elsewhere[rows],
        )
        alone = project(part, own, m, behaviour, minimum_payment_bp=500)
        pd.testing.assert_frame_equal(
            mixed.iloc[rows], features_from_window(alone.window, alone.customers), check_exact=True
        )


def test_living_no_month_or_paying_the_minimum_of_an_unknown_product_is_refused(some):
    with pytest.raises(ValueError, match="at least 1"):
        project(some, Plan.as_now(some), 0, Behaviour.PAY_IN_FULL)
    with pytest.raises(ValueError, match="minimum payment"):
        project(some, Plan.as_now(some), 1, Behaviour.PAY_MINIMUM)


def test_a_window_taken_by_a_mask_is_the_window_taken_by_its_positions(some):
    mask = np.arange(len(some)) % 3 == 1
    by_mask, by_positions = some.window.rows(mask), some.window.rows(np.flatnonzero(mask))
    assert list(by_mask.account_ids) == list(by_positions.account_ids)
    for name, column in by_positions.values.items():
        np.testing.assert_array_equal(by_mask.values[name], column)
    np.testing.assert_array_equal(by_mask.present, by_positions.present)
