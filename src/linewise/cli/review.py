"""`linewise review` and `linewise explain`: decide on a book, tell one customer why.

Parsing and printing only: which accounts are due, their context, the checks and the
logging are :mod:`linewise.review`'s.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

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

from linewise.cli._common import (
    console,
    emit,
    engine,
    parse_date,
    parse_language,
    user_errors,
)
from linewise.cli._output import check_output_file
from linewise.money import format_amount
from linewise.review.triggers import TRIGGERS
from linewise.strategy import default_strategy_text, read_strategy, read_strategy_file
from linewise.strategy.compiled import compile_strategy
from linewise.strategy.evaluate import ACTIONS

if TYPE_CHECKING:  # the decision core is imported when a command runs, not on --help
    from linewise.review import Decided, Decider

TRIGGER_HELP = "; ".join(f"{t.name}: {t.help}" for t in TRIGGERS.values())


def load_decider(model_dir: Path, strategy: Path | None) -> Decider:
    """The model in ``model_dir`` and the strategy file (default: the shipped one), checked."""
    from linewise.models.artifacts import load_model
    from linewise.review import Decider

    chosen = compile_strategy(read_strategy_file(strategy) if strategy else read_strategy(default_strategy_text()))
    model, manifest = load_model(model_dir)
    return Decider(model=model, model_ref=str(manifest["model"]), strategy=chosen,
                   model_source=str(model_dir), strategy_source=str(strategy or "default strategy"),
                   model_currency=manifest.get("currency"))


@contextmanager
def progress_bar(disable: bool) -> Iterator[Callable[[int, int], None]]:
    """A progress bar that a batch loop tells (done, total)."""
    with Progress(TextColumn("deciding"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=console, disable=disable) as progress:
        task = progress.add_task("accounts", total=None)

        def advance(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)

        yield advance


def review(
    portfolio: Path = typer.Option(..., "--portfolio", help="A portfolio directory."),
    model_dir: Path = typer.Option(..., "--model", help="A model directory (linewise model train)."),
    out: Path = typer.Option(..., "--out", help="Parquet file for the decisions."),
    strategy: Path | None = typer.Option(None, "--strategy", help="Strategy YAML (default: the shipped one)."),
    as_of: str | None = typer.Option(None, "--as-of", help="Review date (default: the last panel month)."),
    trigger: str = typer.Option("review", "--trigger", help=f"One of {', '.join(TRIGGERS)}: {TRIGGER_HELP}."),
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
    from linewise.data.files import write_decisions
    from linewise.ledger.store.decision_log import SqlDecisionLog
    from linewise.review import ReviewRequest, book_from_portfolio, decide_book

    with user_errors():
        # The cheap checks first: a bad path, strategy or database fails in a moment.
        check_output_file(out)
        when = parse_date(as_of, "--as-of") if as_of else None
        decider = load_decider(model_dir, strategy)
        store = SqlDecisionLog(engine()) if log else None
        book = book_from_portfolio(portfolio, when)
        request = ReviewRequest(trigger=trigger, account=account, cycle_days=cycle_days, recourse=recourse,
                                log=log)
        with progress_bar(as_json) as advance:
            decided = decide_book(book, decider, request, log=store, on_progress=advance)
        if len(decided.decisions) == 0:
            _nothing_due(decided, as_json)
            return
        write_decisions(decided.decisions, out)
    present(decided, decider, as_json, extra={"out": str(out)})


def present(decided: Decided, decider: Decider, as_json: bool, *, extra: dict[str, Any]) -> None:
    """Print a run: the action mix by segment and grade, the limit added, the log's run id."""
    from linewise.review import summary

    decisions, currency = decided.decisions, decided.book.currency
    payload = summary(decided)
    payload.update({"strategy": decider.strategy.ref, "model": decider.model_ref,
                    "as_of": str(decided.book.as_of), "trigger": decided.trigger, "run": decided.run_id, **extra})

    def render() -> None:
        where = f" -> {extra['out']}" if "out" in extra else ""
        console.print(f"{len(decisions):,} decisions as of {decided.book.as_of} by {decider.strategy.ref} with "
                      f"{decider.model_ref}{where}")
        for by in ("segment", "risk_grade"):
            console.print(_table(decisions, by, currency))
        mix = ", ".join(f"{a} {n / max(1, len(decisions)):.1%}" for a, n in payload["actions"].items())
        console.print(f"action mix: {mix}")
        console.print(f"limit added: {_whole(payload['limit_added_minor'], currency)} {currency}; "
                      f"a path to an increase for {payload['with_recourse']:,} of the "
                      f"{payload['not_increased']:,} lines not increased")
        if decided.run_id is not None:
            console.print(f"logged as run {decided.run_id} (replay with "
                          f"`linewise decisions replay --run {decided.run_id}`)")

    emit(as_json, payload, render)


def _nothing_due(decided: Decided, as_json: bool) -> None:
    if as_json:
        emit(True, {"accounts": 0, "trigger": decided.trigger, "as_of": str(decided.book.as_of)}, lambda: None)
    else:
        console.print(f"no account is due for a decision by {decided.trigger} as of {decided.book.as_of}; "
                      "nothing written")


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
    from linewise.ledger.store.decision_log import SqlDecisionLog
    from linewise.review.runs import notice_of

    with user_errors():
        language = parse_language(lang)
        notice = notice_of(SqlDecisionLog(engine()).latest_decision(account), 0, language, analyst=analyst)
    row = notice.row
    payload = {"account_id": account, "as_of": str(row["as_of"]), "lang": lang, "action": row["action"],
               "notice": notice.text, "reasons": list(row["reasons"]), "recourse": list(row["recourse"]),
               "run": notice.run_id}
    if analyst:
        payload["analyst"] = notice.analyst

    def render() -> None:
        console.print(notice.text)
        for line in notice.analyst:
            console.print(f"[dim]{escape(line)}[/]", markup=True)

    emit(as_json, payload, render)
