"""`linewise demo` (what `make demo` runs) builds a book and summarises it."""

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from linewise.ledger.service import export_panel
from linewise.ledger.store import create_store_engine

# The installed command in a process of its own: seconds each (make test-fast skips it).
pytestmark = pytest.mark.slow


def test_demo_posts_a_book_and_prints_the_portfolio_summary(tmp_path):
    db = tmp_path / "demo.db"
    linewise = str(Path(sys.executable).parent / "linewise")
    args = [linewise, "demo", "--accounts", "40", "--months", "6", "--seed", "3", "--db", str(db)]
    result = subprocess.run(args, capture_output=True, text=True, check=False, env={"COLUMNS": "120", "PATH": ""})
    assert result.returncode == 0, result.stderr
    for label in ("lines", "total limits", "outstanding principal", "bucket current", "bucket 90+", "on-time months"):
        assert label in result.stdout
    assert "│ lines " in result.stdout and " 40 " in result.stdout
    panel = export_panel(create_store_engine(f"sqlite:///{db}"), pd.Timestamp("2025-06-30").date())
    assert panel["account_id"].nunique() == 40
    assert (panel["balance"] >= 0).all()
    assert (panel["balance"] <= panel["credit_limit"]).all()
    # The same seed gives the same book: the demo is reproducible.
    again = subprocess.run(args, capture_output=True, text=True, check=False, env={"COLUMNS": "120", "PATH": ""})
    assert again.stdout.splitlines()[-12:] == result.stdout.splitlines()[-12:]
