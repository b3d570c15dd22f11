"""`linewise decisions ...`: the decision log: list runs, replay them."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.markup import escape
from rich.table import Table

from linewise.cli._common import console, emit, engine, parse_language, user_errors

decisions_app = typer.Typer(help="The decision log: list runs, replay them.", no_args_is_help=True)

# Differences listed on the terminal; --json lists them all.
SHOWN = 10
# Run ids are 64-bit integers on every database.
RUN_MAX = 2**63 - 1


@decisions_app.command("list")
def list_command(as_json: bool = typer.Option(False, "--json", help="Machine-readable output.")) -> None:
    """The logged runs, newest first."""
    from linewise.ledger.store.decision_log import SqlDecisionLog

    with user_errors():
        runs = SqlDecisionLog(engine()).list_runs()

    def render() -> None:
        table = Table(title="decision runs", title_justify="left")
        for column in ("run", "as of", "trigger", "strategy", "model", "accounts"):
            table.add_column(column)
        for run in runs:
            table.add_row(
                str(run["id"]),
                str(run["as_of"]),
                run["trigger"],
                run["strategy_ref"],
                run["model_ref"],
                f"{run['accounts']:,}",
            )
        console.print(table)

    emit(as_json, {"runs": runs}, render)


@decisions_app.command("replay")
def replay_command(
    model_dir: Path = typer.Option(..., "--model", help="The model directory the run was decided with."),
    run: int | None = typer.Option(None, "--run", min=1, max=RUN_MAX, help="The run to replay (default: the newest)."),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
) -> None:
    """Decide a logged run again from its stored features and strategy; exit 1 on any difference."""
    from linewise.ledger.store.decision_log import SqlDecisionLog
    from linewise.models.artifacts import load_model
    from linewise.review.runs import replay_run

    with user_errors():
        log = SqlDecisionLog(engine())
        model, manifest = load_model(model_dir)
        replayed = replay_run(log, run, model=model, model_ref=str(manifest["model"]), model_source=str(model_dir))
    stored, differences = replayed.run, replayed.differences
    accounts = len(stored.decisions)
    payload = {
        "run": stored.run_id,
        "accounts": accounts,
        "differences": len(differences),
        "first": differences.head(1000).astype("str").to_dict("records"),
    }

    def render() -> None:
        console.print(
            f"run {stored.run_id} ({stored.as_of}, {stored.trigger}, {stored.strategy_ref}, "
            f"{stored.model_ref}): {accounts:,} decisions replayed, "
            f"{len(differences):,} differences"
        )
        for item in differences.head(SHOWN).itertuples(index=False):
            console.print(f"  {item.account_id} {item.column}: stored {item.stored}, replayed {item.replayed}")

    emit(as_json, payload, render)
    if len(differences):
        raise typer.Exit(code=1)


@decisions_app.command("samples")
def samples_command(
    run: int | None = typer.Option(None, "--run", min=1, max=RUN_MAX, help="The run to sample (default: the newest)."),
    lang: str = typer.Option("zh,en", "--lang", help="Languages, comma-separated: zh, en."),
) -> None:
    """Print three customers' notices from a run: one raised, one held despite repaying on time, one frozen."""
    from linewise.ledger.store.decision_log import SqlDecisionLog
    from linewise.review.runs import notice_of, sample_positions, stored_strategy

    with user_errors():
        languages = [parse_language(part.strip()) for part in lang.split(",") if part.strip()]
        stored = SqlDecisionLog(engine()).load_run(run)
        strategy = stored_strategy(stored)
    for title, position in sample_positions(stored):
        if position is None:
            console.print(f"[bold]{title}[/]: no such account in run {stored.run_id}", markup=True)
            continue
        for language in languages:
            notice = notice_of(stored, position, language, strategy=strategy)
            console.print(
                f"[bold]{title}: account {escape(str(notice.row['account_id']))} ({language})[/]", markup=True
            )
            console.print(notice.text)
            console.print()
