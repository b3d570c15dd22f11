"""`linewise review` and `linewise explain` on a slice of the real portfolio, end to end."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from tests.strategy.texts import edit

from linewise.data import write_portfolio
from linewise.data.portfolio import Portfolio
from linewise.decide import DECISION_COLUMNS

LINEWISE = str(Path(sys.executable).parent / "linewise")
ACCOUNTS = 3000


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LINEWISE_")}
    env["COLUMNS"] = "120"
    return subprocess.run([LINEWISE, *args], cwd=cwd, env=env, capture_output=True, text=True,
                          check=False)


@pytest.fixture(scope="module")
def reviewed(uci, tmp_path_factory) -> Path:
    """A 3,000-account slice of UCI, a GBM trained on it and its review, in one directory."""
    root = tmp_path_factory.mktemp("review")
    ids = sorted(uci.customers["account_id"].unique())[:ACCOUNTS]
    small = Portfolio.from_frames(
        uci.panel[uci.panel["account_id"].isin(ids)], uci.customers[uci.customers["account_id"].isin(ids)],
        uci.outcomes[uci.outcomes["account_id"].isin(ids)], currency=uci.currency, source="uci-slice")
    write_portfolio(small, root / "portfolio")
    trained = run("model", "train", "--portfolio", "portfolio", "--kind", "gbm", "--out", "model", cwd=root)
    assert trained.returncode == 0, trained.stderr
    result = run("review", "--portfolio", "portfolio", "--model", "model", "--out", "decisions.parquet",
                 cwd=root)
    assert result.returncode == 0, result.stderr
    (root / "stdout.txt").write_text(result.stdout, encoding="utf-8")
    return root


def test_review_writes_one_decision_per_account_with_the_contract_columns(reviewed):
    decisions = pd.read_parquet(reviewed / "decisions.parquet")
    assert tuple(decisions.columns) == DECISION_COLUMNS
    assert len(decisions) == ACCOUNTS and decisions["account_id"].is_unique
    assert set(decisions["strategy"]) == {"default@1"}
    manifest = json.loads((reviewed / "model" / "manifest.json").read_text(encoding="utf-8"))
    assert set(decisions["model"]) == {manifest["model"]}
    assert isinstance(decisions["reasons"].iloc[0].tolist(), list)
    features = pd.read_parquet(reviewed / "decisions.features.parquet")
    assert len(features) == ACCOUNTS and "last_limit_change_on" in features.columns


def test_review_prints_the_action_mix_by_segment_and_grade_and_the_limit_added(reviewed):
    out = (reviewed / "stdout.txt").read_text(encoding="utf-8")
    decisions = pd.read_parquet(reviewed / "decisions.parquet")
    assert f"{ACCOUNTS:,} decisions as of 2005-09-30 by default@1" in out
    assert "actions by segment" in out and "actions by risk grade" in out
    counts = decisions["action"].value_counts()
    assert f"increase {counts['increase'] / ACCOUNTS:.1%}" in out
    added = int((decisions["new_limit"] - decisions["current_limit"]).clip(lower=0).sum()) // 100
    assert f"limit added: {added:,} TWD" in out


def test_explain_prints_the_notice_in_either_language(reviewed):
    decisions = pd.read_parquet(reviewed / "decisions.parquet")
    frozen = decisions[decisions["action"] == "freeze"]["account_id"].iloc[0]
    zh = run("explain", frozen, "--lang", "zh", cwd=reviewed)
    en = run("explain", frozen, "--lang", "en", "--json", cwd=reviewed)
    assert zh.returncode == 0, zh.stderr
    assert zh.stdout.startswith("您的额度") and "冻结" in zh.stdout
    payload = json.loads(en.stdout)
    assert payload["action"] == "freeze" and "frozen" in payload["notice"]


def test_explain_refuses_an_unknown_account_and_a_strategy_that_did_not_decide(reviewed):
    unknown = run("explain", "no-such-account", cwd=reviewed)
    assert unknown.returncode == 2
    assert "no-such-account" in unknown.stderr and "account_unknown" in unknown.stderr
    other = reviewed / "other.yaml"
    from linewise.strategy import default_strategy_text

    other.write_text(edit(default_strategy_text(), "version: 1", "version: 2"), encoding="utf-8")
    account = pd.read_parquet(reviewed / "decisions.parquet")["account_id"].iloc[0]
    mismatch = run("explain", account, "--strategy", "other.yaml", cwd=reviewed)
    assert mismatch.returncode == 2
    assert "default@2" in mismatch.stderr and "default@1" in mismatch.stderr


def test_review_refuses_a_strategy_in_another_currency_and_writes_nothing(reviewed):
    from linewise.strategy import default_strategy_text

    (reviewed / "cny.yaml").write_text(edit(default_strategy_text(), "currency: TWD", "currency: CNY"),
                                       encoding="utf-8")
    result = run("review", "--portfolio", "portfolio", "--model", "model", "--strategy", "cny.yaml",
                 "--out", "cny.parquet", cwd=reviewed)
    assert result.returncode == 2
    assert "currency" in result.stderr and "TWD" in result.stderr and "CNY" in result.stderr
    assert not (reviewed / "cny.parquet").exists()
