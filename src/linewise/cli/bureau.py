"""Bureau commands: the credit-report view of an account, and the bureau's monthly file."""

from __future__ import annotations

import contextlib
import csv
import sys
import uuid
from collections.abc import Iterable
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from linewise.cli._common import console, emit, engine, today, user_errors
from linewise.cli._output import check_output_file
from linewise.inputs import parse_id
from linewise.ledger.bureau import BureauRecord, RecordType
from linewise.ledger.bureau_file import csv_header, csv_row, last_reported_month, parse_reporting_month, record_json
from linewise.ledger.credit_report import account_report, book_report
from linewise.money import format_amount

bureau_app = typer.Typer(
    help="What the lender reports to the credit bureau: an account's view, the monthly file.", no_args_is_help=True
)

JSON = typer.Option(False, "--json", help="Machine-readable output.")
LEGEND = (
    "status (n): n months late. history: oldest month first, this month last; "
    "/ not yet open, N not past due, 1-7 months late, C paid off or closed"
)


_TABLE_WIDTH = 160


def _money(amount: int | None, currency: str) -> str:
    return "-" if amount is None else format_amount(amount, currency)


def _print_report(account: str, records: tuple[BureauRecord, ...]) -> None:
    line = records[0]
    console.print(f"{account} (customer {line.customer_id}, {line.currency}) as reported for {line.month:%Y-%m}")
    table = Table(box=None)
    for column in ("record", "type", "opened", "limit/amount", "term", "balance", "past due", "status", "history"):
        table.add_column(
            column, justify="right" if column in ("limit/amount", "term", "balance", "past due") else "left"
        )
    for r in records:
        amount = r.credit_limit if r.record_type is RecordType.LINE else r.original_amount
        status = f"{r.status.value} ({r.months_late})" if r.months_late else r.status.value
        table.add_row(
            r.record_ref,
            r.record_type.value,
            r.opened_on.isoformat(),
            _money(amount, r.currency),
            "-" if r.term_months is None else str(r.term_months),
            _money(r.balance, r.currency),
            _money(r.amount_past_due, r.currency),
            status,
            r.history,
        )
    # As wide as the records need (the terminal wraps it): a history cut short would say nothing.
    wide = Console(file=sys.stdout, width=max(console.width, _TABLE_WIDTH), highlight=False, markup=False, emoji=False)
    wide.print(table)
    console.print(LEGEND)


@bureau_app.command("show")
def bureau_show(
    account: str = typer.Option(..., "--account", help="Account id."),
    month: str | None = typer.Option(None, "--month", help="YYYY-MM, a month already over; last month if left out."),
    as_json: bool = JSON,
) -> None:
    """Show what the lender reports for an account's line and each of its loans for a month."""
    with user_errors():
        day = today()
        end = last_reported_month(day) if month is None else parse_reporting_month(month, "--month", today=day)
        account_id = parse_id(account, "--account")
        records = account_report(engine(), account_id, end)
        payload = {"account_id": account_id, "month": f"{end:%Y-%m}", "records": [record_json(r) for r in records]}
        emit(as_json, payload, lambda: _print_report(account_id, records))


def _write_csv(records: Iterable[BureauRecord], out: Path) -> dict[str, int]:
    """Write the file whole or not at all: into a temporary file beside ``out``, then renamed over it."""
    out.parent.mkdir(parents=True, exist_ok=True)
    counts = {"lines": 0, "loans": 0}
    temporary = out.parent / f".{out.name}.{uuid.uuid4().hex}.part"
    try:
        with temporary.open("x", encoding="utf-8", newline="") as stream:
            writer = csv.writer(stream, lineterminator="\n")
            writer.writerow(csv_header())
            for record in records:
                writer.writerow(csv_row(record))
                counts["lines" if record.record_type is RecordType.LINE else "loans"] += 1
        temporary.replace(out)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return counts


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"


@bureau_app.command("export")
def bureau_export(
    month: str = typer.Option(..., "--month", help="YYYY-MM, a month already over."),
    out: Path = typer.Option(..., "--out", help="CSV file to write (README: 'The credit bureau')."),
    as_json: bool = JSON,
) -> None:
    """Write the bureau's monthly file: one record per line and per loan open in the month."""
    with user_errors():
        end = parse_reporting_month(month, "--month", today=today())
        check_output_file(out)
        # Closed when done or failed, so the snapshot it reads from is never left open.
        with contextlib.closing(book_report(engine(), end)) as records_read:
            counts = _write_csv(records_read, out)
        records = counts["lines"] + counts["loans"]
        summary = {"out": str(out), "month": f"{end:%Y-%m}", "records": records, **counts}
        emit(
            as_json,
            summary,
            lambda: console.print(
                f"wrote {_count(records, 'record')} ({_count(counts['lines'], 'line')}, "
                f"{_count(counts['loans'], 'loan')}) for {end:%Y-%m} to {out}"
            ),
        )
