"""Forms that change something carry a token a page of ours gave them: a signed double-submit.

A random nonce lives in a cookie of its own (HttpOnly, SameSite=Lax); every form a
page renders carries ``HMAC(secret, nonce | session)`` in a hidden field. A POST is
taken only when its field matches the HMAC of the cookies it came with: another site
can make a browser send the cookies, but cannot read them or a page of ours to learn
the token. Binding the session means a token stops working when the user signs out
or in as someone else.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

from fastapi import Request, Response
from starlette.datastructures import FormData

from linewise.errors import AccessDeniedError, InputError
from linewise.service.deps import ServicesDep
from linewise.service.pages.session import SESSION_COOKIE, site_root

__all__ = [
    "CSRF_COOKIE",
    "CSRF_FIELD",
    "FORM_BYTES_MAX",
    "CsrfRefusedError",
    "checked_form",
    "csrf_nonce",
    "csrf_token",
    "new_nonce",
    "set_csrf_cookie",
]

CSRF_COOKIE = "linewise_csrf"
CSRF_FIELD = "csrf_token"
# The pages' forms hold a few short fields; a body past this is no form of ours.
FORM_BYTES_MAX = 16 * 1024
_FIELDS_MAX = 20


class CsrfRefusedError(AccessDeniedError):
    """A form posted without the token a page of ours gave it, or with another: refused (403)."""

    def __init__(self, detail: str) -> None:
        super().__init__("csrf_token_invalid", where=f"form field {CSRF_FIELD}", detail=detail)


def new_nonce() -> str:
    """A new random nonce (256 bits)."""
    return secrets.token_urlsafe(32)


def csrf_nonce(request: Request) -> tuple[str, bool]:
    """The nonce of the request's cookie, or a new one; whether it is new (and must be set)."""
    nonce = request.cookies.get(CSRF_COOKIE)
    if nonce and 16 <= len(nonce) <= 128:
        return nonce, False
    return new_nonce(), True


def csrf_token(secret: str, nonce: str, session: str) -> str:
    """The token forms carry for ``nonce`` and ``session`` (the session cookie's value, or empty)."""
    mac = hmac.new(secret.encode(), f"csrf|{nonce}|{session}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).decode().rstrip("=")


def set_csrf_cookie(response: Response, request: Request, nonce: str, *, secure: bool) -> None:
    """Keep ``nonce`` in its cookie for the browser session."""
    response.set_cookie(CSRF_COOKIE, nonce, path=site_root(request), httponly=True, samesite="lax", secure=secure)


async def checked_form(request: Request, services: ServicesDep) -> FormData:
    """The posted form, once its CSRF token matches the cookies; refused before anything else is read.

    Raises :class:`CsrfRefusedError` (403) for a missing or wrong token and InputError
    ``request_invalid`` for a body without a length or longer than FORM_BYTES_MAX.
    """
    length = request.headers.get("content-length", "")
    if not length.isdigit() or int(length) > FORM_BYTES_MAX:
        raise InputError(
            "request_invalid",
            where="body",
            detail=f"body must be a form of at most {FORM_BYTES_MAX} bytes with its Content-Length; got {length or 'none'}",
        )
    form = await request.form(max_files=0, max_fields=_FIELDS_MAX)
    given = form.get(CSRF_FIELD)
    nonce = request.cookies.get(CSRF_COOKIE)
    if not isinstance(given, str) or not given:
        raise CsrfRefusedError(f"{CSRF_FIELD} must be the token of a page of this site; got nothing")
    expected = csrf_token(services.secret, nonce or "", request.cookies.get(SESSION_COOKIE, ""))
    if not nonce or not hmac.compare_digest(given.encode(), expected.encode()):
        raise CsrfRefusedError(
            f"{CSRF_FIELD} must be the token of a page of this site for this session; got another "
            "(reload the page and send the form again)"
        )
    return form
