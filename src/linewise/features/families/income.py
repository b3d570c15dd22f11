"""Verified income, its age, debt to income, and assets."""

from __future__ import annotations

import numpy as np
import pandas as pd

from linewise.features._arrays import safe_ratio
from linewise.features._customers import CustomerColumns, customer_columns, month_numbers
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


def compute(window: PanelWindow, customers: pd.DataFrame | CustomerColumns) -> dict[str, np.ndarray]:
    """Income features; missing without consent, without verification, or verified later.

    Only income verified by a proof or a bank statement on or before the as-of
    month counts; declared income is never used here. Debt to income adds the
    external debt (when the bureau consent allows) to the line's balance.
    """
    columns = customers if isinstance(customers, CustomerColumns) else customer_columns(customers, window.account_ids)
    income = columns.consented("income_monthly", "consent_income")
    verified_on = columns.dates["income_verified_on"]
    source = columns.texts.get("income_source")
    by_proof = (
        np.zeros(columns.length, dtype=bool)
        if source is None
        else pd.Series(source, dtype=object).isin(VERIFIED_SOURCES).to_numpy(dtype=bool)
    )
    # NaT compares false: never verified is not verified by the as-of month.
    verified = by_proof & (verified_on <= window.month.to_datetime64())
    income = np.where(verified, income, np.nan)
    age = (window.month.year * 12 + window.month.month) - month_numbers(verified_on)
    external = np.nan_to_num(columns.consented("external_debt", "consent_bureau"), nan=0.0)
    debts = np.maximum(window.values["balance"][:, 0], 0.0) + external
    return {
        "income_verified_monthly": income,
        "income_age_months": np.where(np.isnan(income), np.nan, age),
        "debt_to_income": safe_ratio(debts, income * 12),
        "assets": columns.consented("assets", "consent_assets"),
    }
