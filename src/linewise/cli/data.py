"""`linewise data ...`: write portfolios (bundled UCI, synthetic, imported) as Parquet."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import typer
from rich.table import Table

from linewise.cli._common import console, emit, parse_date, user_errors
from linewise.cli._output import check_output_directory, check_output_file
from linewise.data import Portfolio, read_portfolio, write_portfolio
from linewise.data.files import write_table
from linewise.data.importers.bank_statement import read_statements
from linewise.data.importers.tabular import import_tabular
from linewise.data.importers.uci_taiwan import uci_portfolio
from linewise.data.income import derive_income, merge_income
from linewise.data.synthetic import SynthSpec, synthesize
from linewise.money import format_amount

data_app = typer.Typer(
    help="Portfolio data: the bundled UCI set, synthetic and imported portfolios.", no_args_is_help=True
)


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


def _write_and_report(portfolio: Portfolio, out: Path, *, as_json: bool) -> None:
    write_portfolio(portfolio, out)
    payload = _describe(portfolio, out)
    emit(as_json, payload, lambda: _print_summary(payload))


def _print_summary(payload: dict[str, object]) -> None:
    table = Table(show_header=False, title=f"portfolio written to {payload['out']}", title_justify="left")
    for key in ("source", "currency", "accounts", "panel_rows", "first_month", "last_month", "bad_rate"):
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
        check_output_directory(out)
        _write_and_report(uci_portfolio(), out, as_json=as_json)


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


@data_app.command("synth")
def data_synth(
    accounts: int = typer.Option(..., "--accounts", help="Number of credit lines."),
    months: int = typer.Option(..., "--months", help="Month ends of panel per line (at most)."),
    seed: int = typer.Option(..., "--seed", help="Same seed, same portfolio."),
    out: Path = typer.Option(..., "--out", help="Directory for panel, customers and outcomes."),
    last_month: str = typer.Option("2025-12-31", "--last-month", help="The panel's last month end."),
    currency: str = typer.Option("CNY", "--currency"),
    horizon: int = typer.Option(12, "--horizon", help="Months over which the outcome is drawn."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Write a synthetic portfolio drawn from a stated process (see linewise.data.synthetic)."""
    with user_errors():
        check_output_directory(out)
        spec = SynthSpec(
            accounts=accounts,
            months=months,
            seed=seed,
            last_month=parse_date(last_month, "--last-month"),
            currency=currency,
            horizon_months=horizon,
        )
        with console.status(f"drawing {accounts:,} accounts x {months} months", spinner="dots"):
            portfolio = synthesize(spec)
        _write_and_report(portfolio, out, as_json=as_json)


@data_app.command("import")
def data_import(
    mapping: Path = typer.Option(..., "--mapping", help="A TOML file mapping your columns to linewise's."),
    out: Path = typer.Option(..., "--out", help="Directory for the imported portfolio."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Import a lender's own CSV or Parquet files through a column mapping; nothing is written on any problem."""
    with user_errors():
        check_output_directory(out)
        _write_and_report(import_tabular(mapping), out, as_json=as_json)


@data_app.command("income")
def data_income(
    statements: Path = typer.Option(..., "--statements", help="Bank-statement transactions (CSV or Parquet)."),
    as_of: str = typer.Option(..., "--as-of", help="The date the income is verified on (YYYY-MM-DD)."),
    currency: str = typer.Option(..., "--currency", help="The statement's currency, e.g. CNY."),
    out: Path = typer.Option(..., "--out", help="Parquet file for the derived incomes with their evidence."),
    portfolio_dir: Path | None = typer.Option(
        None, "--portfolio", help="Also merge the incomes into this portfolio's customers (consent respected)."
    ),
    lookback: int = typer.Option(6, "--lookback-months"),
    min_months: int = typer.Option(3, "--min-months", help="Months a salary must be seen in."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Derive verified monthly incomes from statement flows (财务流水)."""
    with user_errors():
        check_output_file(out)
        when = parse_date(as_of, "--as-of")
        portfolio = read_portfolio(portfolio_dir) if portfolio_dir is not None else None
        transactions = read_statements(statements, currency=currency)
        incomes = derive_income(
            transactions, as_of=when, currency=currency, lookback_months=lookback, min_months=min_months
        )
        merged, updated = 0, None
        if portfolio is not None:
            customers = merge_income(portfolio.customers, incomes)
            merged = _changed_incomes(portfolio.customers, customers)
            updated = Portfolio.from_frames(
                portfolio.panel,
                customers,
                portfolio.outcomes,
                currency=portfolio.currency,
                source=portfolio.source,
                attribution=portfolio.attribution,
            )
        # Written only once everything above has passed: a problem leaves both untouched.
        write_table(incomes.assign(counterparties=incomes["counterparties"].map("; ".join)), out)
        if updated is not None and portfolio_dir is not None:
            write_portfolio(updated, portfolio_dir)
        found = incomes["income_monthly"].notna()
        payload = {
            "out": str(out),
            "accounts": len(incomes),
            "with_income": int(found.sum()),
            "merged_into_portfolio": merged,
        }
        emit(as_json, payload, lambda: _print_incomes(incomes, currency, payload))


def _changed_incomes(before: pd.DataFrame, after: pd.DataFrame) -> int:
    """How many customers' income the merge replaced."""
    if "income_monthly" not in before.columns:
        return int(after["income_monthly"].notna().sum())
    old = before["income_monthly"].astype("Int64")
    new = after["income_monthly"].astype("Int64")
    return int((new.notna() & (old.isna() | (old != new).fillna(value=True))).sum())


def _print_incomes(incomes: pd.DataFrame, currency: str, payload: dict[str, object]) -> None:
    table = Table(title=f"incomes written to {payload['out']}", title_justify="left")
    for column in ("account", f"monthly income ({currency})", "months", "evidence or reason"):
        table.add_column(column)
    shown = incomes.head(20)
    for account, income, seen, observed, evidence, reason in zip(
        shown["account_id"],
        shown["income_monthly"].astype("object"),
        shown["months_with_income"],
        shown["months_observed"],
        shown["evidence"],
        shown["reason"],
        strict=True,
    ):
        amount = "—" if income is pd.NA else format_amount(int(income), currency)
        table.add_row(
            str(account), amount, f"{seen}/{observed}", str(evidence if isinstance(evidence, str) else reason)
        )
    console.print(table)
    console.print(f"{payload['with_income']} of {payload['accounts']} accounts have a verified income")
    if payload["merged_into_portfolio"]:
        console.print(f"{payload['merged_into_portfolio']} customers' income updated in the portfolio")
