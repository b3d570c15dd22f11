"""The real portfolio, a model's PD for it, and the default strategy's decisions."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from linewise.strategy import default_strategy_text, read_strategy
from linewise.strategy.compiled import compile_strategy
from linewise.strategy.evaluate import Context, evaluate_policy


@pytest.fixture(scope="session")
def uci_pd(uci_gbm, uci_inputs) -> np.ndarray:
    """In-sample PD of a monotone GBM: these tests look at the strategy, not the model."""
    return uci_gbm.predict_proba(uci_inputs.features)


@pytest.fixture(scope="session")
def uci_decisions(uci_inputs, uci_pd) -> pd.DataFrame:
    policy = compile_strategy(read_strategy(default_strategy_text())).policies["champion"]
    return evaluate_policy(policy, uci_inputs.features, uci_pd, Context(as_of=date(2005, 9, 30)))
