"""Features: the registry and their computation from panel and customer data."""

from linewise.features._customers import CustomerColumns, customer_columns
from linewise.features.compute import (
    REGISTRY,
    compute_features,
    feature_specs,
    features_from_columns,
    features_from_window,
    limit_changed_on,
)
from linewise.features.registry import Evolution, FeatureSpec, RiskDirection, Source
from linewise.features.window import WINDOW_MONTHS, as_of_month

__all__ = [
    "REGISTRY",
    "WINDOW_MONTHS",
    "CustomerColumns",
    "Evolution",
    "FeatureSpec",
    "RiskDirection",
    "Source",
    "as_of_month",
    "compute_features",
    "customer_columns",
    "feature_specs",
    "features_from_columns",
    "features_from_window",
    "limit_changed_on",
]
