"""Ledger commands: db, line, draw, repay, statement, panel export."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date
from pathlib import Path
from typing import Any

import typer
from rich.markup import escape
from rich.table import Table
from sqlalchemy import Engine

from linewise.cli._common import (
    console,
    emit,
    engine,
    event_date,
    new_key,
    parse_date,
    user_errors,
)
from linewise.cli._output import check_output_file
from linewise.config import Settings
from linewise.errors import InputError
from linewise.inputs import parse_id, parse_key, parse_reason
from linewise.ledger.dpd import bucket_of, dpd_as_of, is_instalment_on_time
from linewise.ledger.events import (
    LimitChanged,
    LineOpened,
    RepaymentPosted,
    Reversal,
    StatusChanged,
)
from linewise.ledger.model import LineState, LineStatus
from linewise.ledger.service import (
    PostingResult,
    Statement,
    drawdown_event,
    export_panel,
    load_product,
    post_event,
    read_state,
    statement,
)
from linewise.ledger.store import upgrade
from linewise.money import format_amount, parse_amount

db_app = typer.Typer(help="The database schema.", no_args_is_help=True)
line_app = typer.Typer(
    help="Credit lines: open, show, set-limit, freeze, unfreeze, close, reverse.", no_args_is_help=True
)
panel_app = typer.Typer(help="The month-end panel.", no_args_is_help=True)

JSON = typer.Option(False, "--json", help="Machine-readable output.")
ON = typer.Option(None, "--on", help="Date the event happened (YYYY-MM-DD); today if left out.")
KEY = typer.Option(None, "--key", help="Idempotency key (per account): a retry with the same key posts nothing new.")
DUPLICATE_NOTE = " (already posted with this key; nothing new written)"


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Create or migrate the ledger's tables to the latest schema."""
    with user_errors():
        eng = engine(check_schema=False)
        upgrade(eng)
        console.print(f"database at the latest schema: {_describe(eng)}")


def _describe(eng: Engine) -> str:
    if eng.dialect.name == "sqlite" and eng.url.database:
        path = Path(eng.url.database)
        return f"SQLite {path.relative_to(Path.cwd()) if path.is_relative_to(Path.cwd()) else path}"
    return eng.url.render_as_string(hide_password=True)


def _money(state: LineState, amount: int) -> str:
    return f"{format_amount(amount, state.line.currency)} {state.line.currency}"


def _print_line(state: LineState, as_of: date) -> None:
    table = Table(show_header=False, box=None)
    line = state.line
    dpd = dpd_as_of(state, as_of)
    for label, value in (
        ("account", line.account_id),
        ("customer", line.customer_id),
        ("status", line.status.value),
        ("opened on", line.opened_on.isoformat()),
        ("credit limit", _money(state, line.credit_limit)),
        ("outstanding principal", _money(state, state.principal_outstanding)),
        ("available credit", _money(state, state.available_credit)),
        ("drawdowns", str(len(state.drawdowns))),
        (f"days past due ({as_of})", f"{dpd} ({bucket_of(dpd)})"),
    ):
        table.add_row(label, value)
    console.print(table)


def _say(posted: PostingResult, text: str) -> None:
    """Print what a posting did, saying so when it was a retry that wrote nothing."""
    console.print(text + (DUPLICATE_NOTE if posted.duplicate else ""))


def _posted_json(posted: PostingResult) -> dict[str, Any]:
    return {**posted.result, "duplicate": posted.duplicate}


def _optional_key(text: str | None, field: str) -> str | None:
    return None if text is None else parse_key(text, field)


def _line_json(state: LineState) -> dict[str, Any]:
    line = asdict(state.line)
    line["status"] = state.line.status.value
    return {
        **line,
        "principal_outstanding": state.principal_outstanding,
        "available_credit": state.available_credit,
        "drawdowns": len(state.drawdowns),
    }


@line_app.command("open")
def line_open(
    account: str = typer.Option(..., "--account", help="Account id."),
    customer: str = typer.Option(..., "--customer", help="Customer id."),
    limit: str = typer.Option(..., "--limit", help="Credit limit in major units, e.g. 20000.00."),
    currency: str = typer.Option("CNY", "--currency"),
    on: str | None = ON,
    key: str | None = KEY,
    as_json: bool = JSON,
) -> None:
    """Open a credit line."""
    with user_errors():
        event = LineOpened(
            account_id=parse_id(account, "--account"),
            occurred_on=event_date(on),
            idempotency_key=new_key(key),
            customer_id=parse_id(customer, "--customer"),
            currency=currency,
            credit_limit=parse_amount(limit, currency, field="--limit", allow_zero=True),
        )
        posted = post_event(engine(), event)
        result = posted.result
        emit(
            as_json,
            _posted_json(posted),
            lambda: _say(
                posted,
                (
                    f"opened {account} for {customer}: limit "
                    f"{format_amount(result['credit_limit'], currency)} {currency}"
                ),
            ),
        )


@line_app.command("show")
def line_show(
    account: str = typer.Option(..., "--account"),
    as_of: str | None = typer.Option(None, "--as-of", help="Date for days past due; today if left out."),
    as_json: bool = JSON,
) -> None:
    """Show a line's limit, balance, available credit and days past due."""
    with user_errors():
        day = parse_date(as_of, "--as-of")
        state = read_state(engine(), parse_id(account, "--account"))
        emit(as_json, {**_line_json(state), "dpd": dpd_as_of(state, day)}, lambda: _print_line(state, day))


@line_app.command("set-limit")
def line_set_limit(
    account: str = typer.Option(..., "--account"),
    limit: str = typer.Option(..., "--limit", help="New credit limit in major units."),
    reason: str = typer.Option("manual_review", "--reason", help="Reason code for the change."),
    decision: str | None = typer.Option(None, "--decision", help="Decision reference."),
    on: str | None = ON,
    key: str | None = KEY,
    as_json: bool = JSON,
) -> None:
    """Change a line's credit limit (an event with a reason code)."""
    with user_errors():
        eng = engine()
        state = read_state(eng, parse_id(account, "--account"))
        event = LimitChanged(
            account_id=account,
            occurred_on=event_date(on),
            idempotency_key=new_key(key),
            new_limit=parse_amount(limit, state.line.currency, field="--limit", allow_zero=True),
            reason_code=parse_reason(reason, "--reason"),
            decision_ref=_optional_key(decision, "--decision"),
        )
        posted = post_event(eng, event)
        result = posted.result
        # A result stored by an earlier linewise has no previous limit: then only the new one is told.
        previous = result.get("previous_credit_limit")
        change = f"{_money(state, previous)} -> " if previous is not None else ""
        emit(
            as_json,
            _posted_json(posted),
            lambda: _say(posted, (f"{account}: limit {change}{_money(state, result['credit_limit'])} ({reason})")),
        )


def _status_command(new_status: LineStatus, verb: str, default_reason: str) -> Any:
    def command(
        account: str = typer.Option(..., "--account"),
        reason: str = typer.Option(default_reason, "--reason", help="Reason code."),
        decision: str | None = typer.Option(None, "--decision", help="Decision reference."),
        on: str | None = ON,
        key: str | None = KEY,
        as_json: bool = JSON,
    ) -> None:
        with user_errors():
            posted = post_event(
                engine(),
                StatusChanged(
                    account_id=parse_id(account, "--account"),
                    occurred_on=event_date(on),
                    idempotency_key=new_key(key),
                    new_status=new_status,
                    reason_code=parse_reason(reason, "--reason"),
                    decision_ref=_optional_key(decision, "--decision"),
                ),
            )
            emit(as_json, _posted_json(posted), lambda: _say(posted, f"{account}: {verb} ({reason})"))

    command.__doc__ = f"Mark a line {new_status.value} (an event with a reason code)."
    return command


@line_app.command("reverse")
def line_reverse(
    account: str = typer.Option(..., "--account"),
    event: str = typer.Option(..., "--event", help="Idempotency key of the event to take back."),
    reason: str = typer.Option(..., "--reason", help="Reason code, e.g. payment_returned."),
    on: str | None = ON,
    key: str | None = KEY,
    as_json: bool = JSON,
) -> None:
    """Take back an earlier event with a new reversing event; nothing is deleted."""
    with user_errors():
        posted = post_event(
            engine(),
            Reversal(
                account_id=parse_id(account, "--account"),
                occurred_on=event_date(on),
                idempotency_key=new_key(key),
                target_key=parse_key(event, "--event"),
                reason_code=parse_reason(reason, "--reason"),
            ),
        )
        result = posted.result
        emit(
            as_json,
            _posted_json(posted),
            lambda: _say(
                posted,
                (
                    f"{account}: reversed {event} ({reason}); outstanding principal "
                    f"{format_amount(result['principal_outstanding'], result['currency'])} "
                    f"{result['currency']}"
                ),
            ),
        )


line_app.command("freeze")(_status_command(LineStatus.FROZEN, "frozen", "manual_freeze"))
line_app.command("unfreeze")(_status_command(LineStatus.ACTIVE, "unfrozen", "manual_unfreeze"))
line_app.command("close")(_status_command(LineStatus.CLOSED, "closed", "customer_request"))


def draw(
    account: str = typer.Option(..., "--account"),
    amount: str = typer.Option(..., "--amount", help="Amount in major units, e.g. 3000.00."),
    term: int = typer.Option(..., "--term", help="Months; the product offers 3, 6, 12 or 24."),
    purpose: str = typer.Option("daily_consumption", "--purpose"),
    method: str = typer.Option(
        "equal_instalment", "--method", help="equal_instalment, equal_principal or interest_only."
    ),
    on: str | None = ON,
    key: str | None = KEY,
    as_json: bool = JSON,
) -> None:
    """Draw money against a line; prints the first instalment."""
    with user_errors():
        eng = engine()
        state = read_state(eng, parse_id(account, "--account"))
        product = load_product(Settings().product_file)
        event = drawdown_event(
            product,
            state,
            account_id=account,
            amount=parse_amount(amount, state.line.currency, field="--amount"),
            term_months=term,
            method=method,
            purpose=purpose,
            occurred_on=event_date(on),
            idempotency_key=new_key(key),
        )
        posted = post_event(eng, event)
        result = posted.result
        emit(
            as_json,
            _posted_json(posted),
            lambda: _say(
                posted,
                (
                    f"{account}: drew {_money(state, event.amount)} over {term} months "
                    f"({method}, {purpose}); first instalment {_money(state, result['first_instalment'])} "
                    f"due {result['first_due_on']}; available {_money(state, result['available_credit'])}"
                ),
            ),
        )


def repay(
    account: str = typer.Option(..., "--account"),
    amount: str = typer.Option(..., "--amount", help="Amount in major units."),
    on: str | None = ON,
    key: str | None = KEY,
    as_json: bool = JSON,
) -> None:
    """Post a repayment: penalty, then interest, then principal, oldest due first."""
    with user_errors():
        eng = engine()
        state = read_state(eng, parse_id(account, "--account"))
        event = RepaymentPosted(
            account_id=account,
            occurred_on=event_date(on),
            idempotency_key=new_key(key),
            amount=parse_amount(amount, state.line.currency, field="--amount"),
        )
        posted = post_event(eng, event)
        parts = posted.result["allocated"]
        emit(
            as_json,
            _posted_json(posted),
            lambda: _say(
                posted,
                (
                    f"{account}: repaid {_money(state, event.amount)} -> penalty "
                    f"{_money(state, parts['penalty'])}, interest {_money(state, parts['interest'])}, "
                    f"principal {_money(state, parts['principal'])}; outstanding "
                    f"{_money(state, posted.result['principal_outstanding'])}"
                ),
            ),
        )


def _on_time_label(value: bool | None) -> str:
    return {True: "yes", False: "no", None: "-"}[value]


def _statement_json(st: Statement) -> dict[str, Any]:
    return {
        "account_id": st.state.line.account_id,
        "as_of": st.as_of.isoformat(),
        "dpd": st.dpd,
        "bucket": st.bucket,
        "payoff": st.payoff,
        "credit_limit": st.state.line.credit_limit,
        "status": st.state.line.status.value,
        "principal_outstanding": st.state.principal_outstanding,
        "drawdowns": [
            {
                "seq": d.seq,
                "drawn_on": d.drawn_on.isoformat(),
                "principal": d.principal,
                "term_months": d.term_months,
                "method": d.method.value,
                "purpose": d.purpose,
                "instalments": [{**asdict(i), "on_time": is_instalment_on_time(d, i, st.as_of)} for i in d.instalments],
            }
            for d in st.state.drawdowns
        ],
        "repayments": [
            {"on": on.isoformat(), "key": key, "amount": amount, "allocated": parts}
            for on, key, amount, parts in st.repayments
        ],
    }


def _print_statement(st: Statement) -> None:
    state = st.state
    cur = state.line.currency
    console.print(
        f"[bold]{escape(state.line.account_id)}[/] as of {st.as_of}: limit "
        f"{_money(state, state.line.credit_limit)}, status {state.line.status.value}",
        markup=True,
    )
    for d in state.drawdowns:
        table = Table(
            title=f"drawdown {d.seq}: {_money(state, d.principal)} on {d.drawn_on}, "
            f"{d.term_months} months, {d.method.value}",
            title_justify="left",
        )
        for column in ("#", "due", "principal", "interest", "paid", "penalty", "on time"):
            table.add_column(column, justify="right" if column not in ("due", "on time") else "left")
        for i in d.instalments:
            table.add_row(
                str(i.number),
                i.due_on.isoformat(),
                format_amount(i.principal_due, cur),
                format_amount(i.interest_due, cur),
                format_amount(i.principal_paid + i.interest_paid, cur),
                format_amount(i.penalty_accrued, cur),
                _on_time_label(is_instalment_on_time(d, i, st.as_of)),
            )
        console.print(table)
    for on, _key, amount, parts in st.repayments:
        console.print(
            f"payment {on}: {format_amount(amount, cur)} (penalty "
            f"{format_amount(parts['penalty'], cur)}, interest "
            f"{format_amount(parts['interest'], cur)}, principal "
            f"{format_amount(parts['principal'], cur)})"
        )
    console.print(
        f"days past due: {st.dpd} ({st.bucket}); outstanding principal "
        f"{_money(state, state.principal_outstanding)}; payoff today {_money(state, st.payoff)}"
    )


def statement_command(
    account: str = typer.Option(..., "--account"),
    as_of: str | None = typer.Option(None, "--as-of", help="YYYY-MM-DD; today if left out."),
    as_json: bool = JSON,
) -> None:
    """Schedule, payments and days past due of an account as of a date."""
    with user_errors():
        day = parse_date(as_of, "--as-of")
        st = statement(engine(), parse_id(account, "--account"), day)
        emit(as_json, _statement_json(st), lambda: _print_statement(st))


@panel_app.command("export")
def panel_export(
    out: Path = typer.Option(..., "--out", help="Parquet file to write."),
    as_of: str | None = typer.Option(None, "--as-of", help="Last month end to include; today if left out."),
    account: str | None = typer.Option(None, "--account", help="One account only."),
    as_json: bool = JSON,
) -> None:
    """Write the month-end panel (one row per account and month) to Parquet."""
    with user_errors():
        if out.suffix != ".parquet":
            raise InputError.for_field(
                "out_must_be_parquet", where="--out", field="--out", rule="a path ending in .parquet", value=str(out)
            )
        check_output_file(out)
        day = parse_date(as_of, "--as-of")
        panel = export_panel(engine(), day, None if account is None else parse_id(account, "--account"))
        out.parent.mkdir(parents=True, exist_ok=True)
        panel.to_parquet(out, index=False)
        summary = {
            "out": str(out),
            "rows": len(panel),
            "accounts": int(panel["account_id"].nunique()),
            "months": int(panel["month"].nunique()),
        }
        emit(
            as_json,
            summary,
            lambda: console.print(
                f"wrote {summary['rows']} panel rows ({summary['accounts']} accounts x "
                f"{summary['months']} months) to {out}"
            ),
        )
