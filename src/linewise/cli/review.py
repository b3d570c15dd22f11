"""`linewise review` and `linewise explain`: decide on a portfolio, tell one customer why."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import typer
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from linewise.cli._common import console, emit, fail, parse_date, user_errors
from linewise.data import read_portfolio, read_table, write_table
from linewise.errors import InputError
from linewise.explain.formatting import LANGUAGES, check_language
from linewise.features import compute_features, limit_changed_on
from linewise.money import format_amount
from linewise.strategy import default_strategy_text, read_strategy, read_strategy_file
from linewise.strategy.evaluate import ACTIONS, TRIGGERS, Context

# Accounts decided per step of the progress bar: big enough to stay vectorised.
CHUNK = 50_000


def features_path(decisions: Path) -> Path:
    """Where ``review`` keeps the features its decisions were made from, next to them."""
    return decisions.with_name(f"{decisions.stem}.features.parquet")


def _strategy(path: Path | None):  # type: ignore[no-untyped-def]  # Strategy, imported late
    from linewise.strategy.compiled import compile_strategy

    return compile_strategy(read_strategy_file(path) if path else read_strategy(default_strategy_text()))


def review(
    portfolio: Path = typer.Option(..., "--portfolio", help="A portfolio directory."),
    model_dir: Path = typer.Option(..., "--model", help="A model directory (linewise model train)."),
    out: Path = typer.Option(..., "--out", help="Parquet file for the decisions."),
    strategy: Path | None = typer.Option(None, "--strategy", help="Strategy YAML (default: the shipped one)."),
    as_of: str | None = typer.Option(None, "--as-of", help="Review date (default: the last panel month)."),
    trigger: str = typer.Option("review", "--trigger", help=f"One of {', '.join(TRIGGERS)}."),
    recourse: bool = typer.Option(True, "--recourse/--no-recourse", help="Work out what would raise each line."),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable summary."),
) -> None:
    """Decide on every line of a portfolio; write the decisions and print the action mix."""
    from linewise.decide import DECISION_COLUMNS, decide
    from linewise.models.artifacts import load_model

    with user_errors():
        loaded = read_portfolio(portfolio)
        model, manifest = load_model(model_dir)
        chosen = _strategy(strategy)
        if chosen.loaded.spec.currency != loaded.currency:
            raise InputError.for_field(
                "currency_mismatch", where=str(strategy or "default strategy"), field="currency",
                rule=f"the portfolio's currency {loaded.currency}", value=chosen.loaded.spec.currency)
        when = parse_date(as_of, "--as-of") if as_of else loaded.months[-1].date()
        features = compute_features(loaded.panel, loaded.customers, when)
        changed_on = limit_changed_on(loaded.panel, when)
        context = Context(as_of=when, trigger=trigger, last_limit_change_on=changed_on)
        parts = []
        with Progress(TextColumn("deciding"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                      console=console, disable=as_json) as progress:
            task = progress.add_task("accounts", total=len(features))
            for start in range(0, len(features), CHUNK):
                chunk = features.iloc[start:start + CHUNK]
                parts.append(decide(chunk, model=model, model_ref=str(manifest["model"]),
                                    strategy=chosen, context=context, recourse=recourse))
                progress.advance(task, len(chunk))
        decisions = pd.concat(parts, ignore_index=True)[list(DECISION_COLUMNS)]
        out.parent.mkdir(parents=True, exist_ok=True)
        write_table(decisions, out)
        kept = features.assign(last_limit_change_on=changed_on).reset_index()
        kept.attrs = {}
        write_table(kept, features_path(out))
    currency = chosen.loaded.spec.currency
    payload = _summary(decisions, currency)
    payload.update({"out": str(out), "strategy": chosen.ref, "model": manifest["model"],
                    "as_of": str(when), "accounts": len(decisions)})

    def render() -> None:
        console.print(f"{len(decisions):,} decisions as of {when} by {escape(chosen.ref)} with "
                      f"{escape(str(manifest['model']))} -> {escape(str(out))}")
        for by in ("segment", "risk_grade"):
            console.print(_table(decisions, by, currency))
        mix = ", ".join(f"{a} {n / max(1, len(decisions)):.1%}" for a, n in payload["actions"].items())
        console.print(f"action mix: {mix}")
        console.print(f"limit added: {_whole(payload['limit_added_minor'], currency)} {currency}; "
                      f"a path to an increase for {payload['with_recourse']:,} of the "
                      f"{payload['not_increased']:,} lines not increased")

    emit(as_json, payload, render)


def _summary(decisions: pd.DataFrame, currency: str) -> dict[str, Any]:
    not_increased = decisions["action"] != "increase"
    return {
        "actions": {a: int((decisions["action"] == a).sum()) for a in ACTIONS},
        "limit_added_minor": int((decisions["new_limit"] - decisions["current_limit"]).clip(lower=0).sum()),
        "currency": currency,
        "not_increased": int(not_increased.sum()),
        "with_recourse": int((decisions.loc[not_increased, "recourse"].map(len) > 0).sum()),
    }


def _table(decisions: pd.DataFrame, by: str, currency: str) -> Table:
    title = {"segment": "actions by segment", "risk_grade": "actions by risk grade"}[by]
    table = Table(title=title, title_justify="left")
    table.add_column(by.replace("_", " "))
    for action in ACTIONS:
        table.add_column(action, justify="right")
    table.add_column(f"added {currency}", justify="right")
    added = (decisions["new_limit"] - decisions["current_limit"]).clip(lower=0)
    rows = [(str(name), group) for name, group in decisions.groupby(by, sort=True)]
    for name, group in [*rows, ("all", decisions)]:
        counts = group["action"].value_counts()
        table.add_row(name, *(f"{int(counts.get(a, 0)):,}" for a in ACTIONS),
                      _whole(int(added[group.index].sum()), currency))
    return table


def _whole(minor: int, currency: str) -> str:
    return format_amount(minor, currency).split(".")[0]


def explain(
    account: str = typer.Argument(..., help="The account to explain."),
    decisions: Path = typer.Option(Path("decisions.parquet"), "--decisions",
                                   help="Decisions written by `linewise review`."),
    strategy: Path | None = typer.Option(None, "--strategy",
                                         help="The strategy the decisions were made by (default: the shipped one)."),
    lang: str = typer.Option("zh", "--lang", help="zh or en."),
    analyst: bool = typer.Option(False, "--analyst", help="Also print the reasons as the risk team reads them."),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
) -> None:
    """Print the customer's notice for ACCOUNT: the decision, why, and what would raise the line."""
    from linewise.explain.notice import analyst_reasons, render_notice

    if lang not in LANGUAGES:
        fail(f"--lang: one of {', '.join(LANGUAGES)}; got {lang!r}")
    with user_errors():
        row = _decision_of(account, decisions)
        chosen = _strategy(strategy)
        if row["strategy"] != chosen.ref:
            raise InputError.for_field(
                "strategy_mismatch", where=str(decisions), field="strategy",
                rule=f"made by the strategy given ({chosen.ref}); pass the decisions' own with --strategy",
                value=row["strategy"])
        features = read_table(features_path(decisions))
        mine = features[features["account_id"].astype("str") == account]
        if mine.empty:
            raise InputError.for_field("features_missing", where=str(features_path(decisions)),
                                       field="account_id", rule="the decision's features kept next to it",
                                       value=account)
        values = mine.iloc[0]
        changed = values.get("last_limit_change_on")
        numbers = {str(k): float(v) for k, v in values.items()
                   if k not in ("account_id", "last_limit_change_on") and v is not None and not pd.isna(v)}
        policy = chosen.policies[str(row["arm"])]
        notice = render_notice(row, numbers, policy, check_language(lang),
                               last_limit_change_on=None if changed is None or pd.isna(changed)
                               else pd.Timestamp(changed).date())
        lines = analyst_reasons(row, numbers, policy) if analyst else []
    payload = {"account_id": account, "lang": lang, "action": row["action"], "notice": notice,
               "reasons": list(row["reasons"]), "recourse": list(row["recourse"])}
    if analyst:
        payload["analyst"] = lines

    def render() -> None:
        console.print(escape(notice))
        for line in lines:
            console.print(f"[dim]{escape(line)}[/]")

    emit(as_json, payload, render)


def _decision_of(account: str, path: Path) -> dict[str, Any]:
    table = read_table(path)
    found = table[table["account_id"].astype("str") == account]
    if found.empty:
        raise InputError.for_field("account_unknown", where=str(path), field="account_id",
                                   rule=f"one of the {len(table):,} accounts decided", value=account)
    row = {str(k): v for k, v in found.iloc[-1].to_dict().items()}
    for name in ("reasons", "recourse"):
        row[name] = [str(code) for code in (row[name] if row[name] is not None else np.array([]))]
    return row
