"""Engines for SQLite (WAL, immediate transactions) and PostgreSQL; Alembic upgrade.

A URL linewise cannot use is refused before any connection (``database_url_invalid``);
a database that cannot be reached or opened is refused with
:class:`~linewise.errors.DatabaseUnreachableError`, never with a driver's traceback.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError

from linewise.errors import (
    DatabaseNotInitialisedError,
    DatabaseUnreachableError,
    InputError,
)

__all__ = ["check_connection", "create_store_engine", "database_url", "first_line", "is_at_head", "upgrade"]

_MIGRATIONS = Path(__file__).parent / "migrations"
# The store's SQL is written for these two, through these drivers.
_DRIVERS = {
    "sqlite": ("sqlite", "sqlite+pysqlite"),
    "postgresql": ("postgresql", "postgresql+psycopg"),
    "postgres": ("postgres",),
}  # as many hosting services write it
_URL_FORMS = "sqlite:///FILE or postgresql://USER@HOST:PORT/DATABASE"
# A server that does not answer is reported after this long, not after the OS's minutes.
CONNECT_TIMEOUT_S = 10


def database_url(text: str, *, source: str = "database URL") -> URL:
    """``text`` as a URL of a database linewise can use: SQLite or PostgreSQL (psycopg).

    Raises :class:`InputError` (``database_url_invalid``) naming ``source`` (where the
    URL came from, e.g. the setting) and the URL with any password masked.
    """
    try:
        url = make_url(text)
        url.port  # noqa: B018 - parsed here, so that "host:abc" fails now, not at connect
    except (ArgumentError, ValueError):
        url = None
    if url is None or url.drivername not in _DRIVERS.get(url.get_backend_name(), ()):
        raise InputError.for_field(
            "database_url_invalid", where=source, field="the database URL", rule=_URL_FORMS, value=_masked(text)
        )
    return url


def _masked(text: str) -> str:
    """``text`` with the password of a ``scheme://user:password@host`` URL replaced by ***."""
    return re.sub(r"(://[^/@:]*:)[^@/]*@", r"\1***@", text)


def create_store_engine(url: str, *, source: str = "database URL") -> Engine:
    """An engine for ``url``; SQLite gets WAL and ``BEGIN IMMEDIATE`` transactions.

    Immediate transactions take SQLite's write lock up front, so concurrent
    writers wait (up to 30 s) instead of failing half-way with "database is locked".
    Raises :class:`InputError` for a URL :func:`database_url` refuses; connects lazily.
    """
    parsed = database_url(url, source=source)
    if parsed.get_backend_name() == "sqlite":
        engine = create_engine(parsed, connect_args={"timeout": 30})
        event.listen(engine, "connect", _sqlite_on_connect)
        event.listen(engine, "begin", _sqlite_begin_immediate)
        return engine
    connect_args = {} if "connect_timeout" in parsed.query else {"connect_timeout": CONNECT_TIMEOUT_S}
    return create_engine(
        parsed.set(drivername="postgresql+psycopg"),
        pool_size=16,
        max_overflow=8,
        pool_pre_ping=True,
        connect_args=connect_args,
    )


def check_connection(engine: Engine, *, create: bool = True) -> None:
    """Connect once, so that an unreachable database is found before any work starts.

    Raises :class:`DatabaseUnreachableError` with the driver's first line (or, for
    SQLite, the missing folder). With ``create`` False a missing SQLite file is not
    created: it raises :class:`DatabaseNotInitialisedError` instead.
    """
    # As the user writes it: postgresql://, not the driver linewise picked.
    shown = engine.url.set(drivername=engine.dialect.name).render_as_string(hide_password=True)
    database = engine.url.database
    if engine.dialect.name == "sqlite" and database and database != ":memory:":
        path = Path(database)
        if not path.parent.is_dir():
            raise DatabaseUnreachableError(
                shown, str(path.parent), code="database_folder_missing", rule="in an existing folder"
            )
        if not create and not path.exists():
            raise DatabaseNotInitialisedError(shown)
    try:
        with engine.connect():
            pass
    except DBAPIError as exc:
        raise DatabaseUnreachableError(shown, first_line(exc.orig)) from None


def first_line(error: BaseException | None) -> str:
    """The first line of a driver's error message, without psycopg's repeated prefix."""
    text = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    return text.removeprefix("connection failed: ")


def _sqlite_on_connect(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy, not the sqlite3 module, decide when transactions begin.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _sqlite_begin_immediate(connection: Any) -> None:
    connection.exec_driver_sql("BEGIN IMMEDIATE")


def _alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS))
    config.attributes["engine"] = engine
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the database schema to ``revision`` (the latest by default)."""
    command.upgrade(_alembic_config(engine), revision)


def is_at_head(engine: Engine) -> bool:
    """Whether the database's schema is the latest migration."""
    script = ScriptDirectory.from_config(_alembic_config(engine))
    with engine.connect() as conn:
        current = MigrationContext.configure(conn).get_current_revision()
        conn.rollback()
    return current == script.get_current_head()
