"""Refusals of the pages: an HTML page for a browser, the API's ``{code, where, detail}`` for anything else.

The refusal is the same either way: its status comes from its code's kind
(:func:`linewise.service.errors.status_of`) and its words from
:func:`linewise.service.errors.error_out`; a browser (one that asks for ``text/html``)
gets them on a page in its language, with a sentence of the page texts for the
codes a customer can meet. A session that is missing or has run out is no refusal:
the page sends the browser to sign in and back.
"""

from __future__ import annotations

import logging
from urllib.parse import urlencode

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from sqlalchemy.exc import OperationalError
from starlette.exceptions import HTTPException

from linewise.errors import DatabaseUnreachableError, InputError, LinewiseError
from linewise.service.errors import error_out, status_of
from linewise.service.pages.render import render, safe_lang, services_of
from linewise.service.pages.session import SESSION_COOKIE, SignInRequiredError, page_path
from linewise.service.schemas.common import ErrorOut
from linewise.service.tokens import Principal, read_token

__all__ = ["install_page_errors", "wants_html"]

logger = logging.getLogger(__name__)

_HTTP_CODES = {404: "route_not_found", 405: "method_not_allowed"}


def wants_html(request: Request) -> bool:
    """Whether the client asked for a page (a browser does), rather than for data."""
    return "text/html" in request.headers.get("accept", "")


def _who(request: Request) -> Principal | None:
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        return None
    services = services_of(request)
    try:
        return read_token(token, secret=services.secret, now=services.now())
    except LinewiseError:
        return None


def refusal(request: Request, status: int, problem: ErrorOut) -> Response:
    """``problem`` answered with ``status``: a page in the request's language, or JSON."""
    if not wants_html(request):
        return JSONResponse(status_code=status, content=problem.model_dump())
    return render(request, "error.html", who=_who(request), status=status, lang=safe_lang(request), problem=problem)


def _linewise_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, LinewiseError)
    status = status_of(exc)
    if status >= 500:
        logger.error("%s [%s]", exc, exc.code)
    return refusal(request, status, error_out(exc))


def _validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    problems = list(exc.errors())
    where = ".".join(str(p) for p in problems[0].get("loc", ())) if problems else "request"
    detail = "; ".join(f"{'.'.join(str(p) for p in e.get('loc', ()))}: {e.get('msg', 'invalid')}" for e in problems[:5])
    return refusal(request, 422, error_out(InputError("request_invalid", where=where or "request", detail=detail)))


def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    code = _HTTP_CODES.get(exc.status_code, "http_error")
    problem = ErrorOut(code=code, where=f"{request.method} {request.url.path}", detail=str(exc.detail))
    return refusal(request, exc.status_code, problem)


def _sign_in_first(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, SignInRequiredError)
    back = request.url.path if request.method == "GET" else None
    if back and request.url.query:
        back = f"{back}?{request.url.query}"
    query = {
        "lang": safe_lang(request),
        **({"next": back} if back else {}),
        **({"expired": "1"} if exc.expired else {}),
    }
    return RedirectResponse(f"{page_path(request, 'sign_in')}?{urlencode(query)}", status_code=303)


def _database_lost(request: Request, exc: Exception) -> Response:
    logger.error("database lost mid-request: %s", exc)
    return refusal(request, 503, error_out(DatabaseUnreachableError("database", "lost mid-request")))


def install_page_errors(app: FastAPI) -> None:
    """Make every refusal of the pages' ``app`` a page for browsers and ``{code, where, detail}`` for others."""
    app.add_exception_handler(LinewiseError, _linewise_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(SignInRequiredError, _sign_in_first)
    app.add_exception_handler(OperationalError, _database_lost)
