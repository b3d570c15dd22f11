"""Signing in and out of the pages, and the home page that sends each user where they belong.

Signing in is the API's own: the page hands the form to
:func:`linewise.service.api.auth.sign_in` (the login limiter, the password check, the
token), then carries the token in the session cookie.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.security import OAuth2PasswordRequestForm
from starlette.datastructures import FormData

from linewise.errors import AccessDeniedError
from linewise.service.api import auth
from linewise.service.deps import ServicesDep
from linewise.service.errors import LoginThrottledError, error_out, status_of
from linewise.service.pages.csrf import checked_form, new_nonce, set_csrf_cookie
from linewise.service.pages.render import page_lang, render
from linewise.service.pages.session import MaybeSignedIn, clear_session, page_path, set_session, site_root
from linewise.service.pages.views import safe_next
from linewise.service.tokens import Principal

__all__ = ["router"]

router = APIRouter()

Form = Annotated[FormData, Depends(checked_form)]


def _home_of(request: Request, who: Principal | None) -> str:
    lang = page_lang(request)
    if who is None:
        name = "sign_in"
    elif who.is_customer:
        name = "my_lines"
    else:
        name = "console"
    return f"{page_path(request, name)}?lang={lang}"


@router.get("/", name="home")
def home(request: Request, who: MaybeSignedIn) -> RedirectResponse:
    """The pages' front door: a customer's lines, the console for staff, the sign-in page for anyone else."""
    return RedirectResponse(_home_of(request, who), status_code=303)


@router.get("/sign-in", name="sign_in", response_class=HTMLResponse)
def sign_in_page(request: Request, who: MaybeSignedIn) -> Response:
    """The sign-in form (a signed-in user is sent on to their page)."""
    if who is not None:
        return RedirectResponse(_home_of(request, who), status_code=303)
    expired = request.query_params.get("expired") == "1"
    return render(request, "sign_in.html", who=None, next=request.query_params.get("next", ""), expired=expired)


@router.post("/sign-in", name="sign_in_post", response_class=HTMLResponse)
def sign_in(form: Form, request: Request, services: ServicesDep) -> Response:
    """Check the username and password as ``POST /auth/token`` does; on success the session cookie and a redirect."""
    username, password = str(form.get("username", "")), str(form.get("password", ""))
    target = safe_next(str(form.get("next", "")), site_root(request))
    try:
        issued = auth.sign_in(OAuth2PasswordRequestForm(username=username, password=password), services, request)
    except AccessDeniedError as exc:
        page = render(
            request,
            "sign_in.html",
            who=None,
            status=status_of(exc),
            next=target or "",
            expired=False,
            problem=error_out(exc),
            username=username[:64],
        )
        if isinstance(exc, LoginThrottledError):
            page.headers["Retry-After"] = str(exc.retry_after_s)
        return page
    who = Principal(username, issued.role, None)
    response = RedirectResponse(target or _home_of(request, who), status_code=303)
    secure = services.settings.mode == "production"
    set_session(response, request, issued.access_token, max_age_s=issued.expires_in, secure=secure)
    # A new nonce with the new session: a token seen before signing in is worth nothing after.
    set_csrf_cookie(response, request, new_nonce(), secure=secure)
    return response


@router.post("/sign-out", name="sign_out")
def sign_out(_form: Form, request: Request, services: ServicesDep) -> RedirectResponse:
    """Forget the session and go back to the sign-in page."""
    response = RedirectResponse(f"{page_path(request, 'sign_in')}?lang={page_lang(request)}", status_code=303)
    clear_session(response, request, secure=services.settings.mode == "production")
    return response
