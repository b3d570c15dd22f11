"""`linewise simulate` on a slice of the real portfolio: two strategies priced, compared and back-tested."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pandas as pd
import pytest
from tests.inprocess import run_linewise
from tests.simulate.common import train_gbm, write_uci_slice
from tests.strategy.texts import edit

from linewise.strategy import default_strategy_text
from linewise.strategy.evaluate import ACTIONS

ACCOUNTS = 6000

# A model is trained on a slice and the slice decided under two strategies, several times.
pytestmark = pytest.mark.slow


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return run_linewise(*args, cwd=cwd)


@pytest.fixture(scope="module")
def lab(uci, tmp_path_factory) -> Path:
    """A UCI slice with its outcomes, a GBM trained on it, the default strategy and a looser one, simulated."""
    root = tmp_path_factory.mktemp("lab")
    write_uci_slice(uci, ACCOUNTS, root / "portfolio")
    train_gbm(root)
    default = default_strategy_text()
    (root / "default.yaml").write_text(default, encoding="utf-8")
    looser = edit(edit(default, "risk_appetite: 1.0", "risk_appetite: 1.2"), "version: 1", "version: 2")
    (root / "looser.yaml").write_text(looser, encoding="utf-8")
    result = run(
        "simulate", "--portfolio", "portfolio", "--model", "model", "--strategy", "default.yaml",
        "--strategy", "looser.yaml", "--backtest", "--json", "--out", "sim", cwd=root,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    (root / "stdout.json").write_text(result.stdout, encoding="utf-8")
    return root


def summary(lab: Path) -> dict:
    return json.loads((lab / "sim" / "summary.json").read_text(encoding="utf-8"))


def decisions(lab: Path, index: int, label: str) -> pd.DataFrame:
    return pd.read_parquet(lab / "sim" / f"decisions-{index}-{label}.parquet")


def test_the_summary_printed_is_the_summary_written(lab):
    assert json.loads((lab / "stdout.json").read_text(encoding="utf-8")) == summary(lab)


def test_each_strategy_decides_exactly_as_a_review_does(lab):
    reviewed = run(
        "review", "--portfolio", "portfolio", "--model", "model", "--strategy", "looser.yaml",
        "--no-recourse", "--no-log", "--out", "review.parquet", cwd=lab,
    )  # fmt: skip
    assert reviewed.returncode == 0, reviewed.stderr

    pd.testing.assert_frame_equal(decisions(lab, 2, "looser"), pd.read_parquet(lab / "review.parquet"))


def test_the_figures_of_each_strategy_add_up_from_its_decisions(lab):
    for index, strategy in enumerate(summary(lab)["strategies"], start=1):
        decided = decisions(lab, index, strategy["label"])
        change = decided["new_limit"] - decided["current_limit"]
        assert strategy["accounts"] == ACCOUNTS
        assert strategy["actions"] == {a: int((decided["action"] == a).sum()) for a in ACTIONS}
        assert strategy["limit_added"] == int(change.clip(lower=0).sum())
        assert strategy["limit_removed"] == int((-change).clip(lower=0).sum())
        assert sum(part["accounts"] for part in strategy["by_grade"].values()) == ACCOUNTS
        by_segment = sum(part["expected_loss"]["value"] for part in strategy["by_segment"].values())
        assert by_segment == pytest.approx(strategy["expected_loss"]["value"], abs=len(strategy["by_segment"]))
        for figure in ("expected_loss", "expected_revenue", "expected_profit", "day_one_provision"):
            assert strategy[figure]["low"] <= strategy[figure]["value"] <= strategy[figure]["high"], figure


def test_profit_against_the_status_quo_is_the_difference_of_the_two(lab):
    written = summary(lab)
    status_quo = written["status_quo"]["expected_profit"]["value"]
    for strategy in written["strategies"]:
        difference = strategy["expected_profit"]["value"] - status_quo
        assert strategy["vs_status_quo"]["expected_profit"]["value"] == pytest.approx(difference, abs=2)


def test_loosening_the_appetite_takes_no_raise_away_and_the_swap_set_is_who_it_adds(lab):
    default, looser = decisions(lab, 1, "default"), decisions(lab, 2, "looser")
    raised_default = set(default.loc[default["action"] == "increase", "account_id"])
    raised_looser = set(looser.loc[looser["action"] == "increase", "account_id"])
    swap = summary(lab)["strategies"][1]["swap"]

    assert raised_default <= raised_looser
    assert swap["raised_by_champion_only"]["accounts"] == 0
    added = raised_looser - raised_default
    assert swap["raised_here_only"]["accounts"] == len(added) > 0
    mean_pd = looser.loc[looser["account_id"].isin(added), "pd"].mean()
    assert swap["raised_here_only"]["mean_pd"] == pytest.approx(mean_pd, abs=1e-6)
    # The lines only the looser strategy raises are riskier than those both raise.
    assert mean_pd > looser.loc[looser["account_id"].isin(raised_default), "pd"].mean()


def test_the_backtest_tells_the_realised_default_rate_by_action_and_raised_lines_went_bad_least(lab, uci):
    outcomes = uci.outcomes.set_index("account_id")["default"]
    for index, strategy in enumerate(summary(lab)["strategies"], start=1):
        decided = decisions(lab, index, strategy["label"])
        went_bad = outcomes.reindex(decided["account_id"]).to_numpy()
        by_action = strategy["backtest"]["by_action"]
        for action in ACTIONS:
            chosen = went_bad[(decided["action"] == action).to_numpy()]
            assert by_action[action]["accounts"] == len(chosen)
            assert by_action[action]["defaults"] == int(chosen.sum())
        assert by_action["increase"]["high"] < by_action["hold"]["low"]
        assert by_action["hold"]["high"] < by_action["freeze"]["low"]
    crossed = summary(lab)["strategies"][1]["backtest"]["by_champion_action"]
    assert sum(cell["accounts"] for cell in crossed.values()) == ACCOUNTS


def test_the_ccf_is_estimated_from_the_slices_defaulters(lab, uci):
    ccf = summary(lab)["ccf"]
    assert ccf["source"] == "estimated"
    assert 30 <= ccf["lines"] <= int(uci.outcomes.set_index("account_id")["default"].sum())
    assert 0 <= ccf["low"] <= ccf["value"] <= ccf["high"] <= 1


def test_a_backtest_without_outcomes_is_refused_and_writes_nothing(lab, tmp_path, uci):
    write_uci_slice(uci, 200, tmp_path / "live", outcomes=False)

    result = run(
        "simulate", "--portfolio", str(tmp_path / "live"), "--model", str(lab / "model"), "--backtest",
        "--out", str(tmp_path / "sim"), cwd=tmp_path,
    )  # fmt: skip

    assert result.returncode == 2
    assert "outcome_missing" in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "sim").exists()


def test_bad_assumptions_and_a_strategy_given_twice_are_refused_by_name(lab, tmp_path):
    (tmp_path / "a.yaml").write_text("apr: 0.2\ncost_of_fund: 0.03\n", encoding="utf-8")
    typo = run(
        "simulate", "--portfolio", str(lab / "portfolio"), "--model", str(lab / "model"),
        "--assumptions", str(tmp_path / "a.yaml"), "--out", str(tmp_path / "sim"), cwd=tmp_path,
    )  # fmt: skip
    twice = run(
        "simulate", "--portfolio", str(lab / "portfolio"), "--model", str(lab / "model"),
        "--strategy", str(lab / "default.yaml"), "--strategy", str(lab / "default.yaml"),
        "--out", str(tmp_path / "sim"), cwd=tmp_path,
    )  # fmt: skip

    assert typo.returncode == 2 and f"{tmp_path / 'a.yaml'}:2: cost_of_fund" in typo.stderr
    assert twice.returncode == 2 and "strategy_repeated" in twice.stderr
    assert not (tmp_path / "sim").exists()
