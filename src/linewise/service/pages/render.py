"""Pages rendered: the templates, what every one of them is given, and the page's language.

Every page gets ``lang``, ``t`` (the page texts in that language), ``who`` (the
signed-in user or None), ``csrf`` (the token its forms carry), ``link`` (a page's
URL in the same language), ``switch_url`` (this page in the other language) and the
formatters ``money``, ``day`` and ``percent``. Pages are never cached: they show a
customer's money.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date
from typing import Any, cast
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from linewise.errors import InputError
from linewise.explain.formatting import LANGUAGES, Language, amount, day
from linewise.money import format_amount
from linewise.service.deps import Services
from linewise.service.pages.csrf import csrf_nonce, csrf_token, set_csrf_cookie
from linewise.service.pages.session import SESSION_COOKIE, page_path
from linewise.service.pages.texts import translator
from linewise.service.tokens import Principal

__all__ = ["HTML_LANG", "page_lang", "render", "services_of"]

HTML_LANG: dict[Language, str] = {"zh": "zh-CN", "en": "en"}

_ENV = Environment(
    loader=PackageLoader("linewise.service", "templates"),
    autoescape=select_autoescape(["html"]),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
_TEMPLATES = Jinja2Templates(env=_ENV)


def services_of(request: Request) -> Services:
    """The service's parts, as the pages' app holds them."""
    return cast("Services", request.app.state.services)


def page_lang(request: Request) -> Language:
    """The page's language: ``?lang=zh`` (the default) or ``en``; InputError ``language_unknown`` otherwise."""
    lang = request.query_params.get("lang", "zh")
    if lang not in LANGUAGES:
        raise InputError.for_field(
            "language_unknown", where="lang", field="lang", rule="one of zh, en", value=lang[:32]
        )
    return lang


def safe_lang(request: Request) -> Language:
    """The page's language, zh when the one asked for is not one the pages speak (for error pages)."""
    lang = request.query_params.get("lang", "zh")
    return lang if lang in LANGUAGES else "zh"


def _linker(request: Request, lang: Language) -> Callable[..., str]:
    def link(name: str, query: Mapping[str, object] | None = None, **path: Any) -> str:
        params = {**{k: v for k, v in (query or {}).items() if v is not None}, "lang": lang}
        return f"{page_path(request, name, **path)}?{urlencode(params)}"

    return link


def _switch_url(request: Request, lang: Language, switch_to: str | None) -> str:
    other = "en" if lang == "zh" else "zh"
    if switch_to is not None:
        return f"{switch_to.split('?', 1)[0]}?lang={other}"
    params = [(k, v) for k, v in request.query_params.multi_items() if k != "lang"] + [("lang", other)]
    return f"{request.url.path}?{urlencode(params)}"


def _day(when: date | str, lang: Language) -> str:
    return day(date.fromisoformat(when) if isinstance(when, str) else when, lang)


def render(
    request: Request,
    template: str,
    *,
    who: Principal | None,
    status: int = 200,
    lang: Language | None = None,
    switch_to: str | None = None,
    **context: Any,
) -> HTMLResponse:
    """``template`` rendered for ``request`` in its language, with what every page is given.

    ``switch_to`` is the URL the language switch leads to (this page's own when None:
    a page answering a POST names the page to go back to).
    """
    services = services_of(request)
    lang = lang or page_lang(request)
    nonce, is_new = csrf_nonce(request)
    secure = services.settings.mode == "production"
    values: dict[str, Any] = {
        "lang": lang,
        "html_lang": HTML_LANG[lang],
        "t": translator(lang),
        "who": who,
        "csrf": csrf_token(services.secret, nonce, request.cookies.get(SESSION_COOKIE, "")),
        "link": _linker(request, lang),
        "url_for": lambda name, **path: page_path(request, name, **path),
        "switch_url": _switch_url(request, lang, switch_to),
        "switch_lang": "en" if lang == "zh" else "zh",
        "money": lambda minor, currency: amount(int(minor), currency, lang),
        "day": lambda when: _day(when, lang),
        "major": lambda minor, currency: format_amount(int(minor), currency, grouping=False),
        "percent": lambda share: f"{float(share) * 100:.1f}%",
        "status": status,
        **context,
    }
    response = _TEMPLATES.TemplateResponse(request, template, values, status_code=status)
    if is_new:
        set_csrf_cookie(response, request, nonce, secure=secure)
    response.headers["Cache-Control"] = "no-store"
    return response
