"""What the strategy lab's command tests share: a slice of the real portfolio, written out, with a model."""

from __future__ import annotations

from pathlib import Path

from tests.inprocess import run_linewise

from linewise.data import write_portfolio
from linewise.data.portfolio import Portfolio


def write_uci_slice(uci: Portfolio, accounts: int, directory: Path, *, outcomes: bool = True) -> Portfolio:
    """The first ``accounts`` UCI accounts (with their outcomes unless not), written to ``directory``."""
    ids = sorted(uci.customers["account_id"].unique())[:accounts]

    def rows(table):
        return table[table["account_id"].isin(ids)]

    small = Portfolio.from_frames(
        rows(uci.panel),
        rows(uci.customers),
        rows(uci.outcomes) if outcomes else None,
        currency=uci.currency,
        source="uci-slice" if outcomes else "live",
    )
    write_portfolio(small, directory)
    return small


def train_gbm(root: Path, portfolio: str = "portfolio", out: str = "model") -> None:
    """A GBM trained on ``root/portfolio`` into ``root/out`` (two folds: the tests check types, not quality)."""
    trained = run_linewise(
        "model", "train", "--portfolio", portfolio, "--kind", "gbm", "--cv", "2", "--out", out, cwd=root
    )
    assert trained.returncode == 0, trained.stderr
