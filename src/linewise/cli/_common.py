"""What every CLI command shares: the engine, parsing, errors and output."""

from __future__ import annotations

import json
import sys
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from typing import Any, NoReturn

import typer
from rich.console import Console
from rich.markup import escape
from sqlalchemy import Engine

from linewise.calendar import parse_iso_date
from linewise.config import Settings
from linewise.errors import InputError, LinewiseError
from linewise.inputs import check_event_date, parse_key
from linewise.ledger.service import require_schema
from linewise.ledger.store import create_store_engine

# Output holds user data (ids, reasons, file names), so neither console reads markup
# or emoji codes in what it prints; a command that wants style passes markup=True
# and escapes the data it interpolates (rich.markup.escape).
console = Console(highlight=False, soft_wrap=True, markup=False, emoji=False)
err_console = Console(stderr=True, highlight=False, soft_wrap=True, emoji=False)

STATE: dict[str, bool] = {"debug": False}


def fail(message: str) -> NoReturn:
    """Print one error line and exit 2."""
    err_console.print(f"[bold red]error:[/] {escape(message)}")
    raise typer.Exit(code=2)


@contextmanager
def user_errors() -> Iterator[None]:
    """Turn linewise's errors into one line on stderr and exit code 2."""
    try:
        yield
    except LinewiseError as exc:
        if STATE["debug"]:
            raise
        code = f" [{exc.code}]" if isinstance(exc, InputError) else ""
        fail(f"{exc}{code}")


def engine(*, check_schema: bool = True) -> Engine:
    """The store engine from LINEWISE_DATABASE_URL (a SQLite file by default)."""
    url = Settings().resolved_database_url()
    eng = create_store_engine(url)
    if check_schema:
        require_schema(eng)
    return eng


def today() -> date:
    """Today's date on this machine: the one place the CLI reads the clock."""
    return date.today()  # noqa: DTZ011 - the CLI is where the clock is read


def parse_date(text: str | None, field: str) -> date:
    """An ISO date (YYYY-MM-DD, years 1900-2199); today when ``text`` is None."""
    return today() if text is None else parse_iso_date(text, field)


def event_date(text: str | None, field: str = "--on") -> date:
    """The date of a new event: as :func:`parse_date`, and at most a day after today."""
    return check_event_date(parse_date(text, field), field, today=today())


def new_key(key: str | None) -> str:
    """The caller's idempotency key (checked by :func:`linewise.inputs.parse_key`), or a fresh one."""
    return uuid.uuid4().hex if key is None else parse_key(key, "--key")


def emit(as_json: bool, payload: dict[str, Any], render: Callable[[], None]) -> None:
    """Print ``payload`` as JSON, or call ``render`` for people."""
    if as_json:
        sys.stdout.write(json.dumps(payload, indent=2, sort_keys=True, default=str, ensure_ascii=False) + "\n")
    else:
        render()
