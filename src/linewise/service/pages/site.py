"""The pages' own app, mounted into the service's at :data:`PAGES_PREFIX`.

An app of their own, not routes of the API's: the pages answer refusals as pages,
sign in by a cookie (the API's access rules reached through it: see
:func:`~linewise.service.pages.session.bearer_dependency`), send their security
headers, and stay out of the API's OpenAPI description.
"""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from linewise.service.deps import Services
from linewise.service.pages import console, criteria, lines, signing
from linewise.service.pages.failures import install_page_errors
from linewise.service.pages.session import bearer_dependency, session_principal

__all__ = ["PAGES_PREFIX", "mount_pages", "pages_app"]

PAGES_PREFIX = "/web"

# Everything a page loads comes from this site: no script at all, styles and images
# from the site's own files (SVG charts are inline markup, not images).
_HEADERS = [
    (
        b"content-security-policy",
        b"default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
        b"frame-ancestors 'none'; base-uri 'none'",
    ),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"x-frame-options", b"DENY"),
]


class _SecurityHeaders:
    """Adds the pages' security headers to every response they send."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *_HEADERS]
            await send(message)

        await self.app(scope, receive, with_headers)


def pages_app(services: Services) -> FastAPI:
    """The pages over ``services`` (the API's own parts: one store, one decider, one clock)."""
    app = FastAPI(title="linewise pages", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.services = services
    app.dependency_overrides[bearer_dependency()] = session_principal
    install_page_errors(app)
    for module in (signing, criteria, lines, console):
        app.include_router(module.router)
    app.mount("/static", StaticFiles(packages=[("linewise.service", "static")]), name="static")
    app.add_middleware(_SecurityHeaders)
    return app


def mount_pages(app: FastAPI, services: Services) -> None:
    """Serve the pages from ``app`` under :data:`PAGES_PREFIX`."""
    app.mount(PAGES_PREFIX, pages_app(services), name="pages")
