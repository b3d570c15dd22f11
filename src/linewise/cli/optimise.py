"""`linewise optimise`: the best a book could do under its budgets, and the best strategy file found.

Parsing and printing only: the search is :mod:`linewise.simulate.optimise`'s.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from linewise.cli._common import console, emit, parse_date, user_errors
from linewise.cli._output import check_output_directory
from linewise.cli.review import progress_bar
from linewise.money import currency_exponent, parse_amount


def optimise_command(
    portfolio: Path = typer.Option(..., "--portfolio", help="A portfolio directory."),
    model_dir: Path = typer.Option(..., "--model", help="A model directory (linewise model train)."),
    strategy: Path | None = typer.Option(
        None, "--strategy", help="The strategy to start from (default: the shipped one)."
    ),
    loss_rate_max: float | None = typer.Option(
        None, "--loss-rate-max", min=0.0, max=1.0, help="Expected loss over the expected balance, at most."
    ),
    limit_added_max: str | None = typer.Option(
        None, "--limit-added-max", help="Limit the book may add, at most, in major units (e.g. 5000000)."
    ),
    candidates: int = typer.Option(60, "--candidates", min=0, max=2000, help="Variations of the strategy tried."),
    assumptions_file: Path | None = typer.Option(None, "--assumptions", help="YAML of economic assumptions."),
    as_of: str | None = typer.Option(None, "--as-of", help="The month decided (default: the last panel month)."),
    seed: int = typer.Option(0, "--seed", min=0, help="Seed of the search."),
    out: Path = typer.Option(..., "--out", help="Directory for optimise.json and the best strategy.yaml."),
    as_json: bool = typer.Option(False, "--json", help="Print optimise.json instead of the tables."),
) -> None:
    """Bound the profit any per-account choice makes within the budgets, and search strategy files towards it."""
    from linewise.data import read_portfolio
    from linewise.review.deciders import load_decider
    from linewise.review.sources import book_of
    from linewise.simulate import read_assumptions_file
    from linewise.simulate.optimise import Budgets, optimise

    with user_errors():
        check_output_directory(out)
        when = parse_date(as_of, "--as-of") if as_of else None
        assumptions = read_assumptions_file(assumptions_file)
        decider = load_decider(model_dir, strategy)
        loaded = read_portfolio(portfolio)
        added = (
            None
            if limit_added_max is None
            else parse_amount(limit_added_max, loaded.currency, field="--limit-added-max")
        )
        budgets = Budgets(loss_rate_max=loss_rate_max, limit_added_max=added)
        with progress_bar(as_json) as advance:
            report, best_text = optimise(
                book_of(loaded, when), decider, assumptions, budgets,
                candidates=candidates, outcomes=loaded.outcomes, seed=seed, on_candidate=advance,
            )  # fmt: skip
        report["currency"] = loaded.currency
        out.mkdir(parents=True, exist_ok=True)
        (out / "optimise.json").write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        if best_text is not None:
            (out / "strategy.yaml").write_text(best_text, encoding="utf-8")
        else:
            (out / "strategy.yaml").unlink(missing_ok=True)  # an earlier run's best is not this one's
    emit(as_json, report, lambda: _render(report, out))


def _render(report: dict[str, Any], out: Path) -> None:
    scale = 10 ** currency_exponent(report["currency"])

    def money(amount: float | None) -> str:
        return "-" if amount is None else f"{amount / scale:,.0f}"

    bound, best, base = report["upper_bound"], report["best"], report["base"]
    console.print(
        f"{report['accounts']:,} accounts; budgets: loss rate at most {report['budgets']['loss_rate_max']}, "
        f"limit added at most {money(report['budgets']['limit_added_max'])} {report['currency']}; "
        f"{report['candidates_tried']} strategies tried"
    )
    table = Table(title=f"Expected over the horizon, {report['currency']}")
    for name in ("", "profit", "loss rate", "limit added", "share of the bound"):
        table.add_column(name, justify="left" if not name else "right")
    table.add_row("upper bound (any choice per account)", money(bound["upper_bound"]), "", "", "100%")
    table.add_row(
        "  a book that reaches it", money(bound["profit"]), f"{bound['loss_rate']:.2%}", money(bound["limit_added"]), ""
    )
    for label, row in (("base strategy", base), ("best strategy found", best)):
        if row is None:
            table.add_row(label, "none within the budgets", "", "", "")
            continue
        table.add_row(
            label,
            money(row["profit"]),
            f"{row['loss_rate']:.2%}",
            money(row["limit_added"]),
            "-" if row["share_of_bound"] is None else f"{row['share_of_bound']:.0%}",
        )
    console.print(table)
    frontier = Table(title="Efficient frontier: profit at each loss budget")
    for name in ("loss rate at most", "upper bound", "best strategy found"):
        frontier.add_column(name, justify="right")
    for point in report["frontier"]:
        frontier.add_row(f"{point['loss_rate_max']:.2%}", money(point["upper_bound"]), money(point["best_strategy"]))
    console.print(frontier)
    if best is not None:
        console.print(f"best strategy's settings: {best['settings']}")
        console.print(f"written: {out / 'optimise.json'} and {out / 'strategy.yaml'}")
    else:
        console.print(f"written: {out / 'optimise.json'} (no strategy tried meets the budgets)")
