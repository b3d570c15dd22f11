"""The app factory: settings checked, the store and the decider made, the routers mounted."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime

from fastapi import FastAPI

import linewise
from linewise.ledger.service import load_product, require_schema
from linewise.ledger.store import check_connection, create_store_engine
from linewise.service.api import audit, auth, bureau, customers, decisions, health, lines, preview, versions
from linewise.service.decider import LiveDecider
from linewise.service.deps import Services
from linewise.service.errors import install_error_handlers
from linewise.service.limiter import LoginLimiter, RequestLimiter
from linewise.service.pages import mount_pages
from linewise.service.settings import ServiceSettings

__all__ = ["create_app"]

_DESCRIPTION = """\
Credit lines over HTTP: the ledger (open, draw, repay, statements, events), customers'
proofs, decisions with their reasons in Chinese or English, and what would raise a line.

Sign in at `POST /auth/token` (an OAuth2 password form) and send the token as
`Authorization: Bearer <token>`. Roles: **customer** (its own lines only), **analyst**
(every line and decision, replays), **admin** (also opens lines and sets limits and
statuses by hand, audited). Money is integer minor units (fen, cents). Every refusal is
`{"code", "where", "detail"}`.
"""


def _utc_now() -> datetime:
    return datetime.now(UTC)


def create_app(settings: ServiceSettings | None = None, *, clock: Callable[[], datetime] | None = None) -> FastAPI:
    """The service's app, ready to serve; fails fast on anything it would fail on later.

    The decisions are made with the database's active strategy and model, each kind
    from its file in the settings when none of it is active (see
    :class:`~linewise.service.decider.LiveDecider`). Raises ConfigurationError for a
    production secret that is unset or weak, bounds out of range, or no model
    (neither active nor a directory); InputError for a model or strategy (file or
    stored) that is missing or invalid, a model and strategy of different currencies
    (``currency_mismatch``), or a database URL linewise cannot use;
    DatabaseUnreachableError or DatabaseNotInitialisedError for a database it cannot
    reach or that is not at the latest schema. ``clock`` gives the time now (UTC; the
    machine's when None): tests fix it.
    """
    settings = settings or ServiceSettings()
    secret = settings.signing_secret()
    settings.check_bounds()
    product = load_product(settings.product_file)
    source = "LINEWISE_DATABASE_URL" if settings.database_url else "database URL"
    engine = create_store_engine(settings.resolved_database_url(), source=source)
    check_connection(engine, create=False)
    require_schema(engine)
    try:
        live = LiveDecider(
            engine,
            model_dir=settings.model_dir,
            strategy_file=settings.strategy_file,
            check_seconds=settings.decider_check_seconds,
        )
    except BaseException:
        engine.dispose()
        raise
    services = Services(
        settings=settings,
        engine=engine,
        decider=live.active.decider,
        product=product,
        secret=secret,
        limiter=LoginLimiter(failures_max=settings.login_failures_max, window_s=settings.login_window_seconds),
        requests=RequestLimiter(attempts_max=settings.request_attempts_max, window_s=settings.request_window_seconds),
        clock=clock or _utc_now,
        live=live,
    )

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        engine.dispose()

    app = FastAPI(title="linewise", version=linewise.__version__, description=_DESCRIPTION, lifespan=lifespan)
    app.state.services = services
    install_error_handlers(app)
    for module in (health, auth, lines, preview, bureau, customers, decisions, audit, versions):
        app.include_router(module.router)
    mount_pages(app, services)
    return app
