"""`linewise simulate`: what one or more strategies would earn and lose on a portfolio.

Parsing and printing only: deciding is :mod:`linewise.review`'s, pricing
:mod:`linewise.simulate`'s.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from linewise.cli._common import console, emit, parse_date, user_errors
from linewise.cli._output import check_output_directory
from linewise.cli.review import progress_bar
from linewise.errors import InputError
from linewise.money import currency_exponent
from linewise.strategy.evaluate import ACTIONS


def simulate_command(
    portfolio: Path = typer.Option(..., "--portfolio", help="A portfolio directory."),
    model_dir: Path = typer.Option(..., "--model", help="A model directory (linewise model train)."),
    strategies: list[Path] = typer.Option(
        [],
        "--strategy",
        help="A strategy YAML; repeat to compare (the first is the champion; default: the shipped one).",
    ),
    out: Path = typer.Option(..., "--out", help="Directory for summary.json and each strategy's decisions."),
    as_of: str | None = typer.Option(None, "--as-of", help="The month decided (default: the last panel month)."),
    assumptions_file: Path | None = typer.Option(
        None, "--assumptions", help="YAML of economic assumptions (rates, LGD, CCF, balance response)."
    ),
    backtest: bool = typer.Option(
        False, "--backtest", help="Add realised default rates by action from the portfolio's outcomes."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print summary.json instead of the table."),
) -> None:
    """Decide a portfolio under each strategy and price the decisions: loss, revenue, profit, with intervals."""
    from linewise.data import read_portfolio
    from linewise.data.files import write_decisions
    from linewise.review.deciders import load_decider
    from linewise.review.sources import book_of
    from linewise.simulate import read_assumptions_file, simulate, simulation_summary
    from linewise.simulate.report import lab_page

    with user_errors():
        check_output_directory(out)
        when = parse_date(as_of, "--as-of") if as_of else None
        assumptions = read_assumptions_file(assumptions_file)
        files: list[Path | None] = list(strategies) or [None]
        deciders = [(_label(path), load_decider(model_dir, path)) for path in files]
        loaded = read_portfolio(portfolio)
        book = book_of(loaded, when)
        if backtest and not _has_outcomes_at(loaded.outcomes, book.as_of):
            raise InputError.for_field(
                "outcome_missing",
                where=str(portfolio),
                field="outcomes",
                rule=f"outcomes whose window opens at the month simulated ({book.as_of}) for --backtest",
                value="none",
            )
        with progress_bar(as_json) as advance:
            simulation = simulate(book, deciders, assumptions, outcomes=loaded.outcomes, on_progress=advance)
        summary = simulation_summary(simulation, backtest=backtest)
        decided = {run.label: run.decisions for run in simulation.runs}
        page = lab_page({"simulation": summary}, decided)  # made before anything is written
        out.mkdir(parents=True, exist_ok=True)
        for stale in out.glob("decisions-*.parquet"):  # an earlier run's, which the report would read
            stale.unlink()
        for index, run in enumerate(simulation.runs, start=1):
            write_decisions(run.decisions, out / f"decisions-{index}-{_safe(run.label)}.parquet")
        (out / "summary.json").write_text(json.dumps(summary, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        (out / "report.html").write_text(page, encoding="utf-8")
    emit(as_json, summary, lambda: _render(summary, out))


def _label(path: Path | None) -> str:
    return "default" if path is None else path.stem


def _safe(label: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in label)


def _has_outcomes_at(outcomes: Any, as_of: Any) -> bool:
    import pandas as pd

    return outcomes is not None and bool((pd.to_datetime(outcomes["as_of"]) == pd.Timestamp(as_of)).any())


def _render(summary: dict[str, Any], out: Path) -> None:
    exponent = currency_exponent(summary["currency"])

    def money(amount: int) -> str:
        return f"{round(amount / 10**exponent):,}"

    def ranged(figure: dict[str, int]) -> str:
        return f"{money(figure['value'])}\n({money(figure['low'])} to {money(figure['high'])})"

    assumptions, ccf = summary["assumptions"], summary["ccf"]
    console.print(
        f"{summary['accounts']:,} accounts of {summary['source']} as of {summary['as_of']}, over "
        f"{assumptions['horizon_months']} months (the PD covers {assumptions['pd_horizon_months']}); "
        f"CCF {ccf['value']:.2f} ({ccf['source']}"
        + (f" from {ccf['lines']:,} defaulters" if ccf["source"] == "estimated" else "")
        + f"), LGD {assumptions['lgd']:.2f}, APR {assumptions['apr']:.0%} on the "
        f"{summary['revolving_share']['value']:.0%} of balances carried over ({summary['revolving_share']['source']}), "
        f"cost of funds {assumptions['cost_of_funds']:.0%}"
    )
    strategies = summary["strategies"]
    table = Table(
        title=f"Expected over {assumptions['horizon_months']} months, {summary['currency']} "
        f"({assumptions['interval']:.0%} interval)"
    )
    table.add_column("")
    for strategy in strategies:
        table.add_column(f"{strategy['label']}\n{strategy['strategy']}", justify="right")
    rows: list[tuple[str, Callable[[dict[str, Any]], str]]] = [
        ("increase / hold", lambda s: f"{s['actions']['increase']:,} / {s['actions']['hold']:,}"),
        ("decrease / freeze", lambda s: f"{s['actions']['decrease']:,} / {s['actions']['freeze']:,}"),
        ("limit added", lambda s: money(s["limit_added"])),
        ("limit removed", lambda s: money(s["limit_removed"])),
        ("expected loss", lambda s: ranged(s["expected_loss"])),
        ("revenue", lambda s: ranged(s["expected_revenue"])),
        ("cost of funds", lambda s: money(s["cost_of_funds"]["value"])),
        ("profit", lambda s: ranged(s["expected_profit"])),
        ("profit vs status quo", lambda s: ranged(s["vs_status_quo"]["expected_profit"])),
        ("provision on day one", lambda s: money(s["day_one_provision"]["value"])),
    ]
    for name, cell in rows:
        table.add_row(name, *(cell(strategy) for strategy in strategies))
    if any("backtest" in strategy for strategy in strategies):
        for action in ACTIONS:
            table.add_row(
                f"realised bad, {action}", *(_realised(s["backtest"]["by_action"][action]) for s in strategies)
            )
    console.print(table)
    for strategy in strategies:
        if "swap" in strategy:
            here, there = strategy["swap"]["raised_here_only"], strategy["swap"]["raised_by_champion_only"]
            console.print(
                f"swap set, {strategy['label']} against {strategies[0]['label']}: raised here only "
                f"{_swap_side(here)}; raised by {strategies[0]['label']} only {_swap_side(there)}"
            )
    console.print(f"written: {out / 'summary.json'}, {out / 'report.html'} and each strategy's decisions")


def _realised(rate: dict[str, Any]) -> str:
    if not rate["accounts"]:
        return "-"
    return f"{rate['rate']:.1%} of {rate['accounts']:,}\n({rate['low']:.1%} to {rate['high']:.1%})"


def _swap_side(side: dict[str, Any]) -> str:
    if not side["accounts"]:
        return "none"
    realised = side.get("realised")
    told = f", {realised['rate']:.1%} went bad" if realised and realised["accounts"] else ""
    return f"{side['accounts']:,} (mean PD {side['mean_pd']:.3f}{told})"
