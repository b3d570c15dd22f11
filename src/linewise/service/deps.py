"""What routes depend on, as ``Annotated`` aliases: the service's parts, who asks, and what they may reach.

Access is decided here and nowhere else. A route names the roles it admits; a route
on an account or a customer also gets the line or customer checked for the caller:
a customer reaching a line (or a customer id) that is not theirs is told exactly what
it would be told of one that does not exist (404), so ids cannot be probed.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from typing import Annotated, Any, cast

from fastapi import Depends, Header, Path, Query, Request
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy import Engine
from starlette.concurrency import run_in_threadpool

from linewise.errors import AccessDeniedError, InputError, UnknownAccountError
from linewise.explain.formatting import Language
from linewise.inputs import parse_event_date, parse_id, parse_key
from linewise.ledger.model import LineState
from linewise.ledger.product import Product
from linewise.ledger.service import read_state
from linewise.ledger.store import read_snapshot
from linewise.ledger.store.customers import customer_accounts
from linewise.review.run import Decider
from linewise.service.decider import LiveDecider
from linewise.service.limiter import LoginLimiter, RequestLimiter
from linewise.service.schemas.common import ID_PATTERN, KEY_PATTERN
from linewise.service.settings import ServiceSettings
from linewise.service.tokens import Principal, read_token

__all__ = [
    "STAFF",
    "AccountAccess",
    "AdminUser",
    "CurrentUser",
    "CustomerAccess",
    "IdempotencyKey",
    "Lang",
    "Services",
    "ServicesDep",
    "StaffUser",
    "account_access",
    "customer_access",
    "role_in",
]

STAFF = ("analyst", "admin")
# Told in the OpenAPI description; linewise.inputs.parse_id checks it (id_malformed).
_ID_SCHEMA: dict[str, Any] = {"pattern": ID_PATTERN}
_oauth2 = OAuth2PasswordBearer(tokenUrl="/auth/token", auto_error=False)


@dataclass(frozen=True)
class Services:
    """The parts every request shares, made once by :func:`~linewise.service.create_app`.

    ``decider`` is what one request decides with: each request is handed the
    service's parts with the decider ``live`` holds when it starts, so that a
    request decides and tells its decision with one strategy and one model even when
    an admin activates another version meanwhile.
    """

    settings: ServiceSettings
    engine: Engine
    decider: Decider
    product: Product
    secret: str
    limiter: LoginLimiter
    clock: Callable[[], datetime]
    live: LiveDecider | None = None
    requests: RequestLimiter | None = None

    def for_request(self) -> Services:
        """These parts with the decider the service holds now (it looks for an activation first: ``_services``)."""
        return self if self.live is None else replace(self, decider=self.live.active.decider)

    def now(self) -> datetime:
        """The time now (UTC): the one place the service reads the clock."""
        return self.clock()

    def today(self) -> date:
        """Today's date (UTC): the day decisions are made as of, and events dated by default."""
        return self.now().astimezone(UTC).date()

    def event_day(self, text: str | None, field: str) -> date:
        """The date of a new event: ``text`` (YYYY-MM-DD, at most a day after today), or today."""
        today = self.today()
        return today if text is None else parse_event_date(text, field, today=today)


async def _services(request: Request) -> Services:
    # FastAPI makes a dependency once per request: every use of ServicesDep in one
    # request gets the same parts, and so the same decider.
    # The dependencies that only compute (this one, the token, the role, the key, the
    # language) are async: a sync one runs on a thread of the pool, and each hand-off
    # to a thread waits for the GIL, which under load cost more than the work
    # (benchmarks/api_load.py). Looking for an activation reads the database and may
    # rebuild the decider: that, once a second at most, goes to a thread.
    services = cast("Services", request.app.state.services)
    if services.live is not None and services.live.wants_a_look():
        await run_in_threadpool(services.live.current)
    return services.for_request()


ServicesDep = Annotated[Services, Depends(_services)]


async def _principal(services: ServicesDep, token: Annotated[str | None, Depends(_oauth2)]) -> Principal:
    if token is None:
        raise AccessDeniedError(
            "not_authenticated",
            where="Authorization",
            detail="header must be 'Bearer <token>' with a token from POST /auth/token; got nothing",
        )
    return read_token(token, secret=services.secret, now=services.now())


CurrentUser = Annotated[Principal, Depends(_principal)]


def _check_role(who: Principal, roles: tuple[str, ...], request: Request) -> None:
    if who.role not in roles:
        raise AccessDeniedError(
            "role_forbidden",
            where=f"{request.method} {request.url.path}",
            detail=f"role must be one of {list(roles)}; got {who.role!r}",
        )


def role_in(*roles: str) -> Callable[..., Awaitable[Principal]]:
    """A dependency that admits the caller when its role is one of ``roles`` (else 403)."""

    async def admitted(who: CurrentUser, request: Request) -> Principal:
        _check_role(who, roles, request)
        return who

    return admitted


StaffUser = Annotated[Principal, Depends(role_in(*STAFF))]
AdminUser = Annotated[Principal, Depends(role_in("admin"))]


@dataclass(frozen=True)
class AccountAccess:
    """A line the caller may reach, as it stands now, and who the caller is."""

    who: Principal
    state: LineState

    @property
    def account_id(self) -> str:
        """The line's account id."""
        return self.state.line.account_id


def account_access(*roles: str) -> Callable[..., AccountAccess]:
    """A dependency admitting ``roles`` to the path's ``account_id``: staff to any line, a customer to its own."""

    def reach(
        account_id: Annotated[str, Path(description="The line's account id.", json_schema_extra=_ID_SCHEMA)],
        who: CurrentUser,
        services: ServicesDep,
        request: Request,
    ) -> AccountAccess:
        _check_role(who, roles, request)
        state = read_state(services.engine, parse_id(account_id, "account_id"))
        if who.is_customer and state.line.customer_id != who.customer_id:
            raise UnknownAccountError(account_id)
        return AccountAccess(who, state)

    return reach


@dataclass(frozen=True)
class PostingAccess:
    """A line named by the path that the caller may post to; whose it is, the posting checks (see ``owner``)."""

    who: Principal
    account_id: str

    @property
    def owner(self) -> str | None:
        """The customer the line must belong to, for :func:`~linewise.ledger.service.post_event`; ``None``: staff."""
        if not self.who.is_customer:
            return None
        # A customer's token always names its customer; were it not to, no line would match.
        return self.who.customer_id or ""


def posting_access(*roles: str) -> Callable[..., Awaitable[PostingAccess]]:
    """A dependency admitting ``roles`` to post on the path's ``account_id`` (a customer only on its own line).

    Unlike :func:`account_access` it reads nothing: the posting reads the line, and
    refuses another customer's as unknown, in the transaction that writes the event.
    """

    async def reach(
        account_id: Annotated[str, Path(description="The line's account id.", json_schema_extra=_ID_SCHEMA)],
        who: CurrentUser,
        request: Request,
    ) -> PostingAccess:
        _check_role(who, roles, request)
        return PostingAccess(who, parse_id(account_id, "account_id"))

    return reach


@dataclass(frozen=True)
class CustomerAccess:
    """A customer the caller may reach, the customer's accounts, and who the caller is."""

    who: Principal
    customer_id: str
    accounts: list[str]


def customer_access(*roles: str) -> Callable[..., CustomerAccess]:
    """A dependency admitting ``roles`` to the path's ``customer_id``: staff to any customer, a customer to itself."""

    def reach(
        customer_id: Annotated[str, Path(description="The customer id of the lines.", json_schema_extra=_ID_SCHEMA)],
        who: CurrentUser,
        services: ServicesDep,
        request: Request,
    ) -> CustomerAccess:
        _check_role(who, roles, request)
        customer_id = parse_id(customer_id, "customer_id")
        if who.is_customer and customer_id != who.customer_id:
            # Refused as an unknown customer is, with the store's own words.
            raise _customer_not_found(customer_id)
        with read_snapshot(services.engine) as conn:
            accounts = customer_accounts(conn, customer_id)
        return CustomerAccess(who, customer_id, accounts)

    return reach


def _customer_not_found(customer_id: str) -> InputError:
    """What :func:`~linewise.ledger.store.customers.customer_accounts` says of a customer without lines."""
    return InputError.for_field(
        "customer_not_found",
        where=customer_id,
        field="customer_id",
        rule="the customer of a line in the ledger",
        value=customer_id,
    )


async def _idempotency_key(
    idempotency_key: Annotated[
        str | None,
        Header(
            description="Per account, as the CLI's --key: a retry with the same key and body posts nothing new "
            "and answers as the first time; the same key with another body is refused (409).",
            json_schema_extra={"pattern": KEY_PATTERN},
        ),
    ] = None,
) -> str:
    return uuid.uuid4().hex if idempotency_key is None else parse_key(idempotency_key, "Idempotency-Key")


IdempotencyKey = Annotated[str, Depends(_idempotency_key)]


async def _lang(lang: Annotated[Language, Query(description="The language of notices: zh or en.")] = "zh") -> Language:
    return lang


Lang = Annotated[Language, Depends(_lang)]
