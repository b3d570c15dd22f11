"""The credit bureau's record: enquiries, debt and delinquency elsewhere, bureau score."""

from __future__ import annotations

import numpy as np
import pandas as pd

from linewise.features._customers import CustomerColumns, customer_columns
from linewise.features.registry import Evolution, FeatureSpec, RiskDirection, Source
from linewise.features.window import PanelWindow

__all__ = ["SPECS", "compute"]

_UP, _DOWN = RiskDirection.INCREASING, RiskDirection.DECREASING

SPECS: tuple[FeatureSpec, ...] = (
    FeatureSpec(
        "bureau_enquiries_6m",
        "近6个月征信查询次数",
        "credit applications elsewhere in the last 6 months",
        Source.BUREAU,
        "count",
        _UP,
        True,
        Evolution.WINDOW_CLEARS,
        6,
    ),
    FeatureSpec(
        "external_debt",
        "其他机构负债",
        "debt owed to other lenders",
        Source.BUREAU,
        "minor_units",
        _UP,
        True,
        Evolution.HELD,
    ),
    FeatureSpec(
        "external_dpd_max_12m",
        "近12个月其他机构最长逾期天数",
        "longest days past due with other lenders in the last 12 months",
        Source.BUREAU,
        "days",
        _UP,
        True,
        Evolution.WINDOW_CLEARS,
        12,
    ),
    FeatureSpec(
        "bureau_score", "征信评分", "credit bureau score", Source.BUREAU, "score", _DOWN, False, Evolution.HELD
    ),
)


def compute(window: PanelWindow, customers: pd.DataFrame | CustomerColumns) -> dict[str, np.ndarray]:
    """Bureau features; all missing where the customer gave no bureau consent."""
    columns = customers if isinstance(customers, CustomerColumns) else customer_columns(customers, window.account_ids)
    return {spec.name: columns.consented(spec.name, "consent_bureau") for spec in SPECS}
