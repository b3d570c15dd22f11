"""Shared fixtures: a SQLite file store and a PostgreSQL store in its own database.

Also the hypothesis profiles. ``ci`` (chosen when CI is set, or by
HYPOTHESIS_PROFILE=ci) tries each property's full number of examples; ``dev``, the
default, a quarter of them, so that the loop on a laptop stays short while every
property is still tried on every run. A test that sets its own count writes the
count CI tries as ``scaled(n)`` (tests/strategies.py).
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest
from hypothesis import settings
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from tests.pg_copies import Contents, put_back, read_contents

from linewise.ledger.store import create_store_engine, upgrade

PG_HELP = (
    "PostgreSQL tests need a server: set LINEWISE_TEST_DATABASE_URL, e.g. postgresql://postgres@127.0.0.1:5432/postgres"
)
_DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/postgres"

# What makes a test slow without a marker of its own: the monotone GBM on the whole UCI
# portfolio. Fitting it is quick (under a second), but what is made with it is not: the
# whole portfolio decided with reasons and recourse (about 9 s, once a session), the
# promises lived on it, recourse steps dropped one by one.
_SLOW_FIXTURES = frozenset({"uci_gbm"})
# What needs PostgreSQL without a parameter that says so.
_POSTGRES_FIXTURES = frozenset({"pg_engine", "pg_server_url"})


# First: pytest-xdist's worker reads the xdist_group markers in this same hook (to name
# each test's group), and a plain hook of a conftest runs after it, too late to count.
@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        fixtures = set(getattr(item, "fixturenames", ()))
        if fixtures & _SLOW_FIXTURES:
            item.add_marker(pytest.mark.slow)
        if fixtures & _POSTGRES_FIXTURES:
            item.add_marker(pytest.mark.postgres)
        # Under pytest-xdist (--dist loadgroup) a group runs on one worker: a module's
        # tests share its fixtures (models fitted, Spark started) once, and every test
        # of the whole-UCI GBM goes where that model was fitted, instead of each
        # worker fitting its own.
        # A module marked ``spread`` shares nothing costly between its tests: each goes
        # where a worker is free.
        if fixtures & _SLOW_FIXTURES:
            group = "uci_gbm"
        elif item.get_closest_marker("spread"):
            group = item.nodeid
        else:
            group = item.nodeid.split("::")[0]
        item.add_marker(pytest.mark.xdist_group(group))


settings.register_profile("ci", max_examples=100)
settings.register_profile("dev", max_examples=25)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if os.environ.get("CI") else "dev"))


def _admin_url() -> str | None:
    forced = os.environ.get("LINEWISE_TEST_DATABASE_URL")
    if forced:
        return forced
    try:
        probe = create_store_engine(_DEFAULT_PG)
        with probe.connect():
            pass
        probe.dispose()
    except Exception:  # noqa: BLE001 - any failure means "no server here"
        return None
    return _DEFAULT_PG


class StoreTemplates:
    """Stores filled once per session and copied for every test that asks.

    Migrating a new database costs a tenth of a second or more, and a simulated book
    seconds to post; a copy costs a few milliseconds (a SQLite file copied, a
    PostgreSQL database created from a template). ``engine(kind, key, fill)`` gives a
    fresh copy of the store that ``fill`` made from a migrated one, under ``key``.
    """

    def __init__(self, directory: Path) -> None:
        self._directory = directory
        self._pg: dict[str, str] = {}
        self._pg_contents: dict[str, Contents | None] = {}
        self._pg_copies: set[str] = set()
        self._pg_server: str | None = None

    def sqlite(self, key: str, fill: Callable[[Engine], object] | None, into: Path) -> Engine:
        template = self._directory / f"{key}.db"
        if not template.exists():
            made = create_store_engine(f"sqlite:///{template}")
            upgrade(made)
            if fill is not None:
                fill(made)
            made.dispose()
        shutil.copyfile(template, into)
        return create_store_engine(f"sqlite:///{into}")

    @contextmanager
    def postgresql(self, server_url: str, key: str, fill: Callable[[Engine], object] | None) -> Iterator[Engine]:
        """A database holding what ``fill`` stored: a new copy of the template, or one a test gave back, put back."""
        self._pg_server = server_url
        if key not in self._pg:
            with _database(server_url, template=None) as (made, name):
                upgrade(made)
                if fill is not None:
                    fill(made)
                made.dispose()
                self._pg[key] = name
                self._pg_contents[key] = read_contents(_conninfo(made))
        contents = self._pg_contents[key]
        admin = _admin_engine(server_url)
        if contents is not None and contents.idle:
            name = contents.idle.pop()
        else:
            name = f"linewise_test_{uuid.uuid4().hex[:12]}"
            with admin.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{self._pg[key]}"'))
            self._pg_copies.add(name)
        engine = create_store_engine(admin.url.set(database=name).render_as_string(hide_password=False))
        try:
            yield engine
        finally:
            engine.dispose()
            if contents is not None and _put_back(_conninfo(engine), contents):
                contents.idle.append(name)
            else:
                self._pg_copies.discard(name)
                with admin.connect() as conn:
                    conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()

    def drop(self) -> None:
        if self._pg_server is None:
            return
        admin = _admin_engine(self._pg_server)
        with admin.connect() as conn:
            for name in [*self._pg_copies, *self._pg.values()]:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _conninfo(engine: Engine) -> str:
    """``engine``'s database as a libpq URI (for psycopg itself)."""
    return engine.url.set(drivername="postgresql").render_as_string(hide_password=False)


def _put_back(conninfo: str, contents: Contents) -> bool:
    try:
        return put_back(conninfo, contents)
    except psycopg.Error:
        return False


def _admin_engine(server_url: str) -> Engine:
    return create_engine(make_url(create_store_engine(server_url).url), isolation_level="AUTOCOMMIT")


@contextmanager
def _database(server_url: str, *, template: str | None) -> Iterator[tuple[Engine, str]]:
    """A new database on ``server_url`` (a copy of ``template`` when given); dropped on leaving unless kept.

    A database made as a template (``template`` None) is kept: its owner drops it.
    """
    name = f"linewise_test_{uuid.uuid4().hex[:12]}"
    admin = _admin_engine(server_url)
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else "")))
    engine = create_store_engine(admin.url.set(database=name).render_as_string(hide_password=False))
    try:
        yield engine, name
    finally:
        engine.dispose()
        if template is not None:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def store_templates(tmp_path_factory) -> Iterator[StoreTemplates]:
    templates = StoreTemplates(tmp_path_factory.mktemp("store-templates"))
    yield templates
    templates.drop()


@pytest.fixture
def sqlite_engine(tmp_path, store_templates) -> Iterator[Engine]:
    engine = store_templates.sqlite("migrated", None, tmp_path / "ledger.db")
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def pg_server_url() -> str:
    url = _admin_url()
    if url is None:
        if os.environ.get("CI"):
            pytest.fail(PG_HELP)
        pytest.skip(PG_HELP)
    return url


@contextmanager
def fresh_pg_engine(server_url: str) -> Iterator[Engine]:
    """A new PostgreSQL database on ``server_url``, migrated, dropped on leaving."""
    with _database(server_url, template=None) as (engine, name):
        try:
            upgrade(engine)
            yield engine
        finally:
            engine.dispose()
            admin = _admin_engine(server_url)
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()


@pytest.fixture
def pg_engine(pg_server_url, store_templates) -> Iterator[Engine]:
    """A fresh PostgreSQL database, migrated, dropped after the test."""
    with store_templates.postgresql(pg_server_url, "migrated", None) as engine:
        yield engine


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def engine(request) -> Engine:
    """The store on each database linewise supports."""
    return request.getfixturevalue("sqlite_engine" if request.param == "sqlite" else "pg_engine")


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def filled_engine(request, tmp_path, store_templates) -> Callable[[str, Callable[[Engine], object]], Engine]:
    """``filled_engine(key, fill)``: a store of its own holding what ``fill`` stores, on each database.

    ``fill`` runs once per session and database for each ``key``, on a migrated store;
    every test gets a copy, so that what one test writes no other sees.
    """

    def make(key: str, fill: Callable[[Engine], object]) -> Engine:
        if request.param == "sqlite":
            engine = store_templates.sqlite(key, fill, tmp_path / f"{key}.db")
            request.addfinalizer(engine.dispose)
            return engine
        copy = store_templates.postgresql(request.getfixturevalue("pg_server_url"), key, fill)
        engine = copy.__enter__()
        request.addfinalizer(lambda: copy.__exit__(None, None, None))
        return engine

    return make


@pytest.fixture(scope="session")
def uci():
    """The bundled real portfolio (30,000 UCI Taiwan accounts x 6 months)."""
    from linewise.data.importers.uci_taiwan import uci_portfolio

    return uci_portfolio()


@pytest.fixture(scope="session")
def uci_inputs(uci):
    """The UCI portfolio's registry features and outcome flags."""
    from linewise.models.inputs import inputs_from_portfolio

    return inputs_from_portfolio(uci)


@pytest.fixture(scope="session")
def uci_gbm(uci_inputs):
    """A monotone GBM fitted in-sample on UCI: tests of what comes after the model use it."""
    from linewise.features import REGISTRY
    from linewise.models.gbm import GradientBoostedModel

    monotone = {name: REGISTRY[name].risk_direction.sign for name in uci_inputs.features.columns if name in REGISTRY}
    return GradientBoostedModel(monotone=monotone).fit(uci_inputs.features, uci_inputs.bad)


@pytest.fixture(scope="session")
def default_strategy():
    """The shipped default strategy, compiled."""
    from linewise.strategy import default_strategy_text, read_strategy
    from linewise.strategy.compiled import compile_strategy

    return compile_strategy(read_strategy(default_strategy_text()))


@pytest.fixture(scope="session")
def uci_history(uci):
    """What the UCI features at the last month are computed from, for living promises on."""
    from tests.decide.common import AS_OF

    from linewise.features.projection import history_of

    return history_of(uci.panel, uci.customers, AS_OF)


@pytest.fixture(scope="session")
def uci_decided(uci_inputs, uci_gbm, default_strategy, uci_history):
    """The default strategy's decisions, with reasons and recourse, for the whole UCI portfolio."""
    from tests.decide.common import AS_OF, MODEL_REF

    from linewise.decide import decide
    from linewise.strategy.evaluate import Context

    return decide(
        uci_inputs.features,
        model=uci_gbm,
        model_ref=MODEL_REF,
        strategy=default_strategy,
        context=Context(as_of=AS_OF),
        history=uci_history,
    )
