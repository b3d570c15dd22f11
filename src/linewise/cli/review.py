"""`linewise review` and `linewise explain`: decide on a book, tell one customer why.

Parsing and printing only: which accounts are due, their context, the checks and the
logging are :mod:`linewise.review`'s.
"""

from __future__ import annotations

import dataclasses
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
from sqlalchemy import Engine

from linewise.cli._common import (
    console,
    emit,
    engine,
    parse_date,
    parse_language,
    today,
    user_errors,
)
from linewise.cli._output import check_output_file
from linewise.errors import InputError
from linewise.money import format_amount
from linewise.review.deciders import load_decider
from linewise.review.triggers import TRIGGERS
from linewise.strategy.evaluate import ACTIONS

if TYPE_CHECKING:  # the decision core is imported when a command runs, not on --help
    from linewise.review import Decided, Decider

TRIGGER_HELP = "; ".join(f"{t.name}: {t.help}" for t in TRIGGERS.values())


@contextmanager
def progress_bar(disable: bool) -> Iterator[Callable[[int, int], None]]:
    """A progress bar that a batch loop tells (done, total)."""
    with Progress(
        TextColumn("deciding"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=console, disable=disable
    ) as progress:
        task = progress.add_task("accounts", total=None)

        def advance(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)

        yield advance


def review(
    model_dir: Path = typer.Option(..., "--model", help="A model directory (linewise model train)."),
    out: Path = typer.Option(..., "--out", help="Parquet file for the decisions."),
    portfolio: Path | None = typer.Option(None, "--portfolio", help="A portfolio directory."),
    ledger: bool = typer.Option(False, "--ledger", help="Review the lines of the ledger database instead."),
    apply: bool = typer.Option(False, "--apply", help="With --ledger: make the decisions take effect on the lines."),
    strategy: Path | None = typer.Option(None, "--strategy", help="Strategy YAML (default: the shipped one)."),
    as_of: str | None = typer.Option(
        None, "--as-of", help="Review date (default: the last panel month; with --ledger, today)."
    ),
    trigger: str = typer.Option("review", "--trigger", help=f"One of {', '.join(TRIGGERS)}: {TRIGGER_HELP}."),
    account: str | None = typer.Option(None, "--account", help="Decide this account only (needed for a request)."),
    cycle_days: int = typer.Option(
        0,
        "--cycle-days",
        min=0,
        help="Review only accounts whose last logged review is this many days old, "
        "or that were never reviewed (0: every account).",
    ),
    recourse: bool = typer.Option(True, "--recourse/--no-recourse", help="Work out what would raise each line."),
    log: bool = typer.Option(
        True, "--log/--no-log", help="Store the decisions with their features in the database's decision log."
    ),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable summary."),
) -> None:
    """Decide on every line of a portfolio or of the ledger; write the decisions, log them and print the action mix."""
    from linewise.data.files import write_decisions
    from linewise.ledger.store.decision_log import SqlDecisionLog
    from linewise.review import ReviewRequest, book_from_portfolio, decide_book
    from linewise.review.sources import book_from_ledger

    with user_errors():
        # The cheap checks first: a bad path, strategy or database fails in a moment.
        if (portfolio is None) == (not ledger):
            raise InputError.for_field(
                "source_required",
                where="review",
                field="--portfolio/--ledger",
                rule="exactly one of them",
                value="both" if ledger else "neither",
            )
        if apply and not ledger:
            raise InputError.for_field(
                "apply_needs_ledger",
                where="review",
                field="--apply",
                rule="used with --ledger (a portfolio directory has no lines to change)",
                value=True,
            )
        check_output_file(out)
        when = parse_date(as_of, "--as-of") if as_of else (today() if ledger else None)
        decider = load_decider(model_dir, strategy)
        store = engine() if (log or ledger) else None
        decision_log = SqlDecisionLog(store) if log and store is not None else None
        if ledger and store is not None and when is not None:
            book = book_from_ledger(store, when, account)
        else:
            assert portfolio is not None
            book = book_from_portfolio(portfolio, when)
        request = ReviewRequest(trigger=trigger, account=account, cycle_days=cycle_days, recourse=recourse, log=log)
        with progress_bar(as_json) as advance:
            decided = decide_book(book, decider, request, log=decision_log, on_progress=advance)
        if len(decided.decisions) == 0:
            _nothing_due(decided, as_json)
            return
        write_decisions(decided.decisions, out)
        outcomes = _applied(store, decided, as_json) if apply and store is not None else None
    present(decided, decider, as_json, extra={"out": str(out)}, outcomes=outcomes)


def decide_command(
    account: str = typer.Option(..., "--account", help="The line to decide."),
    model_dir: Path = typer.Option(..., "--model", help="A model directory (linewise model train)."),
    strategy: Path | None = typer.Option(None, "--strategy", help="Strategy YAML (default: the shipped one)."),
    trigger: str = typer.Option("review", "--trigger", help=f"One of {', '.join(TRIGGERS)}: {TRIGGER_HELP}."),
    as_of: str | None = typer.Option(None, "--as-of", help="The day decided (default: today)."),
    apply: bool = typer.Option(False, "--apply", help="Make the decision take effect on the line."),
    lang: str = typer.Option("zh", "--lang", help="The notice's language: zh or en."),
    recourse: bool = typer.Option(True, "--recourse/--no-recourse", help="Work out what would raise the line."),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
) -> None:
    """Decide one line from the ledger now, log the decision and print its notice (and apply it)."""
    from linewise.review.account import decide_account
    from linewise.review.apply import outcome_record

    with user_errors():
        language = parse_language(lang)
        when = parse_date(as_of, "--as-of") if as_of else today()
        decider = load_decider(model_dir, strategy)
        made = decide_account(
            engine(), account, decider, as_of=when, trigger=trigger, apply=apply, language=language, recourse=recourse
        )
    decided, notice, outcome = made.decided, made.notice, made.outcome
    if notice is None:
        _nothing_due(decided, as_json)
        return
    payload: dict[str, Any] = {k: _plain(v) for k, v in notice.row.items()}
    payload.update(
        {
            "run": decided.run_id,
            "lang": lang,
            "notice": notice.text,
            "applied": False if outcome is None else outcome_record(outcome)["applied"],
        }
    )
    if outcome is not None:
        payload["outcome"] = outcome_record(outcome)

    def render() -> None:
        row = notice.row
        currency = decided.book.currency
        console.print(
            f"{account}: {row['action']} {_whole(int(row['current_limit']), currency)} -> "
            f"{_whole(int(row['new_limit']), currency)} {currency} ({decided.trigger}, as of "
            f"{decided.book.as_of}; logged as run {decided.run_id})"
        )
        if outcome is not None:
            console.print(_outcome_line(outcome_record(outcome), currency))
        console.print(notice.text)

    emit(as_json, payload, render)


def _plain(value: Any) -> Any:
    """A decision's value as JSON has it."""
    if isinstance(value, list | tuple):
        return [str(v) for v in value]
    if value is None or value is pd.NA or (not isinstance(value, str) and pd.isna(value)):
        return None
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if hasattr(value, "item"):
        return value.item()
    return value


def _outcome_line(record: dict[str, Any], currency: str) -> str:
    if "refused" in record:
        return f"not applied [{record['refused']}]: {record['detail']}"
    if record["duplicate"]:
        return "already applied: nothing written"
    if not record["events"]:
        return "applied: the line needed no change"
    change = (
        f"limit {_whole(record['limit_before'], currency)} -> {_whole(record['limit_after'], currency)} "
        f"{currency}, status {record['status_before']} -> {record['status_after']}"
    )
    kept = " (frozen by hand: stays frozen)" if record["kept_frozen_by_hand"] else ""
    return f"applied: {', '.join(record['events'])}; {change}{kept}"


def _applied(store: Engine, decided: Decided, as_json: bool) -> list[dict[str, Any]]:
    """Apply a ledger review's decisions with a progress bar; the outcomes as records."""
    from linewise.review.apply import apply_decided, outcome_record

    with Progress(
        TextColumn("applying"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=console, disable=as_json
    ) as progress:
        task = progress.add_task("lines", total=len(decided.decisions))
        outcomes = apply_decided(store, decided, on_progress=lambda done, _total: progress.update(task, completed=done))
    return [outcome_record(o) for o in outcomes]


def present(
    decided: Decided,
    decider: Decider,
    as_json: bool,
    *,
    extra: dict[str, Any],
    outcomes: list[dict[str, Any]] | None = None,
) -> None:
    """Print a run: the action mix by segment and grade, the limit added, the log's run id.

    When the run was applied, also the lines' limits and statuses before and after.
    """
    from linewise.review import summary

    decisions, currency = decided.decisions, decided.book.currency
    payload = summary(decided)
    payload.update(
        {
            "strategy": decider.strategy.ref,
            "model": decider.model_ref,
            "as_of": str(decided.book.as_of),
            "trigger": decided.trigger,
            "run": decided.run_id,
            **extra,
        }
    )

    def render() -> None:
        where = f" -> {extra['out']}" if "out" in extra else ""
        console.print(
            f"{len(decisions):,} decisions as of {decided.book.as_of} by {decider.strategy.ref} with "
            f"{decider.model_ref}{where}"
        )
        for by in ("segment", "risk_grade"):
            console.print(_table(decisions, by, currency))
        mix = ", ".join(f"{a} {n / max(1, len(decisions)):.1%}" for a, n in payload["actions"].items())
        console.print(f"action mix: {mix}")
        console.print(
            f"limit added: {_whole(payload['limit_added_minor'], currency)} {currency}; "
            f"a path to an increase for {payload['with_recourse']:,} of the "
            f"{payload['not_increased']:,} lines not increased"
        )
        if decided.run_id is not None:
            console.print(
                f"logged as run {decided.run_id} (replay with `linewise decisions replay --run {decided.run_id}`)"
            )
        if outcomes is not None:
            console.print(_applied_table(payload["applied"], currency))

    if outcomes is not None:
        payload["applied"] = _applied_summary(outcomes)
    emit(as_json, payload, render)


def _applied_summary(outcomes: list[dict[str, Any]]) -> dict[str, Any]:
    done = [o for o in outcomes if "refused" not in o]
    refused: dict[str, int] = {}
    for o in outcomes:
        if "refused" in o:
            refused[o["refused"]] = refused.get(o["refused"], 0) + 1
    return {
        "lines": len(outcomes),
        "changed": sum(1 for o in done if o["applied"]),
        "duplicates": sum(1 for o in done if o["duplicate"]),
        "refused": refused,
        "limits_before_minor": sum(o["limit_before"] for o in done),
        "limits_after_minor": sum(o["limit_after"] for o in done),
        "raised": sum(1 for o in done if o["limit_after"] > o["limit_before"]),
        "cut": sum(1 for o in done if o["limit_after"] < o["limit_before"]),
        "frozen": sum(1 for o in done if o["status_after"] == "frozen" and o["status_before"] != "frozen"),
        "unfrozen": sum(1 for o in done if o["status_before"] == "frozen" and o["status_after"] != "frozen"),
        "kept_frozen_by_hand": sum(1 for o in done if o["kept_frozen_by_hand"]),
    }


def _applied_table(applied: dict[str, Any], currency: str) -> Table:
    table = Table(title="applied to the ledger", title_justify="left", show_header=False)
    table.add_row("total limits before", f"{_whole(applied['limits_before_minor'], currency)} {currency}")
    table.add_row("total limits after", f"{_whole(applied['limits_after_minor'], currency)} {currency}")
    for key in ("changed", "raised", "cut", "frozen", "unfrozen", "kept_frozen_by_hand", "duplicates"):
        table.add_row(f"lines {key.replace('_', ' ')}", f"{applied[key]:,}")
    for code, n in sorted(applied["refused"].items()):
        table.add_row(f"refused [{code}]", f"{n:,}")
    return table


def _nothing_due(decided: Decided, as_json: bool) -> None:
    if as_json:
        emit(True, {"accounts": 0, "trigger": decided.trigger, "as_of": str(decided.book.as_of)}, lambda: None)
    else:
        console.print(
            f"no account is due for a decision by {decided.trigger} as of {decided.book.as_of}; nothing written"
        )


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
        table.add_row(
            name, *(f"{int(counts.get(a, 0)):,}" for a in ACTIONS), _whole(int(added[group.index].sum()), currency)
        )
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
    payload = {
        "account_id": account,
        "as_of": str(row["as_of"]),
        "lang": lang,
        "action": row["action"],
        "notice": notice.text,
        "reasons": list(row["reasons"]),
        "recourse": list(row["recourse"]),
        "run": notice.run_id,
    }
    if analyst:
        payload["analyst"] = notice.analyst

    def render() -> None:
        console.print(notice.text)
        for line in notice.analyst:
            console.print(f"[dim]{escape(line)}[/]", markup=True)

    emit(as_json, payload, render)


def preview_command(
    account: str = typer.Option(..., "--account", help="The line to borrow on."),
    amount: str = typer.Option(..., "--amount", help="Amount in major units, e.g. 3000.00."),
    term: int = typer.Option(..., "--term", help="Months; the product offers 3, 6, 12 or 24."),
    model_dir: Path = typer.Option(..., "--model", help="A model directory (linewise model train)."),
    strategy: Path | None = typer.Option(None, "--strategy", help="Strategy YAML (default: the shipped one)."),
    method: str = typer.Option(
        "equal_instalment", "--method", help="equal_instalment, equal_principal or interest_only."
    ),
    purpose: str = typer.Option("daily_consumption", "--purpose"),
    on: str | None = typer.Option(None, "--on", help="The day of the drawdown (default: today)."),
    lang: str = typer.Option("zh", "--lang", help="The preview's language: zh or en."),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
) -> None:
    """Before borrowing: the cost, the line after, the bureau report and what the next review would do; writes nothing."""
    from linewise.config import Settings
    from linewise.inputs import parse_id
    from linewise.ledger.service import load_product, read_state
    from linewise.money import parse_amount
    from linewise.review.preview import preview_drawdown

    with user_errors():
        language = parse_language(lang)
        when = parse_date(on, "--on") if on else today()
        store = engine()
        account_id = parse_id(account, "--account")
        currency = read_state(store, account_id).line.currency
        decider = load_decider(model_dir, strategy)
        shown = preview_drawdown(
            store,
            account_id,
            decider,
            load_product(Settings().product_file),
            amount=parse_amount(amount, currency, field="--amount"),
            term_months=term,
            as_of=when,
            method=method,
            purpose=purpose,
        )
    figures = shown.figures
    payload = {
        "account_id": shown.account_id,
        "currency": shown.currency,
        "amount_minor": figures.amount,
        "term_months": figures.term_months,
        "first_instalment_minor": figures.first_instalment,
        "total_interest_minor": figures.total_interest,
        "annualised_cost": float(figures.annualised_cost),
        "available_after_minor": figures.available_after,
        "utilisation_after": figures.utilisation_after,
        "debt_to_income_after": figures.debt_to_income_after,
        "schedule": [
            {
                "number": i.number,
                "due_on": i.due_on.isoformat(),
                "principal_minor": i.principal_due,
                "interest_minor": i.interest_due,
            }
            for i in shown.schedule
        ],
        "bureau_record": {k: _plain(v) for k, v in dataclasses.asdict(shown.bureau_record).items()},
        "next_review_now": {k: _plain(v) for k, v in shown.now.items()},
        "next_review_after": {k: _plain(v) for k, v in shown.after.items()},
        "lang": lang,
        "text": shown.texts[language],
    }
    emit(as_json, payload, lambda: console.print(shown.texts[language], markup=False))
