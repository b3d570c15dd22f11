"""`linewise monitor` on a slice of the real portfolio: each month decided, drift, performance, fairness."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score
from tests.inprocess import run_linewise
from tests.simulate.common import train_gbm, write_uci_slice

ACCOUNTS = 4000

# A model is trained on the slice, and each of its six months decided.
pytestmark = pytest.mark.slow


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return run_linewise(*args, cwd=cwd)


@pytest.fixture(scope="module")
def watched(uci, tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("monitor")
    write_uci_slice(uci, ACCOUNTS, root / "portfolio")
    train_gbm(root)
    result = run(
        "monitor", "--portfolio", "portfolio", "--model", "model", "--reference", "2005-08-31", "--out", "mon", cwd=root
    )
    assert result.returncode == 0, result.stderr
    (root / "stdout.txt").write_text(result.stdout, encoding="utf-8")
    return root


def report(root: Path) -> dict:
    return json.loads((root / "mon" / "monitor.json").read_text(encoding="utf-8"))


def test_every_month_is_decided_and_the_reference_month_has_not_drifted_from_itself(watched):
    months = report(watched)["months"]

    assert [m["month"] for m in months] == [
        f"2005-{m:02d}-{d}" for m, d in ((4, 30), (5, 31), (6, 30), (7, 31), (8, 31), (9, 30))
    ]
    assert all(m["accounts"] == ACCOUNTS for m in months)
    august = months[4]
    assert august["score"]["psi"] == 0 and not august["score"]["drift"]
    assert august["features_drifting"] == []
    # April knows one month of history where August knows five: that is drift, and it is told.
    assert months[0]["score"]["drift"] and months[0]["model_features_drifting"]


def test_auc_and_ks_are_told_where_outcomes_are_known_and_agree_with_a_review_of_that_month(watched, uci):
    september = report(watched)["months"][-1]
    reviewed = run(
        "review", "--portfolio", "portfolio", "--model", "model", "--no-recourse", "--no-log",
        "--out", "september.parquet", cwd=watched,
    )  # fmt: skip
    assert reviewed.returncode == 0, reviewed.stderr
    decisions = pd.read_parquet(watched / "september.parquet")
    bad = uci.outcomes.set_index("account_id")["default"].reindex(decisions["account_id"]).to_numpy(dtype=bool)

    assert september["performance"]["auc"] == pytest.approx(roc_auc_score(bad, decisions["pd"]), abs=1e-6)
    assert september["performance"]["bad_rate"] == pytest.approx(bad.mean(), abs=1e-6)
    assert all("performance" not in month for month in report(watched)["months"][:-1])
    by_grade = {row["grade"]: row for row in september["calibration"]}
    assert sum(row["accounts"] for row in by_grade.values()) == ACCOUNTS
    for grade, row in by_grade.items():
        chosen = (decisions["risk_grade"] == grade).to_numpy()
        assert row["observed"] == pytest.approx(bad[chosen].mean(), abs=1e-6)
        assert row["predicted"] == pytest.approx(decisions["pd"][chosen].mean(), abs=1e-6)


def test_fairness_covers_every_account_in_each_protected_attribute(watched):
    fairness = report(watched)["fairness"]

    assert fairness["as_of"] == "2005-09-30"
    assert set(fairness) == {"as_of", "sex", "education", "marital_status", "age"}
    for attribute in ("sex", "education", "marital_status", "age"):
        assert sum(group["accounts"] for group in fairness[attribute].values()) == ACCOUNTS
    assert next(iter(fairness["age"])) == "under 26"
    out = (watched / "stdout.txt").read_text(encoding="utf-8")
    assert "Calibration by grade, outcomes opened 2005-09-30" in out
    assert "Decisions across protected attributes, 2005-09-30" in out


def test_a_reference_that_is_not_a_month_of_the_portfolio_is_refused_and_writes_nothing(watched, tmp_path):
    result = run(
        "monitor", "--portfolio", str(watched / "portfolio"), "--model", str(watched / "model"),
        "--reference", "2005-08-15", "--out", str(tmp_path / "mon"), cwd=tmp_path,
    )  # fmt: skip

    assert result.returncode == 2
    assert "month_not_found" in result.stderr and "2005-04-30 to 2005-09-30" in result.stderr
    assert not (tmp_path / "mon").exists()
    assert np.isfinite(report(watched)["months"][0]["score"]["psi"])
