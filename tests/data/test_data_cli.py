"""`linewise data ...`: the portfolio a command writes is the one a user can read back."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pandas as pd
import pytest
from tests.inprocess import run_linewise

from linewise.data import read_portfolio

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "import"


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return run_linewise(*args, cwd=cwd)


def test_synth_writes_the_same_portfolio_for_the_same_seed(tmp_path):
    for name in ("a", "b"):
        result = run(
            "data", "synth", "--accounts", "300", "--months", "6", "--seed", "11", "--out", name, "--json", cwd=tmp_path
        )
        assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["accounts"] == 300 and summary["last_month"] == "2025-12-31"
    for table in ("panel", "customers", "outcomes"):
        a = pd.read_parquet(tmp_path / "a" / f"{table}.parquet")
        b = pd.read_parquet(tmp_path / "b" / f"{table}.parquet")
        pd.testing.assert_frame_equal(a, b)
    other = run("data", "synth", "--accounts", "300", "--months", "6", "--seed", "12", "--out", "c", cwd=tmp_path)
    assert other.returncode == 0
    assert not pd.read_parquet(tmp_path / "c" / "panel.parquet").equals(
        pd.read_parquet(tmp_path / "a" / "panel.parquet")
    )
    assert read_portfolio(tmp_path / "a").n_accounts == 300


def test_synth_refuses_a_nonsense_size_and_writes_nothing(tmp_path):
    result = run("data", "synth", "--accounts", "0", "--months", "6", "--seed", "1", "--out", "x", cwd=tmp_path)
    assert result.returncode == 2
    assert "accounts" in result.stderr and "accounts_out_of_range" in result.stderr
    assert not (tmp_path / "x").exists()


def test_import_maps_a_lenders_columns_and_check_reads_it_back(tmp_path):
    result = run("data", "import", "--mapping", str(EXAMPLES / "mapping.toml"), "--out", "imp", "--json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["source"] == "example_lender"
    source = pd.read_csv(EXAMPLES / "loans_monthly.csv", dtype=str)
    panel = read_portfolio(tmp_path / "imp").panel
    assert len(panel) == len(source)
    checked = run("data", "check", "imp", "--json", cwd=tmp_path)
    assert checked.returncode == 0
    assert json.loads(checked.stdout)["panel_rows"] == len(source)


def test_import_with_a_broken_file_lists_the_problem_and_writes_nothing(tmp_path):
    for path in EXAMPLES.iterdir():
        shutil.copy(path, tmp_path / path.name)
    loans = (tmp_path / "loans_monthly.csv").read_text(encoding="utf-8").splitlines()
    header = loans[0].split(",")
    row = loans[1].split(",")
    row[header.index("days_late")] = "-3"
    loans[1] = ",".join(row)
    (tmp_path / "loans_monthly.csv").write_text("\n".join(loans) + "\n", encoding="utf-8")
    result = run("data", "import", "--mapping", "mapping.toml", "--out", "imp", cwd=tmp_path)
    assert result.returncode == 2
    assert "loans_monthly.csv" in result.stderr and "days_late" in result.stderr
    assert "-3" in result.stderr
    assert not (tmp_path / "imp").exists()


def test_income_from_statements_is_merged_only_with_consent(tmp_path):
    assert (
        run("data", "import", "--mapping", str(EXAMPLES / "mapping.toml"), "--out", "imp", cwd=tmp_path).returncode == 0
    )
    before = read_portfolio(tmp_path / "imp").customers.set_index("account_id")
    result = run(
        "data",
        "income",
        "--statements",
        str(EXAMPLES / "statement.csv"),
        "--as-of",
        "2025-06-30",
        "--currency",
        "CNY",
        "--out",
        "incomes.parquet",
        "--portfolio",
        "imp",
        "--json",
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    incomes = pd.read_parquet(tmp_path / "incomes.parquet").set_index("account_id")
    after = read_portfolio(tmp_path / "imp").customers.set_index("account_id")
    found = incomes.index[incomes["income_monthly"].notna()]
    assert len(found) >= 1
    assert json.loads(result.stdout)["with_income"] == len(found)
    for account in found:
        if bool(before.loc[account, "consent_income"]):
            assert after.loc[account, "income_monthly"] == incomes.loc[account, "income_monthly"]
            assert after.loc[account, "income_source"] == "bank_statement"
    refused = before.index[~before["consent_income"].astype(bool)]
    pd.testing.assert_frame_equal(
        after.loc[refused, ["income_monthly", "income_source"]],
        before.loc[refused, ["income_monthly", "income_source"]],
    )


@pytest.mark.parametrize("as_of", ["2025-02-30", "yesterday"])
def test_income_with_a_malformed_date_is_refused(tmp_path, as_of):
    result = run(
        "data",
        "income",
        "--statements",
        str(EXAMPLES / "statement.csv"),
        "--as-of",
        as_of,
        "--currency",
        "CNY",
        "--out",
        "incomes.parquet",
        cwd=tmp_path,
    )
    assert result.returncode == 2
    assert "--as-of" in result.stderr and "date_malformed" in result.stderr
    assert not (tmp_path / "incomes.parquet").exists()


def test_income_from_a_broken_statement_writes_nothing_and_leaves_the_portfolio(tmp_path):
    assert (
        run("data", "import", "--mapping", str(EXAMPLES / "mapping.toml"), "--out", "imp", cwd=tmp_path).returncode == 0
    )
    before = {p.name: p.read_bytes() for p in (tmp_path / "imp").iterdir()}
    lines = (EXAMPLES / "statement.csv").read_text(encoding="utf-8").splitlines()
    lines[2] = lines[2].replace("-3200.00", "-32OO.00")
    (tmp_path / "statement.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = run(
        "data",
        "income",
        "--statements",
        "statement.csv",
        "--as-of",
        "2025-06-30",
        "--currency",
        "CNY",
        "--out",
        "incomes.parquet",
        "--portfolio",
        "imp",
        cwd=tmp_path,
    )
    assert result.returncode == 2
    assert "statement.csv:2" in result.stderr and "amount" in result.stderr
    assert not (tmp_path / "incomes.parquet").exists()
    assert {p.name: p.read_bytes() for p in (tmp_path / "imp").iterdir()} == before
