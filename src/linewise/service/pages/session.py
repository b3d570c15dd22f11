"""Who is signed in to the pages: the bearer token the API issues, carried in an HttpOnly cookie.

The cookie is scoped to the pages' path, so the JSON API never sees it and keeps to
bearer tokens. It is ``HttpOnly`` (no script reads it), ``SameSite=Lax`` (a form
posted from another site does not carry it) and, in production mode, ``Secure``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, cast, get_args

from fastapi import Depends, Request, Response

from linewise.errors import AccessDeniedError
from linewise.service.deps import CurrentUser, ServicesDep
from linewise.service.tokens import Principal, read_token

__all__ = [
    "SESSION_COOKIE",
    "MaybeSignedIn",
    "SignInRequiredError",
    "bearer_dependency",
    "clear_session",
    "page_path",
    "session_principal",
    "set_session",
    "site_root",
]

SESSION_COOKIE = "linewise_session"


class SignInRequiredError(Exception):
    """No session, or one that has expired or is not ours: the page asks to sign in (a redirect, not a refusal)."""

    def __init__(self, *, expired: bool) -> None:
        super().__init__("sign in first" if not expired else "the session has expired")
        self.expired = expired


def site_root(request: Request) -> str:
    """The path the pages are mounted at (``/web``), where their cookies live."""
    return str(request.scope.get("root_path") or "") or "/"


def page_path(request: Request, name: str, **params: object) -> str:
    """The path of the page ``name`` (with its path ``params``), under the mount of the pages.

    Looked up in the pages' own app, so that the pages name their routes alike whether
    mounted or served alone.
    """
    path = request.app.url_path_for(name, **{k: str(v) for k, v in params.items()})
    return site_root(request).rstrip("/") + str(path)


def _read(request: Request, services: ServicesDep) -> Principal | None:
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        return None
    try:
        return read_token(token, secret=services.secret, now=services.now())
    except AccessDeniedError as exc:
        raise SignInRequiredError(expired=exc.code == "token_expired") from None


async def session_principal(request: Request, services: ServicesDep) -> Principal:
    """Who the session cookie names; :class:`SignInRequiredError` without a valid one."""
    who = _read(request, services)
    if who is None:
        raise SignInRequiredError(expired=False)
    return who


async def _maybe(request: Request, services: ServicesDep) -> Principal | None:
    try:
        return _read(request, services)
    except SignInRequiredError:
        return None


MaybeSignedIn = Annotated[Principal | None, Depends(_maybe)]


def bearer_dependency() -> Callable[..., Any]:
    """The callable :data:`~linewise.service.deps.CurrentUser` depends on: the pages override it with the cookie.

    Every access rule of :mod:`linewise.service.deps` (roles, a customer's own lines)
    then holds for the pages as it does for the API, decided in that one place.
    """
    return cast("Callable[..., Any]", get_args(CurrentUser)[1].dependency)


def set_session(response: Response, request: Request, token: str, *, max_age_s: int, secure: bool) -> None:
    """Carry ``token`` in the session cookie for ``max_age_s`` seconds (the token's own life)."""
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=max_age_s,
        path=site_root(request),
        httponly=True,
        samesite="lax",
        secure=secure,
    )


def clear_session(response: Response, request: Request, *, secure: bool) -> None:
    """Forget the session cookie."""
    response.delete_cookie(SESSION_COOKIE, path=site_root(request), httponly=True, samesite="lax", secure=secure)
