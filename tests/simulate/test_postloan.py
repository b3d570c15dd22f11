"""Post-loan views on the real portfolio and on a synthetic one whose lender is known."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from scipy.stats import binomtest
from tests.inprocess import run_linewise

from linewise.data import write_portfolio
from linewise.data.synthetic import SynthSpec, synthesize
from linewise.simulate.postloan import BUCKETS, bucket_of, early_warnings, post_loan


@pytest.fixture(scope="module")
def synthetic():
    return synthesize(SynthSpec(accounts=20_000, months=12, seed=3))


@pytest.fixture(scope="module")
def uci_views(uci):
    return post_loan(uci.panel, uci.customers)


def test_buckets_follow_the_m_notation():
    assert [BUCKETS[i] for i in bucket_of(np.array([0, 1, 30, 31, 60, 61, 90, 91, 150, 151, 400]))] == [
        "M0", "M1", "M1", "M2", "M2", "M3", "M3", "M4", "M5", "M6+", "M6+",
    ]  # fmt: skip


def test_every_line_is_in_one_bucket_each_month_and_each_roll_row_sums_to_one(uci, uci_views):
    for month in uci_views["buckets"]:
        assert sum(month["lines"].values()) == (uci.panel["month"] == pd.Timestamp(month["month"])).sum()
    for row in uci_views["roll_rates"]["rates"].values():
        assert sum(row.values()) == pytest.approx(1.0, abs=1e-5)
    # One cell counted another way: lines current in August and current in September.
    dpd = uci.panel.pivot(index="account_id", columns="month", values="dpd")
    august, september = pd.Timestamp("2005-08-31"), pd.Timestamp("2005-09-30")
    stayed = int(((dpd[august] == 0) & (dpd[september] == 0)).sum())
    counted = uci_views["roll_rates"]["lines"]["M0"]["M0"]
    assert counted >= stayed  # pooled over every pair of months, August to September among them


def test_the_flow_rate_is_the_balance_share_that_rolls_one_bucket_on(uci, uci_views):
    august = next(row for row in uci_views["flow_rates"] if row["from"] == "2005-08-31")
    panel = uci.panel.assign(bucket=bucket_of(uci.panel["dpd"].to_numpy()))
    before = panel.loc[panel["month"] == pd.Timestamp("2005-08-31")].set_index("account_id")
    after = panel.loc[panel["month"] == pd.Timestamp("2005-09-30")].set_index("account_id")["bucket"]
    in_m2 = before["bucket"] == 2
    rolled = before.loc[in_m2 & (after.reindex(before.index) == 3), "balance"].sum()

    assert august["M2->M3"] == pytest.approx(rolled / before.loc[in_m2, "balance"].sum(), abs=1e-6)


def test_vintages_are_only_of_lines_opened_in_view_and_never_fall(synthetic, uci_views):
    views = post_loan(synthetic.panel, synthetic.customers)
    first = synthetic.panel["month"].min()
    assert uci_views["vintages"]["cohorts"] == {}
    assert views["vintages"]["cohorts"]
    for cohort, row in views["vintages"]["cohorts"].items():
        assert pd.Period(cohort) >= first.to_period("M")
        curve = [row["ever_30_plus"][age] for age in sorted(row["ever_30_plus"], key=int)]
        assert curve == sorted(curve)


def test_the_generators_lender_cuts_only_lines_60_days_late_and_the_views_say_so(synthetic):
    cuts = post_loan(synthetic.panel, synthetic.customers)["cuts"]
    limits = synthetic.panel.pivot(index="account_id", columns="month", values="credit_limit")

    assert cuts["lines"] == int((limits.diff(axis=1) < 0).sum().sum())
    assert cuts["late_when_cut"] == 1.0
    assert 0 < cuts["after"]["3 months"]["cured"] < 1


@pytest.mark.parametrize("book", ["uci", "synthetic"])
def test_lines_warned_of_go_bad_more_often_than_the_other_current_lines(book, request):
    portfolio = request.getfixturevalue(book)
    frame = portfolio.panel.assign(bucket=bucket_of(portfolio.panel["dpd"].to_numpy()))
    warned = early_warnings(frame)
    went_bad = portfolio.outcomes.set_index("account_id")["default"].astype(bool)
    last = frame.loc[frame["month"] == frame["month"].max()]
    current = set(last.loc[last["dpd"] == 0, "account_id"])
    flagged = set(warned["account_id"])

    assert flagged <= current
    bad_warned = went_bad.reindex(sorted(flagged))
    bad_other = went_bad.reindex(sorted(current - flagged))
    warned_low = binomtest(int(bad_warned.sum()), len(bad_warned)).proportion_ci(0.99).low
    other_high = binomtest(int(bad_other.sum()), len(bad_other)).proportion_ci(0.99).high
    assert warned_low > other_high


def test_the_command_writes_what_it_prints(tmp_path, synthetic):
    write_portfolio(synthetic, tmp_path / "book")

    result = run_linewise("postloan", "--portfolio", "book", "--out", "views", "--shown", "3", cwd=tmp_path)

    assert result.returncode == 0, result.stderr
    written = json.loads((tmp_path / "views" / "postloan.json").read_text(encoding="utf-8"))
    assert (
        f"early warnings at {written['early_warnings']['as_of']}: {written['early_warnings']['lines']:,}"
        in result.stdout
    )
    assert len(written["early_warnings"]["worst"]) == 3
    assert "Flow rates by balance" in result.stdout and "Vintages" in result.stdout
