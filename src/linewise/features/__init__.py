"""Features: the registry and their computation from panel and customer data."""

from linewise.features.compute import (
    REGISTRY,
    compute_features,
    feature_specs,
    features_from_window,
    limit_changed_on,
)
from linewise.features.registry import Evolution, FeatureSpec, RiskDirection, Source
from linewise.features.window import WINDOW_MONTHS, as_of_month

__all__ = [
    "REGISTRY",
    "WINDOW_MONTHS",
    "Evolution",
    "FeatureSpec",
    "RiskDirection",
    "Source",
    "as_of_month",
    "compute_features",
    "feature_specs",
    "features_from_window",
    "limit_changed_on",
]
