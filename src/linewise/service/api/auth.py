"""Signing in (``POST /auth/token``) and who is signed in (``GET /auth/me``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.security import OAuth2PasswordRequestForm

from linewise.errors import AccessDeniedError, InputError
from linewise.inputs import ID_MAX_LENGTH, parse_id
from linewise.ledger.store.users import find_login
from linewise.service.deps import CurrentUser, ServicesDep
from linewise.service.errors import LoginThrottledError
from linewise.service.passwords import verify_password
from linewise.service.schemas.auth import MeOut, TokenOut
from linewise.service.schemas.common import error_responses
from linewise.service.tokens import Principal, issue_token

__all__ = ["router"]

router = APIRouter(prefix="/auth", tags=["auth"])


@router.post(
    "/token",
    responses=error_responses(401, 422, 429),
)
def sign_in(form: Annotated[OAuth2PasswordRequestForm, Depends()], services: ServicesDep, request: Request) -> TokenOut:
    """Exchange a username and password (an OAuth2 password form) for a bearer token.

    Failed logins are counted per username and client: past the limit, logins of that
    pair are refused (429, with Retry-After) until the window has passed.
    """
    client = request.client.host if request.client else "unknown"
    # A username longer than any can be is counted by its first characters: the counter stays small.
    counted = form.username[: ID_MAX_LENGTH + 1]
    limiter, settings = services.limiter, services.settings
    wait = limiter.retry_after(counted, client)
    if wait:
        raise LoginThrottledError(settings.login_failures_max, settings.login_window_seconds, wait)
    found = find_login(services.engine, form.username) if _is_username(form.username) else None
    if not verify_password(found[1] if found else None, form.password) or found is None:
        limiter.failed(counted, client)
        raise AccessDeniedError(
            "credentials_invalid", where="username", detail="username and password must match a user; got others"
        )
    limiter.succeeded(counted, client)
    user = found[0]
    principal = Principal(user.username, user.role, user.customer_id)
    token = issue_token(principal, secret=services.secret, now=services.now(), minutes=settings.token_minutes)
    return TokenOut(access_token=token, expires_in=settings.token_minutes * 60, role=user.role)


def _is_username(text: str) -> bool:
    """Whether ``text`` could be a username (one is never looked up otherwise)."""
    try:
        parse_id(text, "username")
    except InputError:
        return False
    return True


@router.get("/me", responses=error_responses(401))
def me(who: CurrentUser) -> MeOut:
    """The signed-in user: its username, role and, for a customer, its customer id."""
    return MeOut(username=who.username, role=who.role, customer_id=who.customer_id)
