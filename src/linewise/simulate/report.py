"""The lab's figures as one self-contained HTML page: plots as inline SVG, tables beside them.

Every section is made from the JSON the commands write (``summary.json`` of
``simulate``, ``optimise.json``, ``monitor.json``, ``postloan.json``) and, for the
score distributions, the decisions ``simulate`` writes beside its summary. The page
loads nothing: no script, no font, no stylesheet from elsewhere; each plot is an SVG
drawn by matplotlib's SVG backend (text kept as text, so that it reads and scales).
"""

from __future__ import annotations

import html
import io
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import matplotlib as mpl
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from linewise.money import currency_exponent

__all__ = ["lab_page", "monitor_section", "optimise_section", "page", "postloan_section", "simulation_section"]

_ACTIONS = ("increase", "hold", "decrease", "freeze")
_WIDE = (7.5, 3.2)


def page(title: str, sections: Sequence[str]) -> str:
    """The whole report: a title and the sections, in one HTML document."""
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{html.escape(title)}</title>\n<style>{_STYLE}</style>\n</head>\n<body>\n<main>\n"
        f"<h1>{html.escape(title)}</h1>\n" + "\n".join(sections) + "\n</main>\n</body>\n</html>\n"
    )


def lab_page(figures: dict[str, Any], decisions: dict[str, pd.DataFrame]) -> str:
    """The report of whichever of the lab's outputs ``figures`` holds.

    ``figures`` maps ``simulation``, ``optimise``, ``monitor`` and ``postloan`` to what
    each command writes; ``decisions`` are the simulation's, by strategy label.
    """
    sections = []
    if "simulation" in figures:
        scale = 10 ** currency_exponent(figures["simulation"]["currency"])
        sections.append(simulation_section(figures["simulation"], decisions, scale))
    if "optimise" in figures:
        sections.append(optimise_section(figures["optimise"], 10 ** currency_exponent(figures["optimise"]["currency"])))
    if "monitor" in figures:
        sections.append(monitor_section(figures["monitor"]))
    if "postloan" in figures:
        sections.append(postloan_section(figures["postloan"]))
    return page("linewise strategy lab", sections)


_STYLE = (
    "body{font-family:system-ui,sans-serif;margin:0;color:#1b1b1b;background:#fff}"
    "main{max-width:60rem;margin:auto;padding:1rem}"
    "figure{margin:1rem 0}figure svg{width:100%;height:auto}"
    "figcaption{font-size:.9rem;color:#444}"
    "table{border-collapse:collapse;font-size:.85rem;margin:.5rem 0}"
    "td,th{border-bottom:1px solid #ddd;padding:.2rem .5rem;text-align:right}"
    "th:first-child,td:first-child{text-align:left}"
)


@contextmanager
def _svg_settings() -> Iterator[None]:
    # Text stays text, and the ids in the SVG do not change from run to run.
    with mpl.rc_context({"svg.fonttype": "none", "svg.hashsalt": "linewise", "font.size": 9}):
        yield


def _figure(figure: Figure, caption: str) -> str:
    buffer = io.StringIO()
    with _svg_settings():
        figure.savefig(buffer, format="svg", bbox_inches="tight")
    svg = buffer.getvalue()
    svg = svg[svg.index("<svg") :]  # the XML prologue and doctype do not belong inside HTML
    svg = svg.replace("<svg ", f'<svg role="img" aria-label="{html.escape(caption)}" ', 1)
    return f"<figure>{svg}<figcaption>{html.escape(caption)}</figcaption></figure>"


def _new(size: tuple[float, float] = _WIDE) -> tuple[Figure, Any]:
    figure = Figure(figsize=size)
    return figure, figure.add_subplot()


def _table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    head = "".join(f"<th>{html.escape(str(cell))}</th>" for cell in header)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(cell))}</td>" for cell in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _major(amount: float | None, scale: int) -> str:
    return "-" if amount is None else f"{amount / scale:,.0f}"


# --- simulate ------------------------------------------------------------------------------


def simulation_section(summary: dict[str, Any], decisions: dict[str, pd.DataFrame], scale: int) -> str:
    """Profit and loss per strategy with intervals, loss by grade, PD distributions, the back-test."""
    strategies = summary["strategies"]
    labels = [s["label"] for s in strategies]
    currency = summary["currency"]
    parts = [f"<section><h2>Strategies on {html.escape(summary['source'])}, as of {summary['as_of']}</h2>"]

    figure, axes = _new()
    x = np.arange(len(labels))
    for offset, figure_name, colour in ((-0.2, "expected_profit", "#2b6cb0"), (0.2, "expected_loss", "#c53030")):
        values = np.array([s[figure_name]["value"] for s in strategies]) / scale
        low = values - np.array([s[figure_name]["low"] for s in strategies]) / scale
        high = np.array([s[figure_name]["high"] for s in strategies]) / scale - values
        axes.bar(
            x + offset, values, 0.4, yerr=[low, high], capsize=4, color=colour, label=figure_name.replace("_", " ")
        )
    axes.axhline(0, color="#555", linewidth=0.8)
    axes.set_xticks(x, labels)
    axes.set_ylabel(currency)
    axes.legend(frameon=False)
    parts.append(_figure(figure, f"Expected profit and loss per strategy over the horizon, {currency}, with intervals"))
    parts.append(
        _table(
            ["strategy", "increase", "hold", "decrease", "freeze", "limit added", "profit", "vs status quo"],
            [
                [
                    s["label"],
                    *(f"{s['actions'][a]:,}" for a in _ACTIONS),
                    _major(s["limit_added"], scale),
                    _major(s["expected_profit"]["value"], scale),
                    _major(s["vs_status_quo"]["expected_profit"]["value"], scale),
                ]
                for s in strategies
            ],
        )
    )

    grades = sorted({grade for s in strategies for grade in s["by_grade"]})
    figure, axes = _new()
    width = 0.8 / max(len(strategies), 1)
    for index, s in enumerate(strategies):
        losses = [s["by_grade"].get(grade, {}).get("expected_loss", {}).get("value", 0) / scale for grade in grades]
        axes.bar(np.arange(len(grades)) + index * width, losses, width, label=s["label"])
    axes.set_xticks(np.arange(len(grades)) + width * (len(strategies) - 1) / 2, grades)
    axes.set_ylabel(currency)
    axes.legend(frameon=False)
    parts.append(_figure(figure, f"Expected loss by risk grade, {currency}"))

    if decisions:
        figure, axes = _new()
        bins = np.linspace(0, 1, 41)
        for label, frame in decisions.items():
            axes.hist(frame["pd"], bins=bins, histtype="step", linewidth=1.5, label=f"{label}: PD")
        axes.set_xlabel("probability of default")
        axes.set_ylabel("accounts")
        axes.legend(frameon=False)
        parts.append(_figure(figure, "Distribution of the model's PD over the accounts decided"))

    if all("backtest" in s for s in strategies):
        figure, axes = _new()
        shown = [a for a in _ACTIONS if any(s["backtest"]["by_action"][a]["accounts"] for s in strategies)]
        for index, s in enumerate(strategies):
            rates = s["backtest"]["by_action"]
            seen = [i for i, a in enumerate(shown) if rates[a]["accounts"]]
            values = np.array([rates[shown[i]]["rate"] for i in seen])
            errors = [
                values - np.array([rates[shown[i]]["low"] for i in seen]),
                np.array([rates[shown[i]]["high"] for i in seen]) - values,
            ]
            axes.errorbar(np.array(seen) + index * 0.15, values, yerr=errors, fmt="o", capsize=4, label=s["label"])
        axes.set_xticks(np.arange(len(shown)), shown)
        axes.set_ylabel("realised default rate")
        axes.legend(frameon=False)
        parts.append(_figure(figure, "Back-test: the realised default rate by action, with 95% intervals"))
    parts.append("</section>")
    return "\n".join(parts)


# --- optimise ------------------------------------------------------------------------------


def optimise_section(report: dict[str, Any], scale: int) -> str:
    """The frontier: the upper bound and the best strategy found at each loss budget."""
    points = report["frontier"]
    currency = report.get("currency", "")
    figure, axes = _new()
    rates = [p["loss_rate_max"] for p in points]
    for key, label, style in (("upper_bound", "upper bound", "-o"), ("best_strategy", "best strategy found", "--s")):
        values = [np.nan if p[key] is None else p[key] / scale for p in points]
        axes.plot(rates, values, style, label=label)
    axes.set_xlabel("expected loss rate at most")
    axes.set_ylabel(f"expected profit, {currency}")
    axes.legend(frameon=False)
    best = report.get("best")
    told = "" if not best else f"; the best strategy found makes {best['profit'] / scale:,.0f} {currency}"
    return (
        "<section><h2>Optimisation</h2>"
        + _figure(figure, f"Efficient frontier: profit against the loss budget{told}")
        + "</section>"
    )


# --- monitor -------------------------------------------------------------------------------


def monitor_section(report: dict[str, Any]) -> str:
    """PSI of the score over the months with its no-drift bound, AUC and KS, fairness with intervals."""
    months = report["months"]
    parts = [f"<section><h2>Monitoring against {report['reference']}</h2>"]
    figure, axes = _new()
    names = [m["month"] for m in months]
    axes.plot(names, [m["score"]["psi"] if m["score"] else np.nan for m in months], "-o", label="score PSI")
    axes.plot(names, [m["score"]["threshold"] if m["score"] else np.nan for m in months], ":", label="no-drift bound")
    axes.set_yscale("symlog", linthresh=0.01)
    axes.legend(frameon=False)
    axes.tick_params(axis="x", rotation=30)
    parts.append(_figure(figure, "Stability of the score month by month (PSI), and what chance alone gives"))
    performance = [(m["month"], m["performance"]) for m in months if "performance" in m]
    if performance:
        parts.append(
            _table(
                ["month", "accounts", "bad rate", "AUC", "KS"],
                [
                    [
                        month,
                        f"{p['accounts']:,}",
                        "-" if p["bad_rate"] is None else f"{p['bad_rate']:.2%}",
                        p["auc"],
                        p["ks"],
                    ]
                    for month, p in performance
                ],
            )
        )
    fairness = report.get("fairness", {})
    for attribute, groups in fairness.items():
        if attribute == "as_of" or not groups:
            continue
        figure, axes = _new((7.5, 0.45 * len(groups) + 1))
        names = list(groups)
        values = np.array([groups[g]["increase"]["value"] for g in names])
        errors = [
            values - np.array([groups[g]["increase"]["low"] for g in names]),
            np.array([groups[g]["increase"]["high"] for g in names]) - values,
        ]
        axes.errorbar(values, np.arange(len(names)), xerr=errors, fmt="o", capsize=4)
        axes.set_yticks(np.arange(len(names)), names)
        axes.set_xlabel("share of lines raised")
        parts.append(_figure(figure, f"Lines raised by {attribute.replace('_', ' ')}, with 95% bootstrap intervals"))
    parts.append("</section>")
    return "\n".join(parts)


# --- post-loan -----------------------------------------------------------------------------


def postloan_section(report: dict[str, Any]) -> str:
    """Lines by bucket over time, the roll-rate matrix, vintage curves."""
    parts = ["<section><h2>Post-loan</h2>"]
    buckets = report["buckets"]
    names = list(buckets[0]["lines"]) if buckets else []
    figure, axes = _new()
    bottom = np.zeros(len(buckets))
    for name in names:
        shares = np.array([m["lines"][name] / max(sum(m["lines"].values()), 1) for m in buckets])
        axes.bar([m["month"] for m in buckets], shares, bottom=bottom, label=name)
        bottom += shares
    axes.set_ylabel("share of lines")
    axes.legend(frameon=False, ncols=4, fontsize=7)
    axes.tick_params(axis="x", rotation=30)
    parts.append(_figure(figure, "Lines by delinquency bucket, month by month"))

    rates = report["roll_rates"]["rates"]
    if rates:
        matrix = np.array([[rates[row][col] if row in rates else np.nan for col in names] for row in names])
        figure, axes = _new((5.5, 4.5))
        axes.imshow(matrix, cmap="Blues", vmin=0, vmax=1)
        axes.set_xticks(np.arange(len(names)), names)
        axes.set_yticks(np.arange(len(names)), names)
        axes.set_xlabel("bucket a month later")
        axes.set_ylabel("bucket")
        for i in range(len(names)):
            for j in range(len(names)):
                if not np.isnan(matrix[i, j]) and matrix[i, j] > 0:
                    axes.text(j, i, f"{matrix[i, j]:.0%}", ha="center", va="center", fontsize=7)
        parts.append(_figure(figure, "Roll rates from each bucket to each a month later"))

    cohorts = report["vintages"]["cohorts"]
    if cohorts:
        figure, axes = _new()
        for cohort, row in cohorts.items():
            ages = sorted(row["ever_30_plus"], key=int)
            axes.plot([int(a) for a in ages], [row["ever_30_plus"][a] for a in ages], label=cohort, linewidth=1)
        axes.set_xlabel("months on book")
        axes.set_ylabel("ever 30+ days past due")
        axes.legend(frameon=False, ncols=4, fontsize=7)
        parts.append(_figure(figure, "Vintage curves: the share of each opening month's lines ever 30+ days past due"))
    parts.append("</section>")
    return "\n".join(parts)
