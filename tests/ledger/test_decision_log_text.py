"""The decision log's JSON columns hold exactly what ``json.dumps`` writes of each row.

``save_run`` builds a run's feature and context texts a column at a time (a whole
book is 100,000 rows); the oracle is the plain per-row dict and ``json.dumps``. Runs
of a few rows and of many take different paths, so both sizes are checked, with the
values that formatting gets wrong first: NaN, negative zero, integers held as floats,
tiny and huge floats, text features and missing ones.
"""

from __future__ import annotations

import json
import math
from datetime import date

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import select

from linewise.ledger.store.decision_log import load_run, save_run
from linewise.ledger.store.tables import decisions
from linewise.strategy import default_strategy_text

AS_OF = date(2025, 12, 31)
EDGE_VALUES = [0.0, -0.0, math.nan, 3.0, 0.1, 1e-05, 1e16, 123456789.125, -2.5, 5e-324]


def a_run(rows: int) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    accounts = [f"A{n:05d}" for n in range(rows)]
    rng = np.random.default_rng(rows)
    decided = pd.DataFrame(
        {
            "account_id": accounts,
            "as_of": [AS_OF] * rows,
            "trigger": "review",
            "action": "hold",
            "current_limit": np.arange(rows, dtype="int64") * 100,
            "new_limit": np.arange(rows, dtype="int64") * 100,
            "pd": rng.random(rows),
            "score": rng.random(rows) * 600,
            "risk_grade": "B",
            "segment": "prime",
            "reasons": [["dpd_above_max"]] * rows,
            "recourse": [[]] * rows,
            "recourse_limit": pd.array([None] * rows, dtype="Int64"),
            "recourse_on": [None] * rows,
            "strategy": "default@1",
            "model": "m@1",
            "arm": "champion",
        }
    )
    edge = np.resize(np.array(EDGE_VALUES), rows)
    features = pd.DataFrame(
        {
            "edge": edge,
            "few": np.resize(np.array([1.0, 2.0, math.nan]), rows),
            "many": rng.standard_normal(rows) * 1e3,
            "counts": np.arange(rows, dtype="int64"),
            "label": pd.Series(np.resize(np.array(["x", None, 'a"b'], dtype=object), rows), dtype=object),
        },
        index=pd.Index(accounts, name="account_id"),
    )
    changed = pd.Series(pd.NaT, index=features.index, dtype="datetime64[ns]")
    changed.iloc[::3] = pd.Timestamp("2025-06-30")
    context = pd.DataFrame(
        {
            "last_limit_change_on": changed,
            "requests_in_window": np.resize(np.array([1.0, math.nan]), rows),
            "line_status": "active",
            "line_version": np.arange(rows, dtype="int64") + 1,
        },
        index=features.index,
    )
    return decided, features, context


def expected_features(features: pd.DataFrame, account: str) -> str:
    row = features.loc[account]
    item: dict[str, object] = {}
    for name in ("edge", "few", "many", "counts"):
        value = float(row[name])
        item[name] = None if math.isnan(value) else value
    label = features["label"].loc[account]
    item["label"] = None if label is None or pd.isna(label) else str(label)
    return json.dumps(item, allow_nan=False)


def expected_context(context: pd.DataFrame, account: str, record: dict[str, object]) -> str:
    row = context.loc[account]
    requests = float(row["requests_in_window"])
    item = {
        "last_limit_change_on": None if pd.isna(row["last_limit_change_on"]) else "2025-06-30",
        "requests_in_window": None if math.isnan(requests) else requests,
        "line_status": "active",
        "line_version": int(row["line_version"]),
        "history": record,
    }
    return json.dumps(item, allow_nan=False)


@pytest.mark.parametrize("rows", [3, 600])
def test_features_and_context_are_stored_as_json_dumps_writes_each_row(engine, rows):
    decided, features, context = a_run(rows)
    history = [{"dpd": [0, n % 5], "balance": [n, n + 1]} for n in range(rows)]

    run_id = save_run(
        engine,
        decided,
        features,
        strategy_text=default_strategy_text(),
        with_recourse=True,
        context=context,
        history=history,
    )

    with engine.connect() as conn:
        stored = conn.execute(
            select(decisions.c.account_id, decisions.c.features, decisions.c.context)
            .where(decisions.c.run_id == run_id)
            .order_by(decisions.c.id)
        ).all()
    assert [account for account, _, _ in stored] == list(decided["account_id"])
    for position, (account, features_text, context_text) in enumerate(stored):
        assert features_text == expected_features(features, account)
        assert context_text == expected_context(context, account, history[position])
    back = load_run(engine, run_id)
    assert back.history == history
    assert back.decisions["current_limit"].tolist() == decided["current_limit"].tolist()
