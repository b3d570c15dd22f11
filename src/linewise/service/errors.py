"""Every refusal becomes JSON ``{code, where, detail}`` with the HTTP status of its kind, in one place.

linewise's own errors carry their code (its kind gives the status: see
:class:`linewise.errors.ErrorKind`); a request FastAPI cannot validate is
``request_invalid`` (422) naming the field (``body`` for a body that is not UTF-8); a
route or method that does not exist is ``route_not_found`` (404) or
``method_not_allowed`` (405); a database lost mid-request is ``database_unreachable``
(503). Errors of the service's own side (5xx) tell the client no more than what kind
of trouble it is: the details go to the log.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import iter_route_contexts
from sqlalchemy.exc import OperationalError
from starlette.exceptions import HTTPException
from starlette.routing import Match

from linewise.errors import AccessDeniedError, DatabaseUnreachableError, InputError, LinewiseError, kind_of
from linewise.service.schemas.common import ErrorOut

__all__ = ["LoginThrottledError", "error_out", "install_error_handlers", "status_of"]

logger = logging.getLogger(__name__)

# Problems a 422 lists in its detail; the count says how many more there are.
_PROBLEMS_SHOWN = 10
_HTTP_CODES = {404: "route_not_found", 405: "method_not_allowed"}


class LoginThrottledError(AccessDeniedError):
    """Too many failed logins of one username from one client: wait ``retry_after_s`` seconds."""

    def __init__(self, failures_max: int, window_s: int, retry_after_s: int) -> None:
        super().__init__(
            "login_rate_limited",
            where="username",
            detail=(
                f"logins must wait {retry_after_s} s after {failures_max} failures within {window_s} s "
                "from one client; got another"
            ),
        )
        self.retry_after_s = retry_after_s


class RequestThrottledError(AccessDeniedError):
    """A line asked for more too often: wait ``retry_after_s`` seconds."""

    def __init__(self, account_id: str, attempts_max: int, window_s: int, retry_after_s: int) -> None:
        super().__init__(
            "request_rate_limited",
            where=account_id,
            detail=(
                f"requests for a higher limit must wait {retry_after_s} s after {attempts_max} within {window_s} s; "
                "got another"
            ),
        )
        self.retry_after_s = retry_after_s


def status_of(error: LinewiseError) -> int:
    """The HTTP status of ``error``'s code (500 for a code outside the catalogue: a bug of ours)."""
    try:
        return kind_of(error.code).http_status
    except KeyError:
        logger.error("error code %r is not in linewise.errors.ERROR_CODES", error.code)
        return 500


def error_out(error: LinewiseError) -> ErrorOut:
    """``error`` as the API tells it; the service's own troubles (5xx) without their internals."""
    status = status_of(error)
    if status == 503:
        return ErrorOut(code=error.code, where="service", detail="the database must be available; try again later")
    if status >= 500:
        return ErrorOut(code=error.code, where="service", detail="the service must be configured right; see its log")
    where = getattr(error, "where", None)
    detail = getattr(error, "detail", None)
    return ErrorOut(code=error.code, where=str(where or "request"), detail=str(detail or error))


def _response(status: int, body: ErrorOut, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(status_code=status, content=body.model_dump(), headers=headers)


def _linewise_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, LinewiseError)
    status = status_of(exc)
    if status >= 500:
        logger.error("%s [%s]", exc, exc.code)
    headers: dict[str, str] = {}
    if status == 401:
        headers["WWW-Authenticate"] = "Bearer"
    if isinstance(exc, LoginThrottledError | RequestThrottledError):
        headers["Retry-After"] = str(exc.retry_after_s)
    return _response(status, error_out(exc), headers)


def _field(loc: Sequence[Any]) -> str:
    return ".".join(str(part) for part in loc) or "request"


def _validation_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    problems = list(exc.errors())
    listed = [f"{_field(p.get('loc', ()))}: {p.get('msg', 'invalid')}" for p in problems[:_PROBLEMS_SHOWN]]
    if len(problems) > _PROBLEMS_SHOWN:
        listed.append(f"... and {len(problems) - _PROBLEMS_SHOWN} more")
    where = _field(problems[0].get("loc", ())) if problems else "request"
    return _response(422, error_out(InputError("request_invalid", where=where, detail="; ".join(listed))))


def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    if exc.status_code == 400:
        # FastAPI's one 400: a body it could not decode (not UTF-8). A request it cannot
        # read is request_invalid, as a body that is not JSON is.
        unreadable = InputError(
            "request_invalid", where="body", detail="body must be UTF-8 text; got bytes that are not"
        )
        return _response(422, error_out(unreadable))
    code = _HTTP_CODES.get(exc.status_code, "http_error")
    body = ErrorOut(code=code, where=f"{request.method} {request.url.path}", detail=str(exc.detail))
    headers = dict(exc.headers or {})
    if exc.status_code == 405:
        headers["Allow"] = _allowed_methods(request)
    return _response(exc.status_code, body, headers)


def _allowed_methods(request: Request) -> str:
    """Every method the path has, for a 405's Allow (Starlette's names those of the first route of the path only)."""
    methods: set[str] = set()
    # FastAPI keeps included routers nested: their routes are reached through their contexts.
    for route in iter_route_contexts(request.app.router.routes):
        matched, _ = route.matches(request.scope)
        if matched is not Match.NONE:
            methods |= route.methods or set()
    return ", ".join(sorted(methods))


def _database_lost(_request: Request, exc: Exception) -> JSONResponse:
    logger.error("database lost mid-request: %s", exc)
    return _response(503, error_out(DatabaseUnreachableError("database", "lost mid-request")))


def install_error_handlers(app: FastAPI) -> None:
    """Make every refusal of ``app`` answer ``{code, where, detail}``."""
    app.add_exception_handler(LinewiseError, _linewise_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(OperationalError, _database_lost)
