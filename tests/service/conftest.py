"""The service on a real ledger: a small model, a CNY strategy, users of each role, two customers' lines.

The model (a few trees on a synthetic CNY portfolio) is trained once a session; the
ledger with its users is filled once per database and copied for every test
(``filled_engine``); each test gets an app of its own on its copy, with its clock fixed
at 2026-01-10 09:00 UTC.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient

from linewise.data.synthetic import SynthSpec, synthesize
from linewise.ledger.events import LineOpened, RepaymentPosted
from linewise.ledger.product import Product
from linewise.ledger.service import drawdown_event, post_event
from linewise.ledger.store.users import NewUser, add_user
from linewise.models.artifacts import save_model
from linewise.models.inputs import inputs_from_portfolio
from linewise.models.training import train_model, training_data_hash
from linewise.service import ServiceSettings, create_app
from linewise.service.tokens import Principal, issue_token
from linewise.strategy import default_strategy_text

# The test users' passwords are hashed at argon2's lowest cost (verifying is what the
# tests test; the service's own cost is a quarter of a second of CPU a login).
_CHEAP_HASHER = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
NOW = datetime(2026, 1, 10, 9, 0, tzinfo=UTC)
TODAY = NOW.date()
SECRET = "test-secret-" + "x" * 40
PASSWORD = "correct horse battery"

# username -> (role, customer)
USERS = {
    "ada": ("admin", None),
    "ann": ("analyst", None),
    "cat": ("customer", "C1"),
    "cody": ("customer", "C2"),
}
# A1 (customer C1) stopped repaying after October: in arrears on TODAY.
# A2 (customer C2) repaid every month: current.
LIMIT = 2_000_000
DRAWN = 800_000
MONTHLY = 74_000


def _fill(engine) -> None:
    """The lines of the two customers and the four users, posted through the ledger's own functions."""
    product = Product()
    for account, customer, paid_months in (("A1", "C1", range(7, 11)), ("A2", "C2", range(7, 13))):
        opened = date(2025, 6, 10)
        state = post_event(
            engine,
            LineOpened(
                account_id=account,
                occurred_on=opened,
                idempotency_key=f"open-{account}",
                customer_id=customer,
                currency="CNY",
                credit_limit=LIMIT,
            ),
        )
        assert not state.duplicate
        post_event(
            engine,
            drawdown_event(
                product,
                None,
                account_id=account,
                amount=DRAWN,
                term_months=12,
                method="equal_instalment",
                purpose="daily_consumption",
                occurred_on=opened,
                idempotency_key=f"draw-{account}",
            ),
        )
        for month in paid_months:
            post_event(
                engine,
                RepaymentPosted(
                    account_id=account,
                    occurred_on=date(2025, month, 10),
                    idempotency_key=f"pay-{account}-{month}",
                    amount=MONTHLY,
                ),
            )
    for username, (role, customer) in USERS.items():
        add_user(
            engine,
            NewUser(username, role, _CHEAP_HASHER.hash(PASSWORD), customer),
            actor="test",
            now=NOW,
        )


@pytest.fixture(scope="session")
def model_files(tmp_path_factory) -> tuple[Path, Path]:
    """A model directory (a few trees on a synthetic CNY portfolio) and a CNY strategy file."""
    root = tmp_path_factory.mktemp("service-model")
    portfolio = synthesize(SynthSpec(accounts=400, months=8, seed=3, currency="CNY"))
    inputs = inputs_from_portfolio(portfolio)
    trained = train_model(inputs, kind="gbm", folds=2)
    save_model(
        trained.model,
        trained.metrics,
        root / "model",
        model_id="tiny",
        training_data_sha256=training_data_hash(inputs),
        trained_on="synthetic CNY, 400 accounts",
    )
    strategy = root / "strategy.yaml"
    text = default_strategy_text().replace("\ncurrency: TWD\n", "\ncurrency: CNY\n", 1)
    strategy.write_text(text.replace("\nstrategy: default\n", "\nstrategy: service_test\n", 1), encoding="utf-8")
    return root / "model", strategy


def database_url(engine) -> str:
    return engine.url.render_as_string(hide_password=False)


def settings_for(engine, model_files, **overrides) -> ServiceSettings:
    model_dir, strategy = model_files
    values = {
        "database_url": database_url(engine),
        "secret": SECRET,
        "model_dir": model_dir,
        "strategy_file": strategy,
        **overrides,
    }
    return ServiceSettings(**values)


@dataclass
class Api:
    """A test client of the app on a ledger of the test's own, and tokens for each user."""

    client: TestClient
    engine: object

    def token(self, username: str) -> str:
        role, customer = USERS[username]
        return issue_token(Principal(username, role, customer), secret=SECRET, now=NOW, minutes=30)

    def auth(self, username: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(username)}"}

    def call(self, method: str, path: str, as_user: str | None = None, **kwargs):
        headers = {**(self.auth(as_user) if as_user else {}), **kwargs.pop("headers", {})}
        return self.client.request(method, path, headers=headers, **kwargs)


@pytest.fixture
def ledger(filled_engine):
    """The test's own copy of the filled ledger, on SQLite and on PostgreSQL."""
    return filled_engine("service-ledger", _fill)


@pytest.fixture
def api(ledger, model_files, monkeypatch) -> Api:
    for name in ("LINEWISE_SECRET", "LINEWISE_MODE", "LINEWISE_PRODUCT_FILE", "LINEWISE_DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    app = create_app(settings_for(ledger, model_files), clock=lambda: NOW)
    with TestClient(app, raise_server_exceptions=True) as client:
        yield Api(client, ledger)


def every_route(app) -> list[tuple[str, str]]:
    """Each (method, path) the app answers, routers included (FastAPI nests included routers)."""
    from fastapi.routing import iter_route_contexts

    return sorted(
        (method, context.path)
        for context in iter_route_contexts(app.routes)
        for method in (context.methods or ())
        if method != "HEAD"
    )
