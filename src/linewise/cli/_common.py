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

from linewise.config import Settings
from linewise.errors import InputError, LinewiseError
from linewise.ledger.service import require_schema
from linewise.ledger.store import create_store_engine

console = Console(highlight=False, soft_wrap=True)
err_console = Console(stderr=True, highlight=False, soft_wrap=True)

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


def parse_date(text: str | None, field: str) -> date:
    """An ISO date (YYYY-MM-DD); today when ``text`` is None."""
    if text is None:
        return date.today()  # noqa: DTZ011 - the CLI is where the clock is read
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InputError.for_field("date_malformed", where=field, field=field,
                                   rule="a date as YYYY-MM-DD", value=text) from None


def new_key(key: str | None) -> str:
    """The caller's idempotency key, or a fresh one."""
    return key if key else uuid.uuid4().hex


def emit(as_json: bool, payload: dict[str, Any], render: Callable[[], None]) -> None:
    """Print ``payload`` as JSON, or call ``render`` for people."""
    if as_json:
        sys.stdout.write(json.dumps(payload, indent=2, sort_keys=True, default=str, ensure_ascii=False) + "\n")
    else:
        render()
