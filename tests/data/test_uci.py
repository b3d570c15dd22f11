from __future__ import annotations

import pandas as pd

from linewise.data import read_portfolio, write_portfolio
from linewise.data.importers.uci_taiwan import load_uci_raw


def test_the_bundled_portfolio_has_every_account_for_six_months(uci):
    raw = load_uci_raw()
    assert uci.n_accounts == len(raw) == 30_000
    assert uci.panel.groupby("account_id").size().eq(6).all()
    assert [m.month for m in uci.months] == [4, 5, 6, 7, 8, 9]


def test_amounts_are_minor_units_of_the_bill_and_payment(uci):
    raw = load_uci_raw().set_index("ID")
    september = uci.panel[uci.panel["month"] == uci.months[-1]].set_index("account_id")
    first = str(raw.index[0])
    assert september.loc[first, "credit_limit"] == raw.loc[int(first), "X1"] * 100
    assert september.loc[first, "balance"] == raw.loc[int(first), "X12"] * 100
    assert september.loc[first, "amount_paid"] == raw.loc[int(first), "X18"] * 100


def test_repayment_status_maps_to_dpd_and_on_time(uci):
    raw = load_uci_raw()
    september = uci.panel[uci.panel["month"] == uci.months[-1]].set_index("account_id")
    status = raw.set_index(raw["ID"].astype(str))["X6"].reindex(september.index)
    late = status >= 1
    assert (september.loc[late, "dpd"] == status[late] * 30).all()
    assert (september.loc[~late, "dpd"] == 0).all()
    assert not september.loc[late, "on_time"].any()
    assert september.loc[status.isin([-1, 0]), "on_time"].all()
    assert september.loc[status == -2, "on_time"].isna().all()


def test_late_payers_default_more_often(uci):
    last = uci.panel[uci.panel["month"] == uci.months[-1]].set_index("account_id")
    outcome = uci.outcomes.set_index("account_id")["default"].reindex(last.index)
    late_rate = outcome[last["dpd"] > 0].mean()
    current_rate = outcome[last["dpd"] == 0].mean()
    assert late_rate > 2 * current_rate


def test_sensitive_attributes_are_kept_only_in_the_customer_table(uci):
    assert {"sex", "education", "marital_status", "age"} <= set(uci.customers.columns)
    assert not {"sex", "age"} & set(uci.panel.columns)
    assert not uci.customers[["consent_income", "consent_bureau"]].any().any()


def test_a_written_portfolio_reads_back_identical(uci, tmp_path):
    write_portfolio(uci, tmp_path / "p")
    back = read_portfolio(tmp_path / "p")
    pd.testing.assert_frame_equal(back.panel, uci.panel)
    pd.testing.assert_frame_equal(back.customers, uci.customers)
    assert back.outcomes is not None and uci.outcomes is not None
    pd.testing.assert_frame_equal(back.outcomes, uci.outcomes)
    assert back.currency == "TWD"
