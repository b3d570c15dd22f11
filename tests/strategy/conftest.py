"""The real portfolio, a model's PD for it, and the default strategy's decisions."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from linewise.features import REGISTRY
from linewise.models.gbm import GradientBoostedModel
from linewise.models.inputs import ModelInputs, inputs_from_portfolio
from linewise.strategy import default_strategy_text, read_strategy
from linewise.strategy.compiled import compile_strategy
from linewise.strategy.evaluate import Context, evaluate_policy


@pytest.fixture(scope="session")
def uci_inputs(uci) -> ModelInputs:
    return inputs_from_portfolio(uci)


@pytest.fixture(scope="session")
def uci_pd(uci_inputs) -> np.ndarray:
    """In-sample PD of a monotone GBM: these tests look at the strategy, not the model."""
    monotone = {name: REGISTRY[name].risk_direction.sign
                for name in uci_inputs.features.columns if name in REGISTRY}
    model = GradientBoostedModel(monotone=monotone).fit(uci_inputs.features, uci_inputs.bad)
    return model.predict_proba(uci_inputs.features)


@pytest.fixture(scope="session")
def uci_decisions(uci_inputs, uci_pd) -> pd.DataFrame:
    policy = compile_strategy(read_strategy(default_strategy_text())).policies["champion"]
    return evaluate_policy(policy, uci_inputs.features, uci_pd, Context(as_of=date(2005, 9, 30)))
