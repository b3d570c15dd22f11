"""The lab's commands refuse what they cannot use by name, and write nothing."""

from __future__ import annotations

import pandas as pd
from tests.inprocess import run_linewise

from linewise.strategy import default_strategy_text


def test_a_readout_of_a_file_that_is_not_decisions_is_refused_by_its_missing_columns(tmp_path):
    (tmp_path / "s.yaml").write_text(default_strategy_text(), encoding="utf-8")
    pd.DataFrame({"account_id": ["A1"], "arm": ["champion"]}).to_parquet(tmp_path / "d.parquet")

    result = run_linewise(
        "experiment", "readout", "--decisions", "d.parquet", "--portfolio", "nowhere", "--strategy", "s.yaml",
        "--out", "r", cwd=tmp_path,
    )  # fmt: skip

    assert result.returncode == 2
    assert "decision_incomplete" in result.stderr and "as_of" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "r").exists()


def test_a_report_of_a_directory_no_command_wrote_names_the_file_it_looked_for(tmp_path):
    (tmp_path / "sim").mkdir()

    result = run_linewise("report", "--simulation", "sim", "--out", "r/lab.html", cwd=tmp_path)

    assert result.returncode == 2
    assert "file_not_found" in result.stderr and "summary.json" in result.stderr
    assert not (tmp_path / "r").exists()
