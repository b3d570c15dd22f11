"""A drawdown previewed before it is taken: the ledger's own figures, the next review told, nothing written."""

from __future__ import annotations

import json
import shutil
import sqlite3
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select
from tests.inprocess import run_linewise

from linewise.errors import LedgerRejected
from linewise.explain.preview import action_rank
from linewise.ledger.product import Product
from linewise.ledger.service import read_state
from linewise.ledger.store.engine import create_store_engine
from linewise.ledger.store.tables import decision_runs, events
from linewise.review.deciders import load_decider
from linewise.review.preview import preview_drawdown

# A model is trained (a few seconds) for the module.
pytestmark = pytest.mark.slow

ON = date(2025, 12, 31)


def ok(*args: str, cwd: Path) -> str:
    result = run_linewise(*args, cwd=cwd)
    assert result.returncode == 0, (args, result.stderr)
    return result.stdout


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    """B8 repaid on time on a 20,000 CNY line with about 4,200 drawn; a GBM and a CNY strategy."""
    root = tmp_path_factory.mktemp("preview")
    ok("db", "upgrade", cwd=root)
    ok("data", "synth", "--accounts", "600", "--months", "12", "--seed", "5", "--currency", "CNY", "--horizon", "1",
       "--out", "book", cwd=root)  # fmt: skip
    ok("model", "train", "--portfolio", "book", "--kind", "gbm", "--out", "model", cwd=root)
    ok("strategy", "init", "--currency", "CNY", "--id", "preview_test", "--out", "strategy.yaml", cwd=root)
    ok("line", "open", "--account", "B8", "--customer", "C8", "--limit", "20000.00", "--on", "2025-06-10", cwd=root)
    ok("draw", "--account", "B8", "--amount", "8000.00", "--term", "12", "--on", "2025-06-10", cwd=root)
    for month in range(7, 13):
        ok("repay", "--account", "B8", "--amount", "740.00", "--on", f"2025-{month:02d}-10", cwd=root)
    return root


@pytest.fixture
def ledger(built, tmp_path) -> Path:
    """A copy of the built ledger, so that a test may draw for real."""
    # SQLite's backup, not a file copy: the latest postings may still be in the write-ahead log.
    with sqlite3.connect(built / "linewise.db") as source, sqlite3.connect(tmp_path / "linewise.db") as copy:
        source.backup(copy)
    for name in ("model", "strategy.yaml"):
        source = built / name
        (shutil.copytree if source.is_dir() else shutil.copy)(source, tmp_path / name)
    return tmp_path


@pytest.fixture
def store(ledger):
    engine = create_store_engine(f"sqlite:///{ledger / 'linewise.db'}")
    yield engine
    engine.dispose()


@pytest.fixture(scope="module")
def decider(built):
    return load_decider(built / "model", built / "strategy.yaml")


def preview(store, decider, amount: int, term: int = 12):
    return preview_drawdown(store, "B8", decider, Product(), amount=amount, term_months=term, as_of=ON)


def test_a_drawdown_that_fills_the_line_is_told_it_would_stop_the_next_raise(store, decider):
    small = preview(store, decider, 100_000)
    assert small.now["action"] == small.after["action"] == "increase"
    assert "still be raised" in small.texts["en"]
    full = preview(store, decider, 1_500_000)
    assert full.now["action"] == "increase" and full.after["action"] == "hold"
    assert full.figures.utilisation_after > 0.95
    assert "would not be raised at the next review, because" in full.texts["en"]
    assert "96%" in full.texts["en"] and "96%" in full.texts["zh"]
    assert "下次评估时您的额度不会提高" in full.texts["zh"]


def test_borrowing_less_is_never_judged_worse_than_borrowing_more(store, decider):
    ranks = [action_rank(preview(store, decider, minor).after) for minor in (50_000, 400_000, 900_000, 1_500_000)]
    assert ranks == sorted(ranks, reverse=True)
    assert ranks[0] > ranks[-1]


def test_a_preview_writes_nothing(store, decider):
    def stored() -> tuple[int, int]:
        with store.connect() as conn:
            return (
                conn.execute(select(func.count()).select_from(events)).scalar_one(),
                conn.execute(select(func.count()).select_from(decision_runs)).scalar_one(),
            )

    before, state = stored(), read_state(store, "B8")
    preview(store, decider, 1_500_000)
    assert stored() == before
    assert read_state(store, "B8") == state


def test_the_preview_is_what_the_drawdown_then_is(ledger, store, decider):
    shown = preview(store, decider, 600_000, term=6)
    figures = shown.figures
    assert sum(i.principal_due for i in shown.schedule) == 600_000
    assert figures.total_interest == sum(i.interest_due for i in shown.schedule) > 0
    assert figures.available_after == read_state(store, "B8").available_credit - 600_000
    assert 0.17 < float(figures.annualised_cost) < 0.19  # the product's 18% a year, on its own schedule
    record = shown.bureau_record
    assert (record.record_type, record.original_amount, record.term_months) == ("loan", 600_000, 6)
    drawn = json.loads(ok("draw", "--account", "B8", "--amount", "6000.00", "--term", "6", "--on", "2025-12-31",
                          "--json", cwd=ledger))  # fmt: skip
    assert drawn["first_instalment"] == figures.first_instalment
    assert drawn["available_credit"] == figures.available_after


def test_more_than_the_available_credit_is_refused_as_the_ledger_refuses_it(ledger, store, decider):
    with pytest.raises(LedgerRejected) as refused:
        preview(store, decider, 1_700_000)
    assert refused.value.code == "exceeds_available_limit"
    result = run_linewise(
        "preview", "--account", "B8", "--amount", "17000.00", "--term", "12", "--model", "model", "--strategy",
        "strategy.yaml", "--on", "2025-12-31", cwd=ledger,
    )  # fmt: skip
    assert result.returncode == 2 and "[exceeds_available_limit]" in result.stderr
    unknown = run_linewise(
        "preview", "--account", "NOPE", "--amount", "10.00", "--term", "12", "--model", "model", cwd=ledger
    )
    assert unknown.returncode == 2 and "NOPE" in unknown.stderr


def test_the_command_prints_the_preview_and_its_json_carries_the_figures(ledger):
    args = ("preview", "--account", "B8", "--amount", "15000.00", "--term", "12", "--model", "model", "--strategy",
            "strategy.yaml", "--on", "2025-12-31")  # fmt: skip
    assert "不会提高" in ok(*args, cwd=ledger)
    shown = json.loads(ok(*args, "--lang", "en", "--json", cwd=ledger))
    assert shown["next_review_now"]["action"] == "increase" and shown["next_review_after"]["action"] == "hold"
    assert shown["amount_minor"] == 1_500_000 and len(shown["schedule"]) == 12
    assert shown["bureau_record"]["original_amount"] == 1_500_000
    assert "would not be raised" in shown["text"]
