"""``compute_features`` against a row-by-row reference written from the feature definitions.

The oracle (``reference_features``) walks each account's rows month by month, in
plain Python, following the registry's descriptions and each family's docstrings:

- the as-of month is the last month end on or before ``as_of``; only rows up to it
  count, and only accounts with a row in it get a feature row;
- an ``n``-month window is the as-of month and the ``n - 1`` months before it;
- a month is *delinquent* when ``dpd > 0`` or ``on_time`` is false; ``on_time``
  missing means nothing fell due;
- what the customer owes is the balance, a balance in their favour counting as 0;
  utilisation is owed over limit (missing for a zero limit), capped at 2;
- payment ratios use the months whose amounts are known, and are capped at 10;
- a feature of a source the customer gave no consent for is missing.
"""

from __future__ import annotations

import math
from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.features.panels import (
    LAST_MONTH,
    as_of_dates,
    build_portfolio,
    canonical_portfolio,
    month_end,
    portfolio_tables,
    portfolios,
)
from tests.strategies import scaled

from linewise.data import Portfolio
from linewise.errors import InputError
from linewise.features import (
    REGISTRY,
    Source,
    as_of_month,
    compute_features,
    feature_specs,
)

UTILISATION_CAP = 2.0
PAYMENT_RATIO_CAP = 10.0
# payment_to_balance_1m divides by at least one yuan (100 minor units), not by a few fen.
BALANCE_FLOOR = 100
VERIFIED = ("income_proof", "bank_statement")
CONSENT = {Source.INCOME: "consent_income", Source.BUREAU: "consent_bureau", Source.ASSETS: "consent_assets"}
NAN = math.nan

oracle_settings = settings(max_examples=scaled(100), deadline=None, suppress_health_check=[HealthCheck.too_slow])
# The properties the oracle already implies, stated on their own, need fewer examples.
property_settings = settings(oracle_settings, max_examples=scaled(50))


# --- the reference ---------------------------------------------------------------------


def _plain(value):
    if pd.isna(value):
        return None
    return value.item() if isinstance(value, np.generic) else value


def _month_number(day: date | pd.Timestamp) -> int:
    return day.year * 12 + day.month


def _last_month_end(as_of: date) -> date:
    """The last month end on or before ``as_of``."""
    if (as_of + timedelta(days=1)).day == 1:
        return as_of
    return as_of.replace(day=1) - timedelta(days=1)


def _mean(values: list[float]) -> float:
    return sum(values) / len(values) if values else NAN


def _ratio(numerator: float, denominator: float) -> float:
    return numerator / denominator if denominator else NAN


def _owed(row: dict) -> int:
    return max(row["balance"], 0)


def _utilisation(row: dict) -> float | None:
    if row["credit_limit"] == 0:
        return None
    return min(_owed(row) / row["credit_limit"], UTILISATION_CAP)


def _delinquent(row: dict) -> bool:
    return row["dpd"] > 0 or row["on_time"] is False


class _History:
    """One account's rows up to the as-of month, by months back from it."""

    def __init__(self, rows: list[dict], as_of: date) -> None:
        self.now = _month_number(as_of)
        self.by_month = {_month_number(row["month"]): row for row in rows if _month_number(row["month"]) <= self.now}
        self.months_since_first_row = self.now - min(self.by_month)

    def back(self, months: int) -> dict | None:
        return self.by_month.get(self.now - months)

    def window(self, months: int) -> list[dict]:
        return [row for k in range(months) if (row := self.back(k)) is not None]


def _repayment(h: _History) -> dict[str, float]:
    out: dict[str, float] = {}
    streak, since = 0, h.months_since_first_row + 1
    for k in range(h.months_since_first_row + 1):
        row = h.back(k)
        if _delinquent(row):
            since = k
            break
        streak += row["on_time"] is True
    out["on_time_streak"] = streak
    out["months_since_delinquency"] = since
    for n in (3, 6, 12):
        known = [row["on_time"] for row in h.window(n) if row["on_time"] is not None]
        out[f"on_time_ratio_{n}m"] = _ratio(sum(known), len(known))
        out[f"dpd_max_{n}m"] = max(row["dpd"] for row in h.window(n))
    now, before = h.back(0), h.back(1)
    out["dpd_current"] = now["dpd"]
    out["dpd_1m_ago"] = before["dpd"] if before else NAN
    out["dpd_change_1m"] = now["dpd"] - before["dpd"] if before else NAN
    out["delinquent_months_12m"] = sum(_delinquent(row) for row in h.window(12))
    due = [row for row in h.window(6) if (row["amount_due"] or 0) > 0]
    paid_known = [row for row in due if row["amount_paid"] is not None]
    out["missed_payment_months_6m"] = sum(row["amount_paid"] == 0 for row in paid_known)
    out["revolving_months_6m"] = sum(row["amount_paid"] < row["amount_due"] for row in paid_known)
    out["full_payment_ratio_6m"] = _ratio(
        sum(row["amount_paid"] >= row["amount_due"] for row in paid_known), len(paid_known)
    )
    both_known = [row for row in h.window(3) if row["amount_due"] is not None and row["amount_paid"] is not None]
    ratio = _ratio(sum(row["amount_paid"] for row in both_known), sum(row["amount_due"] for row in both_known))
    out["payment_to_due_ratio_3m"] = min(ratio, PAYMENT_RATIO_CAP) if not math.isnan(ratio) else NAN
    out["dpd_mean_6m"] = _mean([row["dpd"] for row in h.window(6)])
    covers = [min(row["amount_paid"] / row["amount_due"], PAYMENT_RATIO_CAP) for row in paid_known]
    out["payment_to_due_min_6m"] = min(covers, default=NAN)
    out["payment_min_6m"] = min(
        (row["amount_paid"] for row in h.window(6) if row["amount_paid"] is not None), default=NAN
    )
    return out


def _capped(value: float, cap: float) -> float:
    return NAN if math.isnan(value) else min(value, cap)


def _usage(h: _History, opened_on: date | None) -> dict[str, float]:
    now, before, five_back = h.back(0), h.back(1), h.back(5)
    limit = now["credit_limit"]
    current = _utilisation(now)
    earlier = [u for k in range(1, 6) if (row := h.back(k)) and (u := _utilisation(row)) is not None]
    in_3 = [u for row in h.window(3) if (u := _utilisation(row)) is not None]
    in_6 = [u for row in h.window(6) if (u := _utilisation(row)) is not None]
    paid_3 = sum(row["amount_paid"] or 0 for row in h.window(3))
    drawn_3 = [row["drawn_amount"] for row in h.window(3) if row["drawn_amount"] is not None]
    return {
        "months_on_book": (h.now - _month_number(opened_on) if opened_on is not None else h.months_since_first_row),
        "credit_limit": limit,
        "utilisation_current": NAN if current is None else current,
        "utilisation_mean_3m": _mean(in_3),
        "utilisation_mean_6m": _mean(in_6),
        "utilisation_max_6m": max(in_6, default=NAN),
        "utilisation_trend_6m": NAN if current is None else current - _mean(earlier),
        "balance_trend_6m": (_ratio(_owed(now) - _owed(five_back), limit) if five_back else NAN),
        "drawdown_months_6m": sum((row["drawn_amount"] or 0) > 0 for row in h.window(6)),
        "inactive_months_6m": sum(row["on_time"] is None for row in h.window(6)),
        "payment_to_limit_3m": _ratio(paid_3, limit),
        "payment_to_limit_1m": (NAN if now["amount_paid"] is None else _ratio(now["amount_paid"], limit)),
        "payment_to_balance_1m": (
            NAN
            if before is None or now["amount_paid"] is None
            else min(now["amount_paid"] / max(_owed(before), BALANCE_FLOOR), PAYMENT_RATIO_CAP)
        ),
        # Something paid and nothing owed is the best cover there is, not "unknown".
        "payment_to_balance_3m": PAYMENT_RATIO_CAP
        if paid_3 > 0 and _mean([_owed(row) for row in h.window(3)]) == 0
        else _capped(_ratio(paid_3, _mean([_owed(row) for row in h.window(3)])), PAYMENT_RATIO_CAP),
        "available_credit": limit - _owed(now),
        "balance_mean_6m": _mean([_owed(row) for row in h.window(6)]),
        "drawn_to_limit_3m": _ratio(sum(drawn_3), limit) if drawn_3 else NAN,
    }


def _consented(customer: dict, column: str, consent: str) -> float:
    value = customer.get(column)
    return value if customer.get(consent) is True and value is not None else NAN


def _income(h: _History, customer: dict, month: date) -> dict[str, float]:
    verified_on = customer.get("income_verified_on")
    verified = customer.get("income_source") in VERIFIED and verified_on is not None and verified_on.date() <= month
    income = _consented(customer, "income_monthly", "consent_income") if verified else NAN
    external = _consented(customer, "external_debt", "consent_bureau")
    debts = _owed(h.back(0)) + (0 if math.isnan(external) else external)
    return {
        "income_verified_monthly": income,
        "income_age_months": NAN if math.isnan(income) else h.now - _month_number(verified_on),
        "debt_to_income": NAN if math.isnan(income) else _ratio(debts, 12 * income),
        "assets": _consented(customer, "assets", "consent_assets"),
    }


def _bureau(customer: dict) -> dict[str, float]:
    return {
        name: _consented(customer, name, "consent_bureau")
        for name in ("bureau_enquiries_6m", "external_debt", "external_dpd_max_12m", "bureau_score")
    }


def reference_features(portfolio: Portfolio, as_of: date) -> pd.DataFrame:
    """Every registry feature, account by account, month by month, in plain Python."""
    month = _last_month_end(as_of)
    rows = [{key: _plain(value) for key, value in row.items()} for row in portfolio.panel.to_dict("records")]
    customers = {
        row["account_id"]: {key: _plain(value) for key, value in row.items()}
        for row in portfolio.customers.to_dict("records")
    }
    out = {}
    for account_id, customer in customers.items():
        own = [row for row in rows if row["account_id"] == account_id]
        if not any(row["month"].date() == month for row in own):
            continue
        history = _History(own, month)
        out[account_id] = {
            **_repayment(history),
            **_usage(history, customer["opened_on"]),
            **_income(history, customer, month),
            **_bureau(customer),
        }
    frame = pd.DataFrame.from_dict(out, orient="index", columns=list(REGISTRY), dtype="float64")
    return frame.rename_axis("account_id")


def assert_same_features(actual: pd.DataFrame, expected: pd.DataFrame) -> None:
    assert sorted(actual.index) == sorted(expected.index)
    assert list(actual.columns) == list(expected.columns)
    expected = expected.reindex(actual.index)
    for name in actual.columns:
        np.testing.assert_allclose(
            actual[name].to_numpy(), expected[name].to_numpy(), rtol=1e-12, atol=0, equal_nan=True, err_msg=name
        )


# --- the reference agrees with the code ------------------------------------------------


@oracle_settings
@given(portfolio=portfolios(), as_of=as_of_dates())
def test_every_feature_equals_the_row_by_row_reference(portfolio, as_of):
    actual = compute_features(portfolio.panel, portfolio.customers, as_of)
    assert actual.dtypes.eq("float64").all()
    assert_same_features(actual, reference_features(portfolio, as_of))


@property_settings
@given(portfolio=portfolios(), data=st.data())
def test_one_account_alone_gets_the_row_it_gets_in_a_batch(portfolio, data):
    batch = compute_features(portfolio.panel, portfolio.customers, LAST_MONTH)
    if batch.empty:
        return
    account_id = data.draw(st.sampled_from(list(batch.index)))
    alone = compute_features(
        portfolio.panel[portfolio.panel["account_id"] == account_id],
        portfolio.customers[portfolio.customers["account_id"] == account_id],
        LAST_MONTH,
    )
    assert list(alone.index) == [account_id]
    pd.testing.assert_frame_equal(alone, batch.loc[[account_id]], check_exact=True)


@property_settings
@given(portfolio=portfolios(), as_of=as_of_dates())
def test_rows_after_the_as_of_month_change_nothing(portfolio, as_of):
    known = portfolio.panel[portfolio.panel["month"] <= as_of_month(as_of)]
    with_future = compute_features(portfolio.panel, portfolio.customers, as_of)
    without = compute_features(known, portfolio.customers, as_of)
    pd.testing.assert_frame_equal(with_future, without, check_exact=True)


@settings(max_examples=scaled(30), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tables=portfolio_tables(payments_may_be_missing=True))
def test_generated_tables_are_what_validation_returns(tables):
    built, validated = canonical_portfolio(*tables), build_portfolio(*tables)
    pd.testing.assert_frame_equal(built.panel, validated.panel, check_exact=True)
    pd.testing.assert_frame_equal(built.customers, validated.customers, check_exact=True)


def test_generated_panels_reach_the_window_edge_and_every_missing_value():
    """Guard for the oracle tests: what they are given covers the cases that matter."""
    seen = dict.fromkeys(
        ["long", "closed", "zero_limit", "credit_balance", "on_time_missing", "due_missing", "dpd_without_on_time"],
        False,
    )

    @settings(max_examples=60, deadline=None, database=None)
    @given(portfolio=portfolios())
    def look(portfolio):
        panel = portfolio.panel
        seen["long"] |= bool(panel.groupby("account_id").size().max() > 12)
        seen["closed"] |= bool((panel.groupby("account_id")["month"].max() < LAST_MONTH).any())
        seen["zero_limit"] |= bool((panel["credit_limit"] == 0).any())
        seen["credit_balance"] |= bool((panel["balance"] < 0).any())
        seen["on_time_missing"] |= bool(panel["on_time"].isna().any())
        seen["due_missing"] |= bool(panel["amount_due"].isna().any())
        seen["dpd_without_on_time"] |= bool(((panel["dpd"] > 0) & panel["on_time"].isna()).any())

    look()
    assert all(seen.values()), seen


# --- the as-of date ------------------------------------------------------------------------


def _one_account(
    months: int, *, dpd_by_month: dict[int, int] | None = None, last: pd.Timestamp = LAST_MONTH, **customer
) -> Portfolio:
    """A plain account of ``months`` months, current unless ``dpd_by_month`` says otherwise."""
    dpd_by_month = dpd_by_month or {}
    rows = [
        {
            "account_id": "A",
            "month": month_end(last, back),
            "credit_limit": 10_000,
            "balance": 5_000,
            "amount_due": 1_000,
            "amount_paid": 1_000,
            "drawn_amount": 0,
            "dpd": dpd_by_month.get(back, 0),
            "on_time": dpd_by_month.get(back, 0) == 0,
        }
        for back in reversed(range(months))
    ]
    customer_row = {
        "account_id": "A",
        "customer_id": "C",
        "opened_on": None,
        "consent_income": True,
        "consent_bureau": True,
        "consent_assets": True,
        **customer,
    }
    return build_portfolio(rows, [customer_row])


def test_a_mid_month_as_of_describes_the_month_before():
    portfolio = _one_account(4, dpd_by_month={0: 30})
    features = compute_features(portfolio.panel, portfolio.customers, date(2026, 1, 15))
    assert features.attrs["as_of"] == LAST_MONTH
    december = compute_features(portfolio.panel, portfolio.customers, date(2025, 12, 30))
    assert features.index.tolist() == ["A"]
    assert december.loc["A", "dpd_current"] == 0  # 30 Dec is not a month end: November's row
    assert features.loc["A", "dpd_current"] == 30


def test_an_account_without_a_row_in_the_as_of_month_gets_no_features():
    portfolio = _one_account(3, last=month_end(LAST_MONTH, 1))
    assert compute_features(portfolio.panel, portfolio.customers, LAST_MONTH).empty
    assert len(compute_features(portfolio.panel, portfolio.customers, month_end(LAST_MONTH, 1))) == 1


def test_income_verified_after_the_as_of_month_is_not_used_yet():
    portfolio = _one_account(
        6, income_monthly=800_000, income_source="income_proof", income_verified_on=date(2025, 11, 20)
    )
    october = compute_features(portfolio.panel, portfolio.customers, date(2025, 10, 31))
    november = compute_features(portfolio.panel, portfolio.customers, date(2025, 11, 30))
    december = compute_features(portfolio.panel, portfolio.customers, date(2025, 12, 31))
    assert october.loc["A", ["income_verified_monthly", "income_age_months", "debt_to_income"]].isna().all()
    assert november.loc["A", "income_verified_monthly"] == 800_000
    assert (november.loc["A", "income_age_months"], december.loc["A", "income_age_months"]) == (0, 1)


# --- consent -----------------------------------------------------------------------------


@property_settings
@given(portfolio=portfolios(max_accounts=6), as_of=as_of_dates())
def test_a_source_without_consent_gives_missing_features_never_a_value(portfolio, as_of):
    features = compute_features(portfolio.panel, portfolio.customers, as_of)
    consents = portfolio.customers.set_index("account_id").reindex(features.index)
    for source, column in CONSENT.items():
        refused = ~consents[column].astype(bool).to_numpy()
        for spec in feature_specs():
            if spec.source is source:
                assert features.loc[refused, spec.name].isna().all(), spec.name


def _full_customer(**consents) -> dict:
    return {
        "income_monthly": 900_000,
        "income_source": "bank_statement",
        "income_verified_on": date(2025, 6, 1),
        "assets": 5_000_000,
        "bureau_enquiries_6m": 2,
        "external_debt": 300_000,
        "external_dpd_max_12m": 30,
        "bureau_score": 640.0,
        **consents,
    }


@pytest.mark.parametrize("refused", list(CONSENT))
def test_refusing_one_source_hides_exactly_that_sources_features(refused):
    given_all = _one_account(8, **_full_customer())
    one_refused = _one_account(8, **_full_customer(**{CONSENT[refused]: False}))
    before = compute_features(given_all.panel, given_all.customers, LAST_MONTH).loc["A"]
    after = compute_features(one_refused.panel, one_refused.customers, LAST_MONTH).loc["A"]
    for spec in feature_specs():
        if spec.source is Source.LEDGER:
            assert after[spec.name] == before[spec.name], spec.name
        elif spec.source is refused:
            assert not np.isnan(before[spec.name]) and np.isnan(after[spec.name]), spec.name
    if refused is Source.BUREAU:
        # debt to income (an income feature) no longer counts the bureau's debt
        assert after["debt_to_income"] < before["debt_to_income"]


def test_customer_tables_without_consent_columns_give_no_source_features():
    portfolio = _one_account(3, **_full_customer())
    customers = portfolio.customers.drop(columns=list(CONSENT.values()))
    features = compute_features(portfolio.panel, customers, LAST_MONTH)
    outside = [spec.name for spec in feature_specs() if spec.source is not Source.LEDGER]
    assert features[outside].isna().all().all()
    assert features.drop(columns=outside).notna().any().any()


# --- choosing sources and features ----------------------------------------------------------


@pytest.mark.parametrize("sources", [[Source.LEDGER], [Source.BUREAU, Source.ASSETS], list(Source)])
def test_sources_select_columns_without_changing_values(sources):
    portfolio = _one_account(7, **_full_customer())
    everything = compute_features(portfolio.panel, portfolio.customers, LAST_MONTH)
    chosen = compute_features(portfolio.panel, portfolio.customers, LAST_MONTH, sources=sources)
    expected = [name for name, spec in REGISTRY.items() if spec.source in sources]
    assert list(chosen.columns) == expected
    pd.testing.assert_frame_equal(chosen, everything[expected])


def test_an_unknown_feature_name_is_an_input_error_naming_it():
    with pytest.raises(InputError, match="no_such_feature") as raised:
        feature_specs(["on_time_streak", "no_such_feature"])
    assert raised.value.code == "feature_unknown"
    assert [spec.name for spec in feature_specs(["dpd_current", "on_time_streak"])] == ["dpd_current", "on_time_streak"]


# --- a payment nobody recorded --------------------------------------------------------------


def test_a_month_whose_payment_is_unknown_does_not_count_as_unpaid():
    rows = [
        {
            "account_id": "A",
            "month": month_end(LAST_MONTH, back),
            "credit_limit": 10_000,
            "balance": 5_000,
            "amount_due": 1_000,
            "amount_paid": paid,
            "drawn_amount": 0,
            "dpd": 0,
            "on_time": True,
        }
        for back, paid in ((2, 1_000), (1, None), (0, 1_000))
    ]
    portfolio = build_portfolio(rows, [{"account_id": "A", "customer_id": "C", "opened_on": None}])
    features = compute_features(portfolio.panel, portfolio.customers, LAST_MONTH).loc["A"]
    # Every payment on record covers what fell due, and nothing is counted as revolving.
    assert features["revolving_months_6m"] == 0
    assert features["missed_payment_months_6m"] == 0
    assert features["payment_to_due_ratio_3m"] == 1.0
    assert features["full_payment_ratio_6m"] == 1.0


@property_settings
@given(portfolio=portfolios(payments_may_be_missing=True), as_of=as_of_dates())
def test_with_unknown_payments_every_feature_still_equals_the_reference(portfolio, as_of):
    actual = compute_features(portfolio.panel, portfolio.customers, as_of)
    assert_same_features(actual, reference_features(portfolio, as_of))


@pytest.mark.parametrize("months", [0, 1, 6, 12])
def test_counting_true_months_counts_each_row_as_a_row_sum_does(months):
    from linewise.features._arrays import count_true

    mask = np.random.default_rng(months).random((50, 12))[:, :months] < 0.5
    counted = count_true(mask)
    assert counted.dtype == np.float64
    np.testing.assert_array_equal(counted, mask.sum(axis=1).astype("float64"))
