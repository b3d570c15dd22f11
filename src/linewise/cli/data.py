"""`linewise data ...`: write portfolios (bundled UCI, synthetic, imported) as Parquet."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from linewise.cli._common import console, emit, user_errors
from linewise.data import Portfolio, read_portfolio, write_portfolio
from linewise.data.importers.uci_taiwan import uci_portfolio

data_app = typer.Typer(help="Portfolio data: the bundled UCI set, synthetic and imported portfolios.",
                       no_args_is_help=True)


def _describe(portfolio: Portfolio, out: Path) -> dict[str, object]:
    months = portfolio.months
    payload: dict[str, object] = {
        "out": str(out),
        "source": portfolio.source,
        "currency": portfolio.currency,
        "accounts": portfolio.n_accounts,
        "panel_rows": len(portfolio.panel),
        "first_month": months[0].date().isoformat() if months else None,
        "last_month": months[-1].date().isoformat() if months else None,
    }
    if portfolio.outcomes is not None:
        payload["bad_rate"] = round(float(portfolio.outcomes["default"].mean()), 4)
    return payload


def _print_summary(payload: dict[str, object]) -> None:
    table = Table(show_header=False, title=f"portfolio written to {payload['out']}",
                  title_justify="left")
    for key in ("source", "currency", "accounts", "panel_rows", "first_month", "last_month",
                "bad_rate"):
        if key in payload:
            value = payload[key]
            table.add_row(key.replace("_", " "), f"{value:,}" if isinstance(value, int) else str(value))
    console.print(table)


@data_app.command("uci")
def data_uci(
    out: Path = typer.Option(..., "--out", help="Directory for panel, customers and outcomes."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Write the bundled UCI Taiwan portfolio (30,000 real accounts, 6 months)."""
    with user_errors():
        portfolio = uci_portfolio()
        write_portfolio(portfolio, out)
        payload = _describe(portfolio, out)
        emit(as_json, payload, lambda: _print_summary(payload))


@data_app.command("check")
def data_check(
    portfolio_dir: Path = typer.Argument(..., help="A portfolio directory."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Validate a portfolio directory; every problem is listed."""
    with user_errors():
        portfolio = read_portfolio(portfolio_dir)
        payload = _describe(portfolio, portfolio_dir)
        emit(as_json, payload, lambda: _print_summary(payload))
