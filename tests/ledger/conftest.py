"""Fixtures of the ledger's command tests: the commands run in-process on the test database."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from linewise.cli.main import app

runner = CliRunner()
OPENED = "2026-01-15"


@pytest.fixture
def cli(engine, monkeypatch, tmp_path):
    """``cli(*args)`` runs ``linewise *args`` on the test database, in a scratch directory."""
    # The commands use the fixture's engine (the real database, disposed after the
    # test) rather than one of their own per call, which nothing here would close.
    monkeypatch.setattr("linewise.cli.ledger.engine", lambda check_schema=True: engine)
    monkeypatch.delenv("LINEWISE_PRODUCT_FILE", raising=False)
    monkeypatch.chdir(tmp_path)

    def run(*args: str):
        return runner.invoke(app, list(args), catch_exceptions=False)

    run.engine = engine
    return run


@pytest.fixture
def line(cli):
    """A1 opened on 2026-01-15 with 6,000.00 drawn; B1 opened the same day."""
    for args in (
        ["line", "open", "--account", "A1", "--customer", "C1", "--limit", "20000.00", "--on", OPENED],
        ["draw", "--account", "A1", "--amount", "6000.00", "--term", "6", "--on", OPENED],
        ["line", "open", "--account", "B1", "--customer", "C2", "--limit", "10000.00", "--on", OPENED],
    ):
        assert cli(*args).exit_code == 0
    return cli
