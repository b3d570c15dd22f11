"""`linewise experiment ...`: size a champion/challenger test, and read it out.

Parsing and printing only: the statistics are :mod:`linewise.simulate.experiment`'s.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from linewise.cli._common import console, emit, parse_date, user_errors
from linewise.cli._output import check_output_directory
from linewise.errors import InputError

experiment_app = typer.Typer(
    help="Champion/challenger tests: how many accounts, and what they showed.", no_args_is_help=True
)


@experiment_app.command("size")
def size_command(
    baseline: float = typer.Option(..., "--baseline", help="The champion's rate, e.g. 0.02 for 2% 30+ days past due."),
    target: float = typer.Option(..., "--target", help="The rate the test must be able to tell apart, e.g. 0.025."),
    alpha: float = typer.Option(0.05, "--alpha", help="Significance, two-sided."),
    power: float = typer.Option(0.8, "--power", help="The chance of seeing the move when it is there."),
    challenger_share: float = typer.Option(0.5, "--challenger-share", help="The challenger's share of the test."),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
) -> None:
    """The accounts each arm needs to tell BASELINE from TARGET."""
    from linewise.simulate.experiment import Sizing, accounts_needed

    with user_errors():
        sizing = Sizing(baseline, target, alpha, power, challenger_share)
        needed = accounts_needed(sizing)
    payload = {**needed, "baseline": baseline, "target": target, "alpha": alpha, "power": power}
    emit(
        as_json,
        payload,
        lambda: console.print(
            f"{baseline:.2%} -> {target:.2%} at {alpha:g} significance (two-sided) and {power:.0%} power: "
            f"champion {needed['champion']:,}, challenger {needed['challenger']:,} accounts ({needed['total']:,} in all)"
        ),
    )


@experiment_app.command("readout")
def readout_command(
    decisions_file: Path = typer.Option(..., "--decisions", help="The decisions of the test (linewise review --out)."),
    portfolio: Path = typer.Option(..., "--portfolio", help="A portfolio holding a later month end."),
    strategy: Path = typer.Option(..., "--strategy", help="The strategy file that made the decisions (its arms)."),
    at: str | None = typer.Option(None, "--at", help="The later month end read (default: the portfolio's last)."),
    baseline: float | None = typer.Option(None, "--baseline", help="The 30+ rate the test was sized on."),
    target: float | None = typer.Option(None, "--target", help="The 30+ rate it was sized to tell apart."),
    alpha: float = typer.Option(0.05, "--alpha", help="Significance the test was sized at."),
    power: float = typer.Option(0.8, "--power", help="Power the test was sized for."),
    out: Path = typer.Option(..., "--out", help="Directory for readout.json."),
    as_json: bool = typer.Option(False, "--json", help="Print readout.json instead of the tables."),
) -> None:
    """Each arm's later outcomes with intervals, checked for sample ratio mismatch first; a verdict once powered."""
    import pandas as pd

    from linewise.data import read_portfolio
    from linewise.data.files import read_decisions
    from linewise.simulate.experiment import Sizing, readout
    from linewise.strategy import read_strategy_file

    with user_errors():
        check_output_directory(out)
        loaded_strategy = read_strategy_file(strategy)
        decisions = read_decisions(decisions_file)
        refs = sorted(set(decisions["strategy"]))
        if refs != [loaded_strategy.spec.ref]:
            raise InputError.for_field(
                "strategy_mismatch",
                where=str(decisions_file),
                field="strategy",
                rule=f"made by {loaded_strategy.spec.ref} ({strategy})",
                value=refs[:3],
            )
        loaded = read_portfolio(portfolio)
        month = pd.Timestamp(parse_date(at, "--at")) if at else loaded.months[-1]
        decided_on = pd.Timestamp(max(decisions["as_of"]))
        if month not in set(loaded.months) or month <= decided_on:
            raise InputError.for_field(
                "month_not_found",
                where=str(portfolio),
                field="--at",
                rule=f"a month end of the portfolio after the decisions ({decided_on.date()})",
                value=str(month.date()),
            )
        shares = {arm.name: arm.share for arm in loaded_strategy.spec.arms}
        # Each challenger is compared with the champion alone: the test is sized for the
        # smallest challenger beside the champion.
        champion_share, *challenger_shares = shares.values()
        smallest = min(challenger_shares, default=champion_share)
        sizing = (
            None
            if baseline is None or target is None
            else Sizing(baseline, target, alpha, power, challenger_share=smallest / (champion_share + smallest))
        )
        later = loaded.panel.loc[loaded.panel["month"] == month]
        report = {
            "strategy": loaded_strategy.spec.ref,
            "decided": decided_on.date().isoformat(),
            "read_at": month.date().isoformat(),
            **readout(decisions, later, shares, sizing=sizing),
        }
        out.mkdir(parents=True, exist_ok=True)
        (out / "readout.json").write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    emit(as_json, report, lambda: _render(report, out))


def _render(report: dict[str, Any], out: Path) -> None:
    from linewise.simulate.experiment import METRICS

    srm = report["sample_ratio"]
    console.print(
        f"{report['strategy']}: decided {report['decided']}, read at {report['read_at']}; arms "
        + ", ".join(
            f"{name} {count:,} (expected {srm['expected'][name]:,.0f})" for name, count in srm["counts"].items()
        )
        + f"; sample ratio p = {srm['p_value']:.3g}"
    )
    if "arms" in report:
        table = Table(title="Outcomes by arm (95% intervals)")
        table.add_column("")
        for name in report["arms"]:
            table.add_column(name, justify="right")
        for name in report["differences"]:
            table.add_column(f"{name} - {report['champion']}", justify="right")
        for metric, label in METRICS.items():
            cells = [_figure(arm[metric], metric) for arm in report["arms"].values()]
            cells += [_figure(diff[metric], metric, signed=True) for diff in report["differences"].values()]
            table.add_row(label, *cells)
        console.print(table)
    console.print(f"verdict: {report['verdict']}")
    console.print(f"written: {out / 'readout.json'}")


def _figure(figure: dict[str, Any], metric: str, *, signed: bool = False) -> str:
    if figure["value"] is None:
        return "-"
    rate = metric.startswith("dpd")
    sign = "+" if signed else ""
    if rate or metric == "utilisation":
        told = f"{figure['value']:{sign}.2%} ({figure['low']:.2%} to {figure['high']:.2%})"
    else:
        told = f"{figure['value']:{sign},.0f} ({figure['low']:,.0f} to {figure['high']:,.0f})"
    return told + (f" p={figure['p_value']:.3g}" if "p_value" in figure and figure["p_value"] is not None else "")
