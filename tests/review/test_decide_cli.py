"""`linewise decide` and `linewise review --ledger --apply`, in-process, on a small SQLite ledger."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tests.inprocess import run_linewise

# A model is trained (a few seconds) for the module.
pytestmark = pytest.mark.slow

DECISION_FIELDS = {
    "account_id",
    "as_of",
    "trigger",
    "action",
    "current_limit",
    "new_limit",
    "pd",
    "score",
    "risk_grade",
    "segment",
    "reasons",
    "recourse",
    "recourse_limit",
    "recourse_on",
    "strategy",
    "model",
    "arm",
}


def ok(*args: str, cwd: Path) -> str:
    result = run_linewise(*args, cwd=cwd)
    assert result.returncode == 0, (args, result.stderr)
    return result.stdout


@pytest.fixture(scope="module")
def ledger(tmp_path_factory) -> Path:
    """Two lines: B7 in arrears at the end of 2025, B8 repaid on time; a model and a CNY strategy."""
    root = tmp_path_factory.mktemp("decide")
    ok("db", "upgrade", cwd=root)
    ok(
        "data",
        "synth",
        "--accounts",
        "600",
        "--months",
        "12",
        "--seed",
        "5",
        "--currency",
        "CNY",
        "--horizon",
        "1",
        "--out",
        "book",
        cwd=root,
    )
    ok("model", "train", "--portfolio", "book", "--kind", "gbm", "--out", "model", cwd=root)
    ok("strategy", "init", "--currency", "CNY", "--id", "cli_test", "--out", "strategy.yaml", cwd=root)
    for account in ("B7", "B8"):
        ok(
            "line",
            "open",
            "--account",
            account,
            "--customer",
            f"C{account}",
            "--limit",
            "20000.00",
            "--on",
            "2025-06-10",
            cwd=root,
        )
        ok("draw", "--account", account, "--amount", "8000.00", "--term", "12", "--on", "2025-06-10", cwd=root)
    for month in range(7, 13):
        ok("repay", "--account", "B8", "--amount", "740.00", "--on", f"2025-{month:02d}-10", cwd=root)
        if month <= 10:
            ok("repay", "--account", "B7", "--amount", "740.00", "--on", f"2025-{month:02d}-10", cwd=root)
    return root


def test_decide_json_carries_the_decision_contract_the_notice_and_what_was_applied(ledger):
    args = (
        "decide",
        "--account",
        "B7",
        "--model",
        "model",
        "--strategy",
        "strategy.yaml",
        "--as-of",
        "2025-12-31",
        "--apply",
        "--json",
    )
    first = json.loads(ok(*args, cwd=ledger))
    assert set(first) >= DECISION_FIELDS
    assert first["action"] == "freeze" and first["applied"] is True
    assert first["outcome"]["status_after"] == "frozen" and first["notice"]
    shown = json.loads(ok("line", "show", "--account", "B7", "--json", cwd=ledger))
    assert shown["status"] == "frozen"


def test_review_ledger_apply_reports_the_limits_before_and_after_and_refuses_a_portfolio_apply(ledger):
    summary = json.loads(
        ok(
            "review",
            "--ledger",
            "--as-of",
            "2025-12-31",
            "--model",
            "model",
            "--strategy",
            "strategy.yaml",
            "--apply",
            "--out",
            "d.parquet",
            "--json",
            cwd=ledger,
        )
    )
    applied = summary["applied"]
    assert applied["lines"] == 2 and summary["accounts"] == 2
    assert applied["cut"] == 0  # B7 is frozen, not cut: what the lines gained is the limit the review added
    assert applied["limits_after_minor"] - applied["limits_before_minor"] == summary["limit_added_minor"]
    refused = run_linewise(
        "review", "--portfolio", "book", "--model", "model", "--apply", "--out", "x.parquet", cwd=ledger
    )
    assert refused.returncode == 2 and "[apply_needs_ledger]" in refused.stderr
    both = run_linewise(
        "review", "--portfolio", "book", "--ledger", "--model", "model", "--out", "x.parquet", cwd=ledger
    )
    assert both.returncode == 2 and "[source_required]" in both.stderr
    assert not (ledger / "x.parquet").exists()


def test_decide_by_a_trigger_that_does_not_call_for_the_line_decides_nothing_and_logs_nothing(ledger):
    before = json.loads(ok("decisions", "list", "--json", cwd=ledger))["runs"]
    printed = ok(
        "decide", "--account", "B8", "--model", "model", "--strategy", "strategy.yaml", "--trigger", "repayment",
        "--as-of", "2025-12-31", "--apply", cwd=ledger,
    )  # fmt: skip
    assert "no account is due for a decision by repayment" in printed
    assert json.loads(ok("decisions", "list", "--json", cwd=ledger))["runs"] == before
