"""Shared fixtures: a SQLite file store and a PostgreSQL store in its own database.

Also the hypothesis profiles. ``ci`` (chosen when CI is set, or by
HYPOTHESIS_PROFILE=ci) tries each property's full number of examples; ``dev``, the
default, a quarter of them, so that the loop on a laptop stays short while every
property is still tried on every run. A test that sets its own count writes the
count CI tries as ``scaled(n)`` (tests/strategies.py).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from hypothesis import settings
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from linewise.ledger.store import create_store_engine, upgrade

PG_HELP = (
    "PostgreSQL tests need a server: set LINEWISE_TEST_DATABASE_URL, e.g. postgresql://postgres@127.0.0.1:5432/postgres"
)
_DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/postgres"

# What makes a test slow without a marker of its own. The monotone GBM fitted on the whole
# UCI portfolio costs about 35 s of CPU, once a session: every test that needs it (its
# PDs, the decisions and recourse made with it) is slow.
_SLOW_FIXTURES = frozenset({"uci_gbm"})


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        fixtures = set(getattr(item, "fixturenames", ()))
        if fixtures & _SLOW_FIXTURES:
            item.add_marker(pytest.mark.slow)


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


@pytest.fixture
def sqlite_engine(tmp_path) -> Iterator[Engine]:
    engine = create_store_engine(f"sqlite:///{tmp_path / 'ledger.db'}")
    upgrade(engine)
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
    name = f"linewise_test_{uuid.uuid4().hex[:12]}"
    admin_url = make_url(create_store_engine(server_url).url)
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine = create_store_engine(admin_url.set(database=name).render_as_string(hide_password=False))
    try:
        upgrade(engine)
        yield engine
    finally:
        engine.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def pg_engine(pg_server_url) -> Iterator[Engine]:
    """A fresh PostgreSQL database, migrated, dropped after the test."""
    with fresh_pg_engine(pg_server_url) as engine:
        yield engine


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def engine(request) -> Engine:
    """The store on each database linewise supports."""
    return request.getfixturevalue("sqlite_engine" if request.param == "sqlite" else "pg_engine")


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
