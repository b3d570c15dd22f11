"""Stability that knows its sample sizes, and fairness read-outs with their intervals."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from linewise.simulate.drift import stability
from linewise.simulate.fairness import fairness


def test_samples_of_one_distribution_are_not_called_drift_where_a_fixed_cut_would_cry_wolf():
    rng = np.random.default_rng(7)
    found = [stability(pd.Series(rng.normal(size=200)), pd.Series(rng.normal(size=200))) for _ in range(200)]

    flagged = sum(item.drift for item in found)
    over_fixed_cut = sum(item.psi > 0.10 for item in found)
    assert flagged <= 8  # about 1% by construction
    assert over_fixed_cut >= 40


def test_a_small_real_shift_in_a_large_month_is_drift_though_its_psi_is_far_under_a_tenth():
    rng = np.random.default_rng(8)
    found = stability(pd.Series(rng.normal(size=200_000)), pd.Series(rng.normal(0.1, size=200_000)))

    assert found.psi < 0.05
    assert found.drift


def test_a_category_or_a_gap_seen_in_one_sample_only_counts():
    reference = pd.Series(["a"] * 500 + ["b"] * 500)
    current = pd.Series(["a"] * 450 + ["b"] * 450 + ["c"] * 100)
    with_new = stability(reference, current)
    numbers = stability(pd.Series(np.arange(1000.0)), pd.Series([np.nan] * 100 + list(np.arange(900.0))))

    assert with_new.bins == 3 and with_new.drift
    assert numbers.bins == 11 and numbers.drift


def test_values_beyond_the_references_range_fall_in_its_end_bins():
    reference = pd.Series(np.arange(1000.0))
    shifted = pd.Series(np.arange(1000.0) + 10_000)

    found = stability(reference, shifted)

    assert found.bins == 10 and found.psi > 1


def _decisions(groups: dict[str, tuple[int, float]], seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per group: its size and the share of it raised (by 5,000); the rest held."""
    rng = np.random.default_rng(seed)
    rows, people = [], []
    for group, (size, raised) in groups.items():
        for index in range(size):
            account = f"{group}-{index}"
            up = rng.random() < raised
            rows.append((account, "increase" if up else "hold", 10_000, 15_000 if up else 10_000))
            people.append((account, group))
    decisions = pd.DataFrame(rows, columns=["account_id", "action", "current_limit", "new_limit"])
    return decisions, pd.DataFrame(people, columns=["account_id", "sex"])


def test_a_group_raised_at_half_the_best_groups_rate_is_flagged_with_intervals_around_the_truth():
    decisions, customers = _decisions({"female": (4000, 0.20), "male": (4000, 0.10)})

    told = fairness(decisions, customers)["sex"]

    assert told["female"]["increase"]["flagged"] is False
    assert told["male"]["increase"]["flagged"] is True
    assert told["male"]["increase"]["ratio_to_best"] == pytest.approx(0.5, abs=0.08)
    for group, truth in (("female", 0.20), ("male", 0.10)):
        rate = told[group]["increase"]
        assert rate["low"] <= truth <= rate["high"]
        assert rate["low"] <= rate["value"] <= rate["high"]
        change = told[group]["mean_limit_change"]
        assert change["value"] == pytest.approx(5_000 * rate["value"])


def test_a_handful_of_lucky_accounts_neither_sets_the_bar_nor_is_flagged():
    decisions, customers = _decisions({"female": (4000, 0.10), "male": (4000, 0.09), "other": (40, 0.5)})

    told = fairness(decisions, customers)["sex"]

    assert not told["female"]["increase"]["flagged"] and not told["male"]["increase"]["flagged"]
    assert told["other"]["increase"]["ratio_to_best"] > 1
