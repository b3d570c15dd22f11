"""`linewise decisions ...`: the decision log: list runs, replay them."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import typer
from rich.markup import escape
from rich.table import Table

from linewise.cli._common import console, emit, engine, parse_language, user_errors
from linewise.errors import InputError
from linewise.features.projection import History, history_from_records
from linewise.ledger.store.decision_log import StoredRun
from linewise.strategy import read_strategy
from linewise.strategy.compiled import Strategy, compile_strategy

decisions_app = typer.Typer(help="The decision log: list runs, replay them.", no_args_is_help=True)

# Differences listed on the terminal; --json lists them all.
SHOWN = 10
# Run ids are 64-bit integers on every database.
RUN_MAX = 2**63 - 1


@decisions_app.command("list")
def list_command(as_json: bool = typer.Option(False, "--json", help="Machine-readable output.")) -> None:
    """The logged runs, newest first."""
    from linewise.ledger.store.decision_log import list_runs

    with user_errors():
        runs = list_runs(engine())

    def render() -> None:
        table = Table(title="decision runs", title_justify="left")
        for column in ("run", "as of", "trigger", "strategy", "model", "accounts"):
            table.add_column(column)
        for run in runs:
            table.add_row(str(run["id"]), str(run["as_of"]), run["trigger"], run["strategy_ref"],
                          run["model_ref"], f"{run['accounts']:,}")
        console.print(table)

    emit(as_json, {"runs": runs}, render)


@decisions_app.command("replay")
def replay_command(
    model_dir: Path = typer.Option(..., "--model", help="The model directory the run was decided with."),
    run: int | None = typer.Option(None, "--run", min=1, max=RUN_MAX, help="The run to replay (default: the newest)."),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
) -> None:
    """Decide a logged run again from its stored features and strategy; exit 1 on any difference."""
    from linewise.decide import replay
    from linewise.ledger.store.decision_log import load_run
    from linewise.models.artifacts import load_model
    from linewise.strategy.evaluate import Context

    with user_errors():
        stored = load_run(engine(), run)
        model, manifest = load_model(model_dir)
        if manifest["model"] != stored.model_ref:
            raise InputError.for_field("model_mismatch", where=str(model_dir), field="model",
                                       rule=f"the model run {stored.run_id} was decided with, "
                                            f"{stored.model_ref}", value=manifest["model"])
        strategy = stored_strategy(stored)
        requests = stored.context["requests_in_window"]
        context = Context(as_of=stored.as_of, trigger=stored.trigger,
                          last_limit_change_on=stored.context["last_limit_change_on"],
                          requests_in_window=requests if requests.notna().any() else None)
        differences = replay(stored.decisions, stored.features, context, model=model,
                             model_ref=stored.model_ref, strategy=strategy,
                             history=stored_history(stored), recourse=stored.with_recourse)
    accounts = len(stored.decisions)
    payload = {"run": stored.run_id, "accounts": accounts, "differences": len(differences),
               "first": differences.head(1000).astype("str").to_dict("records")}

    def render() -> None:
        console.print(f"run {stored.run_id} ({stored.as_of}, {stored.trigger}, {stored.strategy_ref}, "
                      f"{stored.model_ref}): {accounts:,} decisions replayed, "
                      f"{len(differences):,} differences")
        for item in differences.head(SHOWN).itertuples(index=False):
            console.print(f"  {item.account_id} {item.column}: stored "
                          f"{item.stored}, replayed {item.replayed}")

    emit(as_json, payload, render)
    if len(differences):
        raise typer.Exit(code=1)


@decisions_app.command("samples")
def samples_command(
    run: int | None = typer.Option(None, "--run", min=1, max=RUN_MAX, help="The run to sample (default: the newest)."),
    lang: str = typer.Option("zh,en", "--lang", help="Languages, comma-separated: zh, en."),
) -> None:
    """Print three customers' notices from a run: one raised, one held despite repaying on time, one frozen."""
    from linewise.explain.notice import months_due, render_notice, repaid_on_time
    from linewise.ledger.store.decision_log import load_run

    with user_errors():
        languages = [parse_language(part.strip()) for part in lang.split(",") if part.strip()]
        stored = load_run(engine(), run)
        strategy = stored_strategy(stored)
    decided = stored.decisions
    by_row = stored.features.reindex(decided["account_id"])
    held = (decided["action"] == "hold").to_numpy() & repaid_on_time(by_row)
    six_months = months_due(by_row) >= 6
    has_reasons = (decided["reasons"].map(len) > 0).to_numpy()
    has_way_up = (decided["recourse"].map(len) > 0).to_numpy()
    raised = (decided["action"] == "increase").to_numpy()
    frozen = (decided["action"] == "freeze").to_numpy()
    # The most telling of each: a raise cut short by a cap, a line held although a bill was
    # due and paid on time in each of six months, a freeze with a way back up.
    picks = [("raised", _first_of(raised & has_reasons, raised)),
             ("held despite repaying on time",
              _first_of(held & six_months & has_way_up, _first_of(held & has_way_up, held))),
             ("frozen", _first_of(frozen & has_way_up, frozen))]
    for title, where in picks:
        if not where.any():
            console.print(f"[bold]{title}[/]: no such account in run {stored.run_id}", markup=True)
            continue
        row, features, changed = notice_inputs(stored, int(np.flatnonzero(where)[0]))
        for language in languages:
            console.print(f"[bold]{title}: account {escape(str(row['account_id']))} ({language})[/]",
                          markup=True)
            console.print(render_notice(row, features, strategy.policies[str(row["arm"])],
                                        language, last_limit_change_on=changed))
            console.print()


def stored_history(stored: StoredRun) -> History | None:
    """The history a logged run's recourse was lived on (None for a run without recourse)."""
    if not stored.with_recourse:
        return None
    if stored.history is None:
        raise InputError.for_field(
            "history_missing", where=f"run {stored.run_id}", field="history",
            rule="stored with a run whose recourse is replayed (runs logged before linewise "
                 "lived recourse on the history cannot replay it; decide them again)", value=None)
    return history_from_records(stored.history, [str(a) for a in stored.decisions["account_id"]],
                                stored.as_of)


def stored_strategy(stored: StoredRun) -> Strategy:
    """The strategy a logged run was decided by, from the text stored with it."""
    return compile_strategy(read_strategy(stored.strategy_text, stored.strategy_ref))


def notice_inputs(stored: StoredRun, position: int) -> tuple[dict[str, Any], dict[str, float], date | None]:
    """A logged decision as a notice reads it: the row, the known feature values, the last limit change."""
    row = {str(k): v for k, v in stored.decisions.iloc[position].to_dict().items()}
    values = stored.features.loc[str(row["account_id"])]
    features = {str(k): float(v) for k, v in values.items()
                if isinstance(v, int | float) and not pd.isna(v)}
    changed: Any = stored.context["last_limit_change_on"].get(str(row["account_id"]))
    return row, features, None if changed is None or pd.isna(changed) else pd.Timestamp(changed).date()


def _first_of(preferred: np.ndarray, fallback: np.ndarray) -> np.ndarray:
    """``preferred`` when any account has it, else ``fallback``."""
    return preferred if preferred.any() else fallback
