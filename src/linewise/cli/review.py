"""`linewise review` and `linewise explain`: decide on a portfolio, tell one customer why."""

from __future__ import annotations

from datetime import date, timedelta
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
from sqlalchemy import Engine

from linewise.cli._common import (
    console,
    emit,
    engine,
    parse_date,
    parse_language,
    user_errors,
)
from linewise.cli._output import check_output_file
from linewise.data import read_portfolio, write_table
from linewise.data.portfolio import Portfolio
from linewise.errors import InputError
from linewise.features import compute_features, limit_changed_on
from linewise.features.events import arrears_cleared, income_verified_in
from linewise.features.projection import history_of, history_records
from linewise.money import format_amount
from linewise.strategy import default_strategy_text, read_strategy, read_strategy_file
from linewise.strategy.compiled import Strategy, compile_strategy
from linewise.strategy.evaluate import ACTIONS, TRIGGERS, Context

TRIGGER_HELP = ("review: the periodic review (with --cycle-days, only accounts due); repayment: accounts "
                "whose arrears a repayment cleared in the as-of month; income_proof: accounts whose income "
                "was verified in the as-of month; request: one customer asking (--account).")




def _strategy(path: Path | None) -> Strategy:
    return compile_strategy(read_strategy_file(path) if path else read_strategy(default_strategy_text()))


def review(
    portfolio: Path = typer.Option(..., "--portfolio", help="A portfolio directory."),
    model_dir: Path = typer.Option(..., "--model", help="A model directory (linewise model train)."),
    out: Path = typer.Option(..., "--out", help="Parquet file for the decisions."),
    strategy: Path | None = typer.Option(None, "--strategy", help="Strategy YAML (default: the shipped one)."),
    as_of: str | None = typer.Option(None, "--as-of", help="Review date (default: the last panel month)."),
    trigger: str = typer.Option("review", "--trigger", help=f"One of {', '.join(TRIGGERS)}: {TRIGGER_HELP}"),
    account: str | None = typer.Option(None, "--account", help="Decide this account only (needed for a request)."),
    cycle_days: int = typer.Option(0, "--cycle-days", min=0,
                                   help="Review only accounts whose last logged review is this many days old, "
                                        "or that were never reviewed (0: every account)."),
    recourse: bool = typer.Option(True, "--recourse/--no-recourse", help="Work out what would raise each line."),
    log: bool = typer.Option(True, "--log/--no-log",
                             help="Store the decisions with their features in the database's decision log."),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable summary."),
) -> None:
    """Decide on every line of a portfolio; write the decisions, log them and print the action mix."""
    from linewise.decide import BATCH, DECISION_COLUMNS, decide
    from linewise.ledger.store.decision_log import save_run
    from linewise.models.artifacts import load_model

    with user_errors():
        # The cheap checks first: a bad path, strategy or database fails in a moment.
        check_output_file(out)
        chosen = _strategy(strategy)
        store = engine() if log else None
        loaded = read_portfolio(portfolio)
        model, manifest = load_model(model_dir)
        if chosen.loaded.spec.currency != loaded.currency:
            raise InputError.for_field(
                "currency_mismatch", where=str(strategy or "default strategy"), field="currency",
                rule=f"the portfolio's currency {loaded.currency}", value=chosen.loaded.spec.currency)
        when = parse_date(as_of, "--as-of") if as_of else loaded.months[-1].date()
        features = compute_features(loaded.panel, loaded.customers, when)
        due = _due(features.index, loaded, store, trigger=trigger, account=account, as_of=when,
                   cycle_days=cycle_days)
        if len(due) == 0:
            _nothing_due(trigger, when, as_json)
            return
        features = features.loc[due]
        history = history_of(loaded.panel, loaded.customers, when) if recourse else None
        changed_on = limit_changed_on(loaded.panel, when).reindex(due)
        requests = None
        if trigger == "request":
            window = chosen.policies[str(chosen.assign_arms(due.to_numpy())[0])].request_window_days
            requests = _requests_in_window(store, due, when, window)
        context = Context(as_of=when, trigger=trigger, last_limit_change_on=changed_on,
                          requests_in_window=requests)
        parts = []
        with Progress(TextColumn("deciding"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                      console=console, disable=as_json) as progress:
            task = progress.add_task("accounts", total=len(features))
            for start in range(0, len(features), BATCH):
                chunk = features.iloc[start:start + BATCH]
                parts.append(decide(chunk, model=model, model_ref=str(manifest["model"]),
                                    strategy=chosen, context=context, history=history,
                                    recourse=recourse))
                progress.advance(task, len(chunk))
        decisions = pd.concat(parts, ignore_index=True)[list(DECISION_COLUMNS)]
        out.parent.mkdir(parents=True, exist_ok=True)
        write_table(decisions, out)
        logged_context = changed_on.to_frame()
        if requests is not None:
            logged_context["requests_in_window"] = requests
        run_id = None if store is None else save_run(
            store, decisions, features, strategy_text=chosen.loaded.text, with_recourse=recourse,
            context=logged_context, history=None if history is None else history_records(
                history.rows(history.position_of(pd.Index(decisions["account_id"])))))
    currency = chosen.loaded.spec.currency
    payload = _summary(decisions, currency)
    payload.update({"out": str(out), "strategy": chosen.ref, "model": manifest["model"],
                    "as_of": str(when), "accounts": len(decisions), "run": run_id})

    def render() -> None:
        console.print(f"{len(decisions):,} decisions as of {when} by {chosen.ref} with "
                      f"{manifest['model']} -> {out}")
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


def _due(accounts: pd.Index, loaded: Portfolio, store: Engine | None, *, trigger: str,
         account: str | None, as_of: date, cycle_days: int) -> pd.Index:
    """The accounts ``trigger`` calls a decision for (``account`` alone when given)."""
    from linewise.ledger.store.decision_log import last_decided_on

    if account is not None:
        if account not in accounts:
            raise InputError.for_field("account_unknown", where=loaded.source, field="--account",
                                       rule=f"an account with a panel row in the as-of month ({as_of})",
                                       value=account)
        return pd.Index([account], name="account_id", dtype="str")
    if trigger == "request":
        raise InputError.for_field("account_required", where="--trigger request", field="--account",
                                   rule="the account of the customer asking", value=None)
    if trigger == "repayment":
        return accounts.intersection(arrears_cleared(loaded.panel, as_of))
    if trigger == "income_proof":
        return accounts.intersection(income_verified_in(loaded.customers, as_of))
    if cycle_days > 0:
        if store is None:
            raise InputError.for_field("log_required", where="--cycle-days", field="--log",
                                       rule="on: the review cycle is read from the decision log", value=False)
        last = last_decided_on(store, "review").reindex(accounts)
        days = (pd.Timestamp(as_of) - last).dt.days
        due: pd.Index = accounts[(last.isna() | (days >= cycle_days)).to_numpy()]
        return due
    return accounts


def _requests_in_window(store: Engine | None, accounts: pd.Index, as_of: date, window_days: int) -> pd.Series:
    """Requests for more within the window, this one included (counted from the decision log)."""
    from linewise.ledger.store.decision_log import decisions_since

    if store is None:
        raise InputError.for_field("log_required", where="--trigger request", field="--log",
                                   rule="on: earlier requests are counted from the decision log", value=False)
    earlier = decisions_since(store, "request", as_of - timedelta(days=window_days), as_of, list(accounts))
    return (earlier.reindex(accounts).fillna(0) + 1).astype("float64")


def _nothing_due(trigger: str, as_of: date, as_json: bool) -> None:
    if as_json:
        emit(True, {"accounts": 0, "trigger": trigger, "as_of": str(as_of)}, lambda: None)
    else:
        console.print(f"no account is due for a decision by {trigger} as of {as_of}; nothing written")


def _summary(decisions: pd.DataFrame, currency: str) -> dict[str, Any]:
    not_increased = decisions["action"] != "increase"
    return {
        "actions": {a: int((decisions["action"] == a).sum()) for a in ACTIONS},
        "limit_added_minor": int((decisions["new_limit"] - decisions["current_limit"]).clip(lower=0).sum()),
        "currency": currency,
        "not_increased": int(not_increased.sum()),
        "with_recourse": int(decisions.loc[not_increased, "recourse_limit"].notna().sum()),
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
    from linewise.cli.decisions import notice_inputs, stored_strategy
    from linewise.explain.notice import analyst_reasons, render_notice
    from linewise.ledger.store.decision_log import latest_decision

    with user_errors():
        language = parse_language(lang)
        stored = latest_decision(engine(), account)
        row, features, changed = notice_inputs(stored, 0)
        policy = stored_strategy(stored).policies[str(row["arm"])]
        notice = render_notice(row, features, policy, language, last_limit_change_on=changed)
        lines = analyst_reasons(row, features, policy, last_limit_change_on=changed) if analyst else []
    payload = {"account_id": account, "as_of": str(row["as_of"]), "lang": lang, "action": row["action"],
               "notice": notice, "reasons": list(row["reasons"]), "recourse": list(row["recourse"]),
               "run": stored.run_id}
    if analyst:
        payload["analyst"] = lines

    def render() -> None:
        console.print(notice)
        for line in lines:
            console.print(f"[dim]{escape(line)}[/]", markup=True)

    emit(as_json, payload, render)
