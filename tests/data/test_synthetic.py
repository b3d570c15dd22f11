from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from linewise.data import CUSTOMER_SCHEMA, OUTCOME_SCHEMA, PANEL_SCHEMA, Portfolio
from linewise.data.schemas import PROTECTED_ATTRIBUTES
from linewise.data.synthetic import HAZARD, SynthSpec, synthesize
from linewise.errors import InputError

AMOUNTS = ["credit_limit", "balance", "amount_due", "amount_paid", "drawn_amount"]
SOURCES = {
    "income": ["income_monthly", "income_verified_on", "income_source"],
    "bureau": ["bureau_enquiries_6m", "external_debt", "external_dpd_max_12m", "bureau_score"],
    "assets": ["assets"],
}


@pytest.fixture(scope="module")
def synth() -> Portfolio:
    return synthesize(SynthSpec(accounts=50_000, months=12, seed=7))


@pytest.fixture(scope="module")
def panel(synth) -> pd.DataFrame:
    """The panel with each row's previous month of the same account alongside."""
    frame = synth.panel.copy()
    previous = frame.groupby("account_id")[["balance", "dpd", "month"]].shift()
    frame[["previous_balance", "previous_dpd", "previous_month"]] = previous
    return frame


@pytest.fixture(scope="module")
def last_rows(synth) -> pd.DataFrame:
    last = synth.panel[synth.panel["month"] == synth.months[-1]].set_index("account_id")
    return last.join(synth.customers.set_index("account_id")).join(synth.outcomes.set_index("account_id"))


def test_the_same_seed_gives_identical_frames():
    first = synthesize(SynthSpec(accounts=2_000, months=6, seed=11))
    second = synthesize(SynthSpec(accounts=2_000, months=6, seed=11))
    pd.testing.assert_frame_equal(first.panel, second.panel)
    pd.testing.assert_frame_equal(first.customers, second.customers)
    pd.testing.assert_frame_equal(first.outcomes, second.outcomes)


def test_a_different_seed_gives_different_frames():
    first = synthesize(SynthSpec(accounts=2_000, months=6, seed=11))
    other = synthesize(SynthSpec(accounts=2_000, months=6, seed=12))
    assert not first.panel["balance"].equals(other.panel["balance"])
    assert not first.customers["bureau_score"].equals(other.customers["bureau_score"])
    assert not first.outcomes["latent_risk"].equals(other.outcomes["latent_risk"])


def test_tables_have_exactly_the_schema_columns_plus_the_stated_truth(synth):
    assert list(synth.panel.columns) == PANEL_SCHEMA.required_names
    known = {column.name for column in (*CUSTOMER_SCHEMA.columns, *CUSTOMER_SCHEMA.optional)}
    assert set(CUSTOMER_SCHEMA.required_names) <= set(synth.customers.columns) <= known
    assert list(synth.outcomes.columns) == [*OUTCOME_SCHEMA.required_names, "true_pd", "latent_risk"]
    assert synth.source == "synthetic"
    assert synth.currency == "CNY"
    assert synth.attribution


def test_tables_validate_again_from_their_own_output(synth):
    again = Portfolio.from_frames(synth.panel, synth.customers, synth.outcomes, currency=synth.currency, source="again")
    pd.testing.assert_frame_equal(again.panel, synth.panel)


def test_amounts_are_whole_minor_units(synth):
    for column in AMOUNTS:
        assert synth.panel[column].dtype == "Int64"
        assert synth.panel[column].notna().all()
    for column in ("income_monthly", "assets", "external_debt"):
        assert synth.customers[column].dtype == "Int64"
    assert (synth.panel["credit_limit"] % 100 == 0).all()


def test_values_without_consent_are_missing_and_present_with_it(synth):
    customers = synth.customers
    for source, columns in SOURCES.items():
        consented = customers[f"consent_{source}"].astype(bool)
        assert 0 < consented.mean() < 1
        for column in columns:
            assert customers.loc[~consented, column].isna().all(), column
        assert customers.loc[consented, columns[0]].notna().all()


def test_verified_income_has_a_date_and_proof_and_declared_income_has_neither(synth):
    customers = synth.customers
    declared = customers["income_source"] == "declared"
    verified = customers["income_source"].isin(["income_proof", "bank_statement"])
    assert declared.any() and verified.any()
    assert customers.loc[declared, "income_verified_on"].isna().all()
    assert customers.loc[verified, "income_verified_on"].notna().all()
    on = customers.loc[verified, "income_verified_on"]
    assert (on >= customers.loc[verified, "opened_on"]).all()
    assert (on <= synth.months[-1]).all()


def test_declared_income_is_higher_and_noisier_than_verified_income_at_the_same_risk(last_rows):
    # log income + 0.35 z removes the risk's effect on income (module docstring).
    residual = np.log(last_rows["income_monthly"].astype(float)) + 0.35 * last_rows["latent_risk"]
    declared = residual[last_rows["income_source"] == "declared"]
    verified = residual[last_rows["income_source"].isin(["income_proof", "bank_statement"])]
    assert declared.median() > verified.median() + 0.08
    assert declared.std() > verified.std() * 1.1


def test_the_riskiest_fifth_defaults_far_more_often_than_the_safest_fifth(synth):
    outcomes = synth.outcomes
    fifth = pd.qcut(outcomes["latent_risk"], 5, labels=False)
    rates = outcomes.groupby(fifth)["default"].mean()
    assert rates.is_monotonic_increasing
    assert rates.iloc[-1] > 5 * rates.iloc[0]
    assert 0.05 <= outcomes["default"].mean() <= 0.12


def test_true_pd_is_calibrated_against_the_realised_defaults(synth):
    outcomes = synth.outcomes
    decile = pd.qcut(outcomes["true_pd"], 10, labels=False)
    for _, group in outcomes.groupby(decile):
        expected = group["true_pd"].sum()
        standard_error = np.sqrt((group["true_pd"] * (1 - group["true_pd"])).sum())
        assert abs(group["default"].sum() - expected) < 4 * standard_error + 1


def test_true_pd_follows_the_hazard_stated_in_the_module_docstring(last_rows):
    # Verified income and consented bureau data are the true values the hazard uses.
    rows = last_rows[
        last_rows["income_source"].isin(["income_proof", "bank_statement"]) & last_rows["consent_bureau"].astype(bool)
    ]
    assert len(rows) > 1_000
    bucket = np.minimum(np.ceil(rows["dpd"].astype(float) / 30), 3)
    utilisation = np.clip(rows["balance"].astype(float) / rows["credit_limit"].astype(float), 0, 1.5)
    debt = rows["balance"].clip(lower=0).astype(float) + rows["external_debt"].astype(float)
    debt_to_income = debt / (12 * rows["income_monthly"].astype(float))
    logit = (
        HAZARD.intercept
        + HAZARD.risk * rows["latent_risk"]
        + HAZARD.dpd_bucket * bucket
        + HAZARD.utilisation * utilisation
        + HAZARD.log_debt_to_income * np.log1p(debt_to_income)
    )
    monthly = 1 / (1 + np.exp(-logit))
    expected = 1 - (1 - monthly) ** rows["horizon_months"]
    np.testing.assert_allclose(rows["true_pd"], expected, rtol=1e-9)


def test_latent_risk_lowers_income_and_score_and_raises_enquiries_debt_and_usage(last_rows, panel):
    z = last_rows["latent_risk"]
    assert z.corr(last_rows["bureau_score"], method="spearman") < -0.4
    assert z.corr(last_rows["income_monthly"].astype(float), method="spearman") < -0.2
    assert z.corr(last_rows["bureau_enquiries_6m"].astype(float), method="spearman") > 0.2
    assert z.corr(last_rows["external_debt"].astype(float), method="spearman") > 0.2
    late_months = (panel["on_time"] == False).groupby(panel["account_id"]).sum()  # noqa: E712
    usage = (panel["balance"] / panel["credit_limit"]).groupby(panel["account_id"]).mean()
    assert z.corr(late_months.reindex(z.index), method="spearman") > 0.1
    assert z.corr(usage.reindex(z.index), method="spearman") > 0.2


def test_age_is_the_only_protected_attribute_and_is_independent_of_risk(last_rows, synth):
    emitted = set(PROTECTED_ATTRIBUTES) & set(synth.customers.columns)
    assert emitted == {"age"}
    assert abs(last_rows["latent_risk"].corr(last_rows["age"].astype(float))) < 0.03


def test_dpd_is_positive_exactly_when_the_month_was_not_paid_on_time(panel):
    assert (panel["dpd"] >= 0).all()
    late = panel["on_time"] == False  # noqa: E712
    assert ((panel["dpd"] > 0) == late).all()
    assert (panel.loc[late, "amount_paid"] < panel.loc[late, "amount_due"]).all()
    nothing_due = panel["on_time"].isna()
    assert (panel.loc[nothing_due, "amount_due"] == 0).all()
    assert (panel.loc[~nothing_due, "amount_due"] > 0).all()


def test_dpd_grows_by_about_a_month_per_consecutive_missed_month_and_clears_to_zero(panel):
    late = panel["dpd"] > 0
    still_late = late & (panel["previous_dpd"] > 0)
    first_miss = late & (panel["previous_dpd"] == 0)
    growth = panel.loc[still_late, "dpd"] - panel.loc[still_late, "previous_dpd"]
    assert still_late.sum() > 100
    assert growth.between(28, 31).all()
    assert panel.loc[first_miss, "dpd"].between(1, 31).all()
    cured = (panel["previous_dpd"] > 0) & (panel["on_time"] == True)  # noqa: E712
    assert cured.sum() > 100
    assert (panel.loc[cured, "dpd"] == 0).all()


def test_balance_moves_by_drawings_repayments_and_the_stated_interest(panel):
    rows = panel[panel["previous_balance"].notna()]
    carried = rows["previous_balance"] - rows["amount_paid"]
    interest = (carried * 15 + 500) // 1000
    assert (carried >= 0).all()
    assert (rows["balance"] == carried + interest + rows["drawn_amount"]).all()


def test_drawings_never_take_the_balance_over_the_limit_and_stop_when_in_arrears(panel):
    rows = panel[panel["previous_balance"].notna() & (panel["drawn_amount"] > 0)]
    assert len(rows) > 1_000
    assert (rows["previous_balance"] - rows["amount_paid"] + rows["drawn_amount"] <= rows["credit_limit"]).all()
    assert (rows["dpd"] == 0).all()


def test_credit_limits_mostly_stay_the_same(synth):
    changes = synth.panel.groupby("account_id")["credit_limit"].nunique() > 1
    assert 0.02 < changes.mean() < 0.3


def test_accounts_opening_in_the_window_start_their_panel_that_month_without_gaps(synth, panel):
    first_month = synth.months[0]
    opened_on = synth.customers.set_index("account_id")["opened_on"]
    rows = panel.groupby("account_id").agg(first=("month", "min"), count=("month", "size"))
    opened_on = opened_on.reindex(rows.index)
    assert opened_on.notna().all()
    in_window = opened_on > first_month
    assert 0.05 < in_window.mean() < 0.3
    expected_first = opened_on[in_window] + pd.offsets.MonthEnd(0)
    assert (rows.loc[in_window, "first"] == expected_first).all()
    assert (rows.loc[~in_window, "first"] == first_month).all()
    span = (synth.months[-1].year - rows["first"].dt.year) * 12 + (synth.months[-1].month - rows["first"].dt.month) + 1
    assert (rows["count"] == span).all()
    assert (opened_on < first_month - pd.DateOffset(years=2)).any()


def test_spending_peaks_at_chinese_new_year_and_november_and_payments_slip_after(panel):
    by_month = panel.groupby(panel["month"].dt.month)
    spending = by_month["drawn_amount"].mean()
    late = by_month["on_time"].apply(lambda flags: (flags == False).sum() / flags.notna().sum())  # noqa: E712
    quiet = spending[[5, 6, 7, 8, 9]].mean()
    assert spending[2] > 1.2 * quiet
    assert spending[11] > 1.2 * quiet
    assert late[3] > late[[6, 7, 8, 9]].max()


def test_outcomes_open_at_the_last_panel_month_over_the_horizon():
    portfolio = synthesize(SynthSpec(accounts=500, months=3, seed=1, horizon_months=6, last_month=date(2024, 2, 29)))
    assert portfolio.outcomes is not None
    assert (portfolio.outcomes["as_of"] == pd.Timestamp("2024-02-29")).all()
    assert (portfolio.outcomes["horizon_months"] == 6).all()
    assert [month.date() for month in portfolio.months] == [date(2023, 12, 31), date(2024, 1, 31), date(2024, 2, 29)]


def test_a_longer_horizon_gives_a_higher_pd_to_the_same_accounts():
    short = synthesize(SynthSpec(accounts=1_000, months=3, seed=5, horizon_months=3))
    long = synthesize(SynthSpec(accounts=1_000, months=3, seed=5, horizon_months=12))
    assert (long.outcomes["true_pd"] > short.outcomes["true_pd"]).all()


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"accounts": 0}, "accounts_out_of_range"),
        ({"accounts": 10_000_001}, "accounts_out_of_range"),
        ({"months": 0}, "months_out_of_range"),
        ({"months": 61}, "months_out_of_range"),
        ({"months": 1.5}, "months_out_of_range"),
        ({"horizon_months": 0}, "horizon_months_out_of_range"),
        ({"horizon_months": 61}, "horizon_months_out_of_range"),
        ({"seed": -1}, "seed_out_of_range"),
        ({"accounts": 1_000_000, "months": 51}, "panel_rows_out_of_range"),
        ({"last_month": date(2025, 12, 30)}, "last_month_not_a_month_end"),
        ({"currency": "XYZ"}, "currency_not_supported"),
    ],
)
def test_a_spec_out_of_range_is_rejected_naming_the_field(change, code):
    arguments = {"accounts": 10, "months": 12, "seed": 0, **change}
    with pytest.raises(InputError) as caught:
        SynthSpec(**arguments)
    assert caught.value.code == code


def test_the_smallest_spec_gives_one_account_and_one_month():
    portfolio = synthesize(SynthSpec(accounts=1, months=1, seed=0, currency="JPY"))
    assert len(portfolio.panel) == 1
    assert portfolio.n_accounts == 1
