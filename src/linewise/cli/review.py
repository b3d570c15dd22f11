"""`linewise review` and `linewise explain`: decide on a portfolio, tell one customer why."""

from __future__ import annotations

from pathlib import Path
from typing import Any

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

from linewise.cli._common import console, emit, engine, fail, parse_date, user_errors
from linewise.data import read_portfolio, write_table
from linewise.errors import InputError
from linewise.explain.formatting import LANGUAGES, check_language
from linewise.features import compute_features, limit_changed_on
from linewise.money import format_amount
from linewise.strategy import default_strategy_text, read_strategy, read_strategy_file
from linewise.strategy.compiled import Strategy, compile_strategy
from linewise.strategy.evaluate import ACTIONS, TRIGGERS, Context

# Accounts decided per step of the progress bar: big enough to stay vectorised.
CHUNK = 50_000


def _strategy(path: Path | None) -> Strategy:
    return compile_strategy(read_strategy_file(path) if path else read_strategy(default_strategy_text()))


def review(
    portfolio: Path = typer.Option(..., "--portfolio", help="A portfolio directory."),
    model_dir: Path = typer.Option(..., "--model", help="A model directory (linewise model train)."),
    out: Path = typer.Option(..., "--out", help="Parquet file for the decisions."),
    strategy: Path | None = typer.Option(None, "--strategy", help="Strategy YAML (default: the shipped one)."),
    as_of: str | None = typer.Option(None, "--as-of", help="Review date (default: the last panel month)."),
    trigger: str = typer.Option("review", "--trigger", help=f"One of {', '.join(TRIGGERS)}."),
    recourse: bool = typer.Option(True, "--recourse/--no-recourse", help="Work out what would raise each line."),
    log: bool = typer.Option(True, "--log/--no-log",
                             help="Store the decisions with their features in the database's decision log."),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable summary."),
) -> None:
    """Decide on every line of a portfolio; write the decisions, log them and print the action mix."""
    from linewise.decide import DECISION_COLUMNS, decide
    from linewise.ledger.store.decision_log import save_run
    from linewise.models.artifacts import load_model

    with user_errors():
        store = engine() if log else None
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
        run_id = None if store is None else save_run(
            store, decisions, features, strategy_text=chosen.loaded.text,
            context=changed_on.to_frame())
    currency = chosen.loaded.spec.currency
    payload = _summary(decisions, currency)
    payload.update({"out": str(out), "strategy": chosen.ref, "model": manifest["model"],
                    "as_of": str(when), "accounts": len(decisions), "run": run_id})

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
        if run_id is not None:
            console.print(f"logged as run {run_id} (replay with `linewise decisions replay --run {run_id}`)")

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
    lang: str = typer.Option("zh", "--lang", help="zh or en."),
    analyst: bool = typer.Option(False, "--analyst", help="Also print the reasons as the risk team reads them."),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
) -> None:
    """Print the notice of ACCOUNT's latest logged decision: what was decided, why, what would raise it."""
    from linewise.explain.notice import analyst_reasons, render_notice
    from linewise.ledger.store.decision_log import latest_decision

    if lang not in LANGUAGES:
        fail(f"--lang: one of {', '.join(LANGUAGES)}; got {lang!r}")
    with user_errors():
        stored = latest_decision(engine(), account)
        row = {str(k): v for k, v in stored.decisions.iloc[0].to_dict().items()}
        policy = compile_strategy(read_strategy(stored.strategy_text, stored.strategy_ref)).policies[str(row["arm"])]
        features = {str(k): float(v) for k, v in stored.features.iloc[0].items()
                    if isinstance(v, int | float) and not pd.isna(v)}
        changed = stored.context["last_limit_change_on"].iloc[0]
        notice = render_notice(row, features, policy, check_language(lang),
                               last_limit_change_on=None if pd.isna(changed) else changed.date())
        lines = analyst_reasons(row, features, policy) if analyst else []
    payload = {"account_id": account, "as_of": str(row["as_of"]), "lang": lang, "action": row["action"],
               "notice": notice, "reasons": list(row["reasons"]), "recourse": list(row["recourse"]),
               "run": stored.run_id}
    if analyst:
        payload["analyst"] = lines

    def render() -> None:
        console.print(escape(notice))
        for line in lines:
            console.print(f"[dim]{escape(line)}[/]")

    emit(as_json, payload, render)
