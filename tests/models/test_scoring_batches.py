"""A file scored in any batch gives every account the same PD: feature types follow the model."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from linewise.models.inputs import (
    categorical_features,
    features_from_table,
    inputs_from_table,
)
from linewise.models.training import train_model


def lender_table(n: int = 3_000) -> pd.DataFrame:
    rng = np.random.default_rng(5)
    channel = rng.choice(["1", "2", "web"], size=n, p=[0.4, 0.4, 0.2])
    income = rng.lognormal(9, 0.5, size=n).round(0)
    risk = (channel == "web") * 0.8 + (channel == "1") * 0.3 - (income - income.mean()) / income.std() * 0.5
    bad = rng.random(n) < 1 / (1 + np.exp(-(risk - 1.5)))
    return pd.DataFrame(
        {
            "app_id": [f"A{i}" for i in range(n)],
            "channel": channel,
            "income": income.astype(str),
            "bad": np.where(bad, "1", "0"),
        }
    )


@pytest.mark.parametrize("kind", ["scorecard", "gbm"])
def test_a_category_that_looks_like_a_number_scores_the_same_in_any_batch(kind):
    table = lender_table()
    trained = train_model(inputs_from_table(table, target="bad", id_column="app_id"), kind=kind, folds=2)
    model = trained.model
    assert categorical_features(model) == ["channel"]
    file = table.drop(columns="bad")
    whole = features_from_table(file, id_column="app_id", source="t", text_columns=categorical_features(model))
    numeric_only = file[file["channel"] != "web"]  # every value in this batch looks like a number
    batch = features_from_table(numeric_only, id_column="app_id", source="t", text_columns=categorical_features(model))
    expected = pd.Series(model.predict_proba(whole), index=whole.index).loc[batch.index]
    np.testing.assert_array_equal(model.predict_proba(batch), expected.to_numpy())
    # Read without the model's types, the batch turns "1" into 1.0 and loses its category.
    untyped = features_from_table(numeric_only, id_column="app_id", source="t")
    assert pd.api.types.is_float_dtype(untyped["channel"])
