"""`linewise postloan`: the book's delinquency over time, roll and flow rates, vintages, early warnings.

Parsing and printing only: the figures are :mod:`linewise.simulate.postloan`'s.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from linewise.cli._common import console, emit, user_errors
from linewise.cli._output import check_output_directory
from linewise.money import currency_exponent


def postloan_command(
    portfolio: Path = typer.Option(..., "--portfolio", help="A portfolio directory."),
    out: Path = typer.Option(..., "--out", help="Directory for postloan.json."),
    shown: int = typer.Option(10, "--shown", min=0, max=1000, help="Early warnings listed by name."),
    as_json: bool = typer.Option(False, "--json", help="Print postloan.json instead of the tables."),
) -> None:
    """Delinquency buckets by month, roll and flow rates (M0->M1 ...), vintages, early warnings, cuts and after."""
    from linewise.data import read_portfolio
    from linewise.simulate.postloan import post_loan

    with user_errors():
        check_output_directory(out)
        loaded = read_portfolio(portfolio)
        report = {
            "source": loaded.source,
            "currency": loaded.currency,
            **post_loan(loaded.panel, loaded.customers, warnings_shown=shown),
        }
        out.mkdir(parents=True, exist_ok=True)
        (out / "postloan.json").write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    emit(as_json, report, lambda: _render(report, out))


def _render(report: dict[str, Any], out: Path) -> None:
    from linewise.simulate.postloan import BUCKETS, WARNINGS

    buckets = Table(title=f"{report['source']}: lines by delinquency bucket (M1 = 1-30 days past due, ...)")
    buckets.add_column("month")
    for name in BUCKETS:
        buckets.add_column(name, justify="right")
    for month in report["buckets"]:
        buckets.add_row(month["month"], *(f"{month['lines'][name]:,}" for name in BUCKETS))
    console.print(buckets)

    rolls = Table(title="Roll rates, month end to the next (lines; rows sum to 100%)")
    rolls.add_column("from \\ to")
    for name in BUCKETS:
        rolls.add_column(name, justify="right")
    for name, row in report["roll_rates"]["rates"].items():
        rolls.add_row(name, *(f"{row[to]:.1%}" if row[to] else "-" for to in BUCKETS))
    console.print(rolls)

    flows = Table(title="Flow rates by balance (迁徙率)")
    names = [f"{BUCKETS[k]}->{BUCKETS[k + 1]}" for k in range(len(BUCKETS) - 1)]
    flows.add_column("from month")
    for name in names:
        flows.add_column(name, justify="right")
    for month in report["flow_rates"]:
        flows.add_row(month["from"], *("-" if month[name] is None else f"{month[name]:.1%}" for name in names))
    console.print(flows)

    _render_vintages(report["vintages"])
    _render_warnings(report["early_warnings"], WARNINGS)
    _render_cuts(report["cuts"], report["currency"])
    console.print(f"written: {out / 'postloan.json'}")


def _render_vintages(vintages: dict[str, Any]) -> None:
    if vintages["cohorts"]:
        table = Table(title="Vintages: share ever 30+ days past due by months on book")
        ages = sorted({int(age) for cohort in vintages["cohorts"].values() for age in cohort["ever_30_plus"]})
        shown_ages = [age for age in ages if age % 3 == 0 and age > 0] or ages
        table.add_column("opened")
        table.add_column("lines", justify="right")
        for age in shown_ages:
            table.add_column(f"MOB {age}", justify="right")
        for cohort, row in vintages["cohorts"].items():
            curve = row["ever_30_plus"]
            table.add_row(
                cohort,
                f"{row['lines']:,}",
                *(f"{curve[str(age)]:.1%}" if str(age) in curve else "" for age in shown_ages),
            )
        console.print(table)
    else:
        console.print(f"vintages: none ({vintages['left_out']})")


def _render_warnings(warnings: dict[str, Any], texts: dict[str, str]) -> None:
    console.print(f"early warnings at {warnings['as_of']}: {warnings['lines']:,} current lines worsening")
    for code, count in warnings["by_reason"].items():
        console.print(f"  {count:>7,}  {texts[code]} ({code})")
    for line in warnings["worst"]:
        console.print(f"  {line['account_id']}: {', '.join(line['reasons'])} (utilisation {line['utilisation']:.0%})")


def _render_cuts(cuts: dict[str, Any], currency: str) -> None:
    scale = 10 ** currency_exponent(currency)
    if cuts["lines"]:
        console.print(f"limit cuts: {cuts['lines']:,} lines, {cuts['late_when_cut']:.0%} late when cut")
        for after, row in cuts["after"].items():
            console.print(
                f"  {after} later: {row['late']:.0%} late, {row['cured']:.0%} of the late cured, "
                f"balance {row['balance_change'] / scale:+,.0f} {currency} on average ({row['lines']:,} lines seen)"
            )
    else:
        console.print("limit cuts: none in the panel")
