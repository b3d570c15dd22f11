"""What every CLI command shares: the engine, parsing, errors and output."""

from __future__ import annotations

import errno
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
from sqlalchemy.exc import OperationalError

from linewise.calendar import parse_iso_date
from linewise.config import Settings
from linewise.errors import DatabaseUnreachableError, InputError, LinewiseError
from linewise.explain.formatting import LANGUAGES, Language
from linewise.inputs import check_event_date, parse_key
from linewise.ledger.service import require_schema
from linewise.ledger.store import check_connection, create_store_engine
from linewise.ledger.store.engine import first_line

# Output holds user data (ids, reasons, file names), so neither console reads markup
# or emoji codes in what it prints; a command that wants style passes markup=True
# and escapes the data it interpolates (rich.markup.escape).
console = Console(highlight=False, soft_wrap=True, markup=False, emoji=False)
err_console = Console(stderr=True, highlight=False, soft_wrap=True, emoji=False)

STATE: dict[str, bool] = {"debug": False}


# Exit statuses (README, "When something is wrong"): 1 is a command's own "not clean"
# answer (replay differences); Python's own crash is 1 too, with a traceback.
EXIT_BAD_INPUT = 2
EXIT_DATABASE_UNREACHABLE = 3

# What an OSError's errno says about a path a user gave: the code and the rule broken.
_FILE_ERRORS = {
    errno.ENOENT: ("file_not_found", "an existing file or folder"),
    errno.EISDIR: ("file_is_a_directory", "a file, not a directory"),
    errno.ENOTDIR: ("path_under_a_file", "a path whose folders are folders, not files"),
    errno.EEXIST: ("path_exists", "a path not taken by a file"),
    errno.EACCES: ("permission_denied", "a path linewise may read and write"),
    errno.EPERM: ("permission_denied", "a path linewise may read and write"),
    errno.ENOSPC: ("disk_full", "on a disk with room"),
    errno.EROFS: ("read_only_file_system", "on a writable file system"),
}


def print_error(message: str) -> None:
    """Print ``message`` as the one ``error:`` line on stderr (never read as markup)."""
    err_console.print(f"[bold red]error:[/] {escape(message)}")


def fail(message: str, *, status: int = EXIT_BAD_INPUT) -> NoReturn:
    """Print one error line and exit with ``status`` (2, bad input, unless told)."""
    print_error(message)
    raise typer.Exit(code=status)


@contextmanager
def user_errors() -> Iterator[None]:
    """Turn every expected failure into one line on stderr, with its code, and an exit status.

    Exit 3 when the database cannot be reached (the same command may work later);
    2 for linewise's own errors and for files the system refuses (missing, a
    directory, no permission). ``--debug`` shows the traceback instead.
    """
    try:
        yield
    except (LinewiseError, OSError, OperationalError) as exc:
        if STATE["debug"]:
            raise
        message, status = _one_line(exc)
        fail(message.translate(_CONTROL_SHOWN), status=status)


# A path or value may hold a newline or another control character (a file named
# "\n"): shown escaped, so that the error stays one line a script can read.
_CONTROL_SHOWN = {code: f"\\x{code:02x}" for code in (*range(0x20), 0x7F)} | {0x0A: "\\n", 0x0D: "\\r", 0x09: "\\t"}


def _one_line(exc: LinewiseError | OSError | OperationalError) -> tuple[str, int]:
    """The line that tells ``exc``, ending in its code, and the exit status."""
    if isinstance(exc, DatabaseUnreachableError):
        return f"{exc} [{exc.code}]", EXIT_DATABASE_UNREACHABLE
    if isinstance(exc, OperationalError):  # the connection was lost after it was made
        shown = first_line(exc.orig)
        return (
            f"database: database must be reachable; got {shown!r} [database_unreachable]",
            EXIT_DATABASE_UNREACHABLE,
        )
    if isinstance(exc, OSError):
        code, rule = _FILE_ERRORS.get(exc.errno or 0, ("file_error", "a usable file"))
        where = exc.filename if exc.filename is not None else "file"
        return f"{where}: path must be {rule}; got {exc.strerror or str(exc)!r} [{code}]", EXIT_BAD_INPUT
    return f"{exc} [{exc.code}]", EXIT_BAD_INPUT


def engine(*, check_schema: bool = True) -> Engine:
    """The store engine from LINEWISE_DATABASE_URL (a SQLite file by default), connected once.

    Refuses a URL linewise cannot use (exit 2) and a database it cannot reach (exit 3)
    before any work starts; with ``check_schema`` it also refuses a database not at the
    latest schema, without creating a missing SQLite file.
    """
    settings = Settings()
    source = "LINEWISE_DATABASE_URL" if settings.database_url else "database URL"
    eng = create_store_engine(settings.resolved_database_url(), source=source)
    check_connection(eng, create=not check_schema)
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


def parse_language(text: str, field: str = "--lang") -> Language:
    """A language linewise writes notices in (zh or en); ``language_unknown`` otherwise."""
    for language in LANGUAGES:
        if text == language:
            return language
    raise InputError.for_field(
        "language_unknown", where=field, field=field, rule=f"one of {list(LANGUAGES)}", value=text
    )


def new_key(key: str | None) -> str:
    """The caller's idempotency key (checked by :func:`linewise.inputs.parse_key`), or a fresh one."""
    return uuid.uuid4().hex if key is None else parse_key(key, "--key")


def emit(as_json: bool, payload: dict[str, Any], render: Callable[[], None]) -> None:
    """Print ``payload`` as JSON, or call ``render`` for people."""
    if as_json:
        sys.stdout.write(json.dumps(payload, indent=2, sort_keys=True, default=str, ensure_ascii=False) + "\n")
    else:
        render()
