"""`linewise demo`: a fresh SQLite ledger with a simulated book, then a portfolio summary."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd
import typer
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from linewise.calendar import add_months, month_end, parse_iso_date
from linewise.cli._common import console, user_errors
from linewise.cli._output import check_output_file
from linewise.ledger.book import BookSpec, simulate_book
from linewise.ledger.dpd import BUCKETS, bucket_of
from linewise.ledger.service import export_panel, load_product, post_book
from linewise.ledger.store import create_store_engine, upgrade
from linewise.money import format_amount


def demo(
    accounts: int = typer.Option(1000, "--accounts", min=1, max=100_000, help="Lines to simulate."),
    months: int = typer.Option(12, "--months", min=1, max=60),
    seed: int = typer.Option(7, "--seed", min=0, max=2**63 - 1, help="Same seed, same book."),
    start: str = typer.Option("2025-01-01", "--start", help="First month of the book."),
    db: Path = typer.Option(Path("demo/linewise-demo.db"), "--db", help="SQLite file (replaced)."),
) -> None:
    """Simulate a book of credit lines in a fresh SQLite ledger and summarise it."""
    with user_errors():
        # Every value is checked before the old demo ledger is removed.
        first = parse_iso_date(start, "--start")
        check_output_file(db, option="--db")
        db.parent.mkdir(parents=True, exist_ok=True)
        for suffix in ("", "-wal", "-shm"):
            Path(f"{db}{suffix}").unlink(missing_ok=True)
        engine = create_store_engine(f"sqlite:///{db}")
        upgrade(engine)
        spec = BookSpec(accounts, months, first, seed)
        product = load_product(None)
        with Progress(
            TextColumn("posting the book"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=console
        ) as progress:
            task = progress.add_task("lines", total=accounts)
            posted = post_book(
                engine, simulate_book(spec, product), on_batch=lambda lines: progress.advance(task, lines)
            )
        as_of = month_end(add_months(spec.start, months - 1))
        panel = export_panel(engine, as_of)
        console.print(f"{posted.events:,} events posted to {db}")
        _summarise(panel, as_of, product.currency)


def _summarise(panel: pd.DataFrame, as_of: date, currency: str) -> None:
    last = panel[panel["month"] == as_of]
    table = Table(title=f"portfolio at {as_of}", show_header=False, title_justify="left")
    table.add_row("lines", f"{len(last):,}")
    table.add_row("total limits", f"{format_amount(int(last['credit_limit'].sum()), currency)} {currency}")
    table.add_row("outstanding principal", f"{format_amount(int(last['balance'].sum()), currency)} {currency}")
    table.add_row("utilisation", f"{last['balance'].sum() / max(1, last['credit_limit'].sum()):.1%}")
    counts = last["dpd"].map(bucket_of).value_counts()
    for bucket in BUCKETS:
        share = counts.get(bucket, 0) / max(1, len(last))
        table.add_row(f"bucket {bucket}", f"{counts.get(bucket, 0):,} ({share:.1%})")
    judged = panel["on_time"].dropna()
    table.add_row(
        "on-time months (all months)", f"{judged.mean():.1%} of {len(judged):,} account-months with a due date"
    )
    console.print(table)
