"""Verified income, its age, debt to income, and assets."""

from __future__ import annotations

import numpy as np
import pandas as pd

from linewise.features._arrays import safe_ratio
from linewise.features.families._consent import consented_column, customer_rows
from linewise.features.registry import Evolution, FeatureSpec, RiskDirection, Source
from linewise.features.window import PanelWindow

__all__ = ["SPECS", "VERIFIED_SOURCES", "compute"]

_UP, _DOWN = RiskDirection.INCREASING, RiskDirection.DECREASING
VERIFIED_SOURCES = ("income_proof", "bank_statement")

SPECS: tuple[FeatureSpec, ...] = (
    FeatureSpec(
        "income_verified_monthly",
        "已验证月收入",
        "verified monthly income",
        Source.INCOME,
        "minor_units",
        _DOWN,
        True,
        Evolution.HELD,
    ),
    FeatureSpec(
        "income_age_months",
        "收入证明距今月数",
        "months since the income was verified",
        Source.INCOME,
        "months",
        _UP,
        True,
        Evolution.AGES,
    ),
    FeatureSpec(
        "debt_to_income",
        "负债收入比",
        "all debts over a year of verified income",
        Source.INCOME,
        "ratio",
        _UP,
        True,
        Evolution.HELD,
    ),
    FeatureSpec("assets", "已验证资产", "verified assets", Source.ASSETS, "minor_units", _DOWN, True, Evolution.HELD),
)


def compute(window: PanelWindow, customers: pd.DataFrame) -> dict[str, np.ndarray]:
    """Income features; missing without consent, without verification, or verified later.

    Only income verified by a proof or a bank statement on or before the as-of
    month counts; declared income is never used here. Debt to income adds the
    external debt (when the bureau consent allows) to the line's balance.
    """
    rows = customer_rows(customers, window.account_ids)
    income = consented_column(rows, "income_monthly", "consent_income")
    verified_on = pd.to_datetime(rows.get("income_verified_on", pd.Series(pd.NaT, index=rows.index)))
    source = rows.get("income_source", pd.Series(None, index=rows.index, dtype="str"))
    verified = (source.isin(VERIFIED_SOURCES) & verified_on.notna() & (verified_on <= window.month)).to_numpy()
    income = np.where(verified, income, np.nan)
    age = ((window.month.year - verified_on.dt.year) * 12 + (window.month.month - verified_on.dt.month)).to_numpy(
        dtype="float64", na_value=np.nan
    )
    external = np.nan_to_num(consented_column(rows, "external_debt", "consent_bureau"), nan=0.0)
    debts = np.maximum(window.values["balance"][:, 0], 0.0) + external
    return {
        "income_verified_monthly": income,
        "income_age_months": np.where(np.isnan(income), np.nan, age),
        "debt_to_income": safe_ratio(debts, income * 12),
        "assets": consented_column(rows, "assets", "consent_assets"),
    }
