"""Champion/challenger: sizing that delivers its power, a mismatch that withholds results, a read-out on UCI."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.stats import norm
from tests.inprocess import run_linewise
from tests.simulate.common import train_gbm, write_uci_slice
from tests.strategy.texts import edit

from linewise.errors import InputError
from linewise.simulate.experiment import Sizing, accounts_needed, readout, sample_ratio_mismatch
from linewise.strategy import default_strategy_text


def _rejections(p1: float, p2: float, n1: int, n2: int, alpha: float, trials: int = 4000) -> float:
    """The share of simulated tests of two proportions (pooled z-test) that reject at ``alpha``."""
    rng = np.random.default_rng(5)
    x1, x2 = rng.binomial(n1, p1, trials), rng.binomial(n2, p2, trials)
    pooled = (x1 + x2) / (n1 + n2)
    z = (x2 / n2 - x1 / n1) / np.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    return float((np.abs(z) > norm.ppf(1 - alpha / 2)).mean())


@pytest.mark.parametrize("share", [0.5, 0.2])
def test_a_test_of_the_size_asked_for_has_the_power_it_was_sized_for(share):
    sizing = Sizing(0.02, 0.025, challenger_share=share)
    needed = accounts_needed(sizing)

    assert _rejections(0.02, 0.025, needed["champion"], needed["challenger"], 0.05) == pytest.approx(0.8, abs=0.025)
    assert _rejections(0.02, 0.02, needed["champion"], needed["challenger"], 0.05) == pytest.approx(0.05, abs=0.015)
    assert needed["challenger"] / needed["total"] == pytest.approx(share, abs=0.001)


def test_the_sizing_the_issue_quotes():
    # 30+ DPD from 2.0% to 2.5% at 5% significance and 80% power: about 13,800 accounts an arm.
    assert accounts_needed(Sizing(0.02, 0.025))["champion"] == pytest.approx(13_800, abs=50)


def test_a_sizing_out_of_range_is_refused_by_name():
    with pytest.raises(InputError) as caught:
        Sizing(0.02, 1.5)
    assert caught.value.code == "target_out_of_range"


def test_arms_of_the_sizes_chance_gives_pass_and_a_lost_slice_of_one_arm_does_not():
    assert not sample_ratio_mismatch({"champion": 15_077, "challenger": 14_923}, {"champion": 0.5, "challenger": 0.5})[
        "mismatch"
    ]
    assert sample_ratio_mismatch({"champion": 15_000, "challenger": 14_250}, {"champion": 0.5, "challenger": 0.5})[
        "mismatch"
    ]


def _panel_rows(n: int, late_share: float, seed: int, prefix: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    ids = [f"{prefix}{i}" for i in range(n)]
    late = rng.random(n) < late_share
    later = pd.DataFrame({"account_id": ids, "credit_limit": 10_000, "balance": 5_000, "dpd": np.where(late, 35, 0)})
    decisions = pd.DataFrame({"account_id": ids, "arm": "challenger" if prefix == "b" else "champion"})
    return decisions, later


def test_a_mismatch_withholds_every_result():
    champion, later_a = _panel_rows(5000, 0.02, 1, "a")
    challenger, later_b = _panel_rows(4500, 0.04, 2, "b")
    shares = {"champion": 0.5, "challenger": 0.5}

    told = readout(pd.concat([champion, challenger]), pd.concat([later_a, later_b]), shares)

    assert told["sample_ratio"]["mismatch"]
    assert "arms" not in told and "differences" not in told
    assert told["verdict"].startswith("withheld")


def test_a_verdict_waits_for_the_power_and_then_names_the_worse_arm():
    champion, later_a = _panel_rows(20_000, 0.02, 3, "a")
    challenger, later_b = _panel_rows(20_000, 0.03, 4, "b")
    decisions, later = pd.concat([champion, challenger]), pd.concat([later_a, later_b])
    shares = {"champion": 0.5, "challenger": 0.5}

    powered = readout(decisions, later, shares, sizing=Sizing(0.02, 0.03))
    underpowered = readout(decisions, later, shares, sizing=Sizing(0.02, 0.021))
    unsized = readout(decisions, later, shares)

    assert powered["verdict"].startswith("challenger: more lines 30+ days past due")
    difference = powered["differences"]["challenger"]["dpd_30_plus"]
    assert difference["low"] <= 0.01 <= difference["high"]
    assert powered["arms"]["champion"]["dpd_30_plus"]["value"] == pytest.approx((later_a["dpd"] >= 30).mean(), abs=1e-6)
    assert underpowered["verdict"].startswith("none yet: underpowered")
    assert unsized["verdict"].startswith("none:") and "arms" in unsized


@pytest.mark.slow  # trains a model on a slice of UCI and reviews it
def test_a_two_arm_strategy_reviewed_in_august_is_read_out_in_september(uci, tmp_path):
    small = write_uci_slice(uci, 6000, tmp_path / "portfolio")
    arms = edit(
        edit(default_strategy_text(), "strategy: default", "strategy: looser_test"),
        "arms:\n  - {name: champion, share: 1.0}",
        "arms:\n  - {name: champion, share: 0.5}\n  - {name: looser, share: 0.5, overrides: {risk_appetite: 1.2}}",
    )
    (tmp_path / "arms.yaml").write_text(arms, encoding="utf-8")

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return run_linewise(*args, cwd=tmp_path)

    train_gbm(tmp_path)
    reviewed = run(
        "review", "--portfolio", "portfolio", "--model", "model", "--strategy", "arms.yaml", "--as-of", "2005-08-31",
        "--no-recourse", "--no-log", "--out", "august.parquet",
    )  # fmt: skip
    assert reviewed.returncode == 0, reviewed.stderr
    result = run(
        "experiment", "readout", "--decisions", "august.parquet", "--portfolio", "portfolio", "--strategy", "arms.yaml",
        "--baseline", "0.2", "--target", "0.25", "--out", "readout",
    )  # fmt: skip
    too_early = run(
        "experiment", "readout", "--decisions", "august.parquet", "--portfolio", "portfolio", "--strategy", "arms.yaml",
        "--at", "2005-08-31", "--out", "early",
    )  # fmt: skip
    other = run(
        "experiment", "readout", "--decisions", "august.parquet", "--portfolio", "portfolio",
        "--strategy", str(Path(__file__).resolve().parents[2] / "src/linewise/strategy/default.yaml"), "--out", "other",
    )  # fmt: skip

    assert result.returncode == 0, result.stderr
    told = json.loads((tmp_path / "readout" / "readout.json").read_text(encoding="utf-8"))
    decisions = pd.read_parquet(tmp_path / "august.parquet")
    assert told["sample_ratio"]["counts"] == decisions["arm"].value_counts().to_dict()
    assert not told["sample_ratio"]["mismatch"]
    september = small.panel.loc[small.panel["month"] == pd.Timestamp("2005-09-30")].set_index("account_id")["dpd"]
    for arm, figures in told["arms"].items():
        chosen = decisions.loc[decisions["arm"] == arm, "account_id"]
        assert figures["dpd_30_plus"]["value"] == pytest.approx((september.reindex(chosen) >= 30).mean(), abs=1e-6)
    assert "verdict:" in result.stdout
    assert too_early.returncode == 2 and "month_not_found" in too_early.stderr
    assert other.returncode == 2 and "strategy_mismatch" in other.stderr
    assert not (tmp_path / "early").exists() and not (tmp_path / "other").exists()
