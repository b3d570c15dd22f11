"""`linewise monitor`: drift, discrimination, calibration and fairness of a model and strategy.

Parsing and printing only: the figures are :mod:`linewise.simulate.monitor`'s.
"""

from __future__ import annotations

import json
from contextlib import nullcontext
from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from linewise.cli._common import console, emit, parse_date, user_errors
from linewise.cli._output import check_output_directory
from linewise.money import currency_exponent


def monitor_command(
    portfolio: Path = typer.Option(..., "--portfolio", help="A portfolio directory."),
    model_dir: Path = typer.Option(..., "--model", help="A model directory (linewise model train)."),
    strategy: Path | None = typer.Option(None, "--strategy", help="Strategy YAML (default: the shipped one)."),
    reference: str | None = typer.Option(
        None, "--reference", help="The month end compared against (default: the portfolio's first)."
    ),
    out: Path = typer.Option(..., "--out", help="Directory for monitor.json."),
    as_json: bool = typer.Option(False, "--json", help="Print monitor.json instead of the tables."),
) -> None:
    """Decide every month of a portfolio and report drift, AUC and KS, calibration by grade and fairness."""
    from linewise.data import read_portfolio
    from linewise.review.deciders import load_decider
    from linewise.simulate.monitor import monitor

    with user_errors():
        check_output_directory(out)
        base = parse_date(reference, "--reference") if reference else None
        decider = load_decider(model_dir, strategy)
        loaded = read_portfolio(portfolio)
        with console.status("deciding each month", spinner="dots") if not as_json else nullcontext():
            report = monitor(loaded, decider, reference=base)
        report["currency"] = loaded.currency
        out.mkdir(parents=True, exist_ok=True)
        (out / "monitor.json").write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    emit(as_json, report, lambda: _render(report, out))


def _render(report: dict[str, Any], out: Path) -> None:
    console.print(
        f"{report['source']}: model {report['model']}, strategy {report['strategy']}, "
        f"against {report['reference']} (a PSI is drift above the 99th percentile of what chance gives)"
    )
    months = Table(title="Month by month")
    for name in (
        "month",
        "accounts",
        "score PSI",
        "no-drift bound",
        "model features drifting, most",
        "increase",
        "freeze",
    ):
        months.add_column(name, justify="left" if name in ("month", "model features drifting, most") else "right")
    months.add_column("AUC", justify="right")
    months.add_column("KS", justify="right")
    for month in report["months"]:
        score = month["score"] or {"psi": 0.0, "threshold": 0.0, "drift": False}
        drifting = month["model_features_drifting"]
        performance = month.get("performance") or {}
        months.add_row(
            month["month"],
            f"{month['accounts']:,}",
            f"{score['psi']:.4f}" + (" !" if score["drift"] else ""),
            f"{score['threshold']:.4f}",
            f"{len(drifting)} of {month['model_features']}"
            + "".join(f", {name} {month['features'][name]['psi']:.3f}" for name in drifting[:2]),
            f"{month['actions']['increase']:.1%}",
            f"{month['actions']['freeze']:.1%}",
            "-" if performance.get("auc") is None else f"{performance['auc']:.4f}",
            "-" if performance.get("ks") is None else f"{performance['ks']:.4f}",
        )
    console.print(months)
    for month in report["months"]:
        if "calibration" not in month:
            continue
        table = Table(title=f"Calibration by grade, outcomes opened {month['month']} (binomial test; ! at p < 0.01)")
        for name in ("grade", "accounts", "PD predicted", "bad observed", "p-value"):
            table.add_column(name, justify="left" if name == "grade" else "right")
        for grade in month["calibration"]:
            table.add_row(
                grade["grade"],
                f"{grade['accounts']:,}",
                f"{grade['predicted']:.2%}",
                f"{grade['observed']:.2%}",
                f"{grade['p_value']:.4f}" + (" !" if grade["flagged"] else ""),
            )
        console.print(table)
    _render_fairness(report)
    console.print(f"written: {out / 'monitor.json'}")


def _render_fairness(report: dict[str, Any]) -> None:
    fairness = report["fairness"]
    exponent = currency_exponent(report["currency"])
    table = Table(
        title=f"Decisions across protected attributes, {fairness['as_of']} "
        "(95% bootstrap intervals; ratio to the best-treated group, ! under 0.8)"
    )
    for name in ("attribute", "group", "accounts", "raised", "not frozen", f"mean change, {report['currency']}"):
        table.add_column(name, justify="left" if name in ("attribute", "group") else "right")
    for attribute, groups in fairness.items():
        if attribute == "as_of":
            continue
        for group, row in groups.items():
            table.add_row(
                attribute,
                group,
                f"{row['accounts']:,}",
                _rate(row["increase"]),
                _rate(row["not_frozen"]),
                _change(row["mean_limit_change"], exponent),
            )
    console.print(table)


def _rate(figure: dict[str, Any]) -> str:
    ratio = figure.get("ratio_to_best")
    told = f"{figure['value']:.1%} ({figure['low']:.1%}-{figure['high']:.1%})"
    return told + ("" if ratio is None else f" x{ratio:.2f}") + (" !" if figure.get("flagged") else "")


def _change(figure: dict[str, Any], exponent: int) -> str:
    scale = 10**exponent
    return f"{figure['value'] / scale:,.0f} ({figure['low'] / scale:,.0f} to {figure['high'] / scale:,.0f})"
