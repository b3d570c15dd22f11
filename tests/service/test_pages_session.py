"""The pages' session: signing in sets a cookie the JSON API never sees, every form that changes something
carries a token a page of ours gave it, signing out forgets the session.

``Pages`` here is the browser the other page tests use: a test client of its own (its
own cookies), asking for HTML as a browser does.
"""

from __future__ import annotations

import re
from http.cookies import SimpleCookie

import pytest
from fastapi.testclient import TestClient
from tests.ledger.common import snapshot
from tests.service.conftest import NOW, PASSWORD, SECRET, settings_for

from linewise.service import create_app
from linewise.service.tokens import Principal, issue_token

HTML = {"Accept": "text/html"}
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
_KEY = re.compile(r'name="key" value="([^"]+)"')


class Pages:
    """A browser on the pages: its own cookies, HTML asked for, forms sent with the token their page gave."""

    def __init__(self, app, *, accept: str = "text/html", base_url: str = "http://testserver") -> None:
        self.client = TestClient(app, follow_redirects=False, base_url=base_url)
        self.headers = {"Accept": accept}

    def get(self, path: str, **kwargs):
        return self.client.get(path, headers=self.headers, **kwargs)

    def token_of(self, path: str = "/web/sign-in") -> str:
        page = self.get(path)
        found = _CSRF.search(page.text)
        assert found is not None, (path, page.status_code, page.text[:500])
        return found[1]

    def post(self, path: str, data: dict, *, token: str | None = None, token_from: str | None = None):
        """POST ``data`` with the CSRF token of the page ``token_from`` (or ``token``; none when both are None)."""
        if token_from is not None:
            token = self.token_of(token_from)
        body = {**data, **({"csrf_token": token} if token is not None else {})}
        return self.client.post(path, data=body, headers=self.headers)

    def sign_in(self, username: str, password: str = PASSWORD):
        answer = self.post("/web/sign-in", {"username": username, "password": password}, token_from="/web/sign-in")
        assert answer.status_code == 303, answer.text[:500]
        return answer

    def follow(self, answer):
        assert answer.status_code in (302, 303), answer.text[:300]
        return self.get(answer.headers["location"])


def key_of(html: str) -> str:
    """The idempotency key a page's form carries."""
    found = _KEY.search(html)
    assert found is not None
    return found[1]


def cookies_set(answer) -> dict[str, dict[str, str | bool]]:
    """Each cookie ``answer`` sets, with its attributes (lower-case names; flags as True)."""
    out: dict[str, dict[str, str | bool]] = {}
    for header in answer.headers.get_list("set-cookie"):
        parsed = SimpleCookie()
        parsed.load(header)
        for name, morsel in parsed.items():
            attributes: dict[str, str | bool] = {"value": morsel.value}
            for flag in ("httponly", "secure"):
                attributes[flag] = flag in header.lower()
            attributes["samesite"] = str(morsel["samesite"]).lower()
            attributes["path"] = morsel["path"]
            attributes["max-age"] = morsel["max-age"]
            out[name] = attributes
    return out


@pytest.fixture
def pages(api) -> Pages:
    return Pages(api.client.app)


def test_signing_in_sets_an_httponly_samesite_lax_session_cookie_for_the_pages_only(pages):
    answer = pages.sign_in("cat")
    assert answer.headers["location"] == "/web/lines?lang=zh"
    session = cookies_set(answer)["linewise_session"]
    assert session["httponly"] and session["samesite"] == "lax" and session["path"] == "/web"
    assert session["max-age"] == "1800", "the cookie lasts as long as the token in it"
    assert not session["secure"], "development mode serves plain HTTP"
    assert cookies_set(answer)["linewise_csrf"]["httponly"], "a new CSRF nonce comes with the new session"
    assert pages.follow(answer).status_code == 303, "a customer with one line goes straight to it"


def test_in_production_mode_the_session_and_csrf_cookies_are_secure(ledger, model_files, monkeypatch):
    monkeypatch.delenv("LINEWISE_MODE", raising=False)
    app = create_app(settings_for(ledger, model_files, mode="production"), clock=lambda: NOW)
    pages = Pages(app, base_url="https://testserver")  # a Secure cookie is sent back over HTTPS only
    try:
        form = pages.get("/web/sign-in")
        assert cookies_set(form)["linewise_csrf"]["secure"]
        signed = pages.sign_in("cat")
        assert cookies_set(signed)["linewise_session"]["secure"]
    finally:
        app.state.services.engine.dispose()  # no lifespan ran to dispose of it


def test_a_wrong_password_is_told_on_the_page_with_401_and_sets_no_session(pages):
    answer = pages.post("/web/sign-in", {"username": "cat", "password": "wrong password!"}, token_from="/web/sign-in")
    assert answer.status_code == 401
    assert "credentials_invalid" in answer.text and 'lang="zh-CN"' in answer.text
    assert "linewise_session" not in cookies_set(answer)


def test_a_post_without_the_csrf_token_is_refused_with_403_in_the_error_shape_and_writes_nothing(api, pages):
    pages.sign_in("cat")
    before = snapshot(api.engine)
    raw = Pages(api.client.app, accept="*/*")
    raw.client.cookies = pages.client.cookies
    for path, data in (
        ("/web/lines/A1/repayments", {"amount": "100.00"}),
        ("/web/lines/A1/drawdowns", {"amount": "1000", "term": "6"}),
        ("/web/sign-out", {}),
        ("/web/sign-in", {"username": "cat", "password": PASSWORD}),
    ):
        refused = raw.post(path, data)
        assert refused.status_code == 403, (path, refused.text)
        assert refused.json()["code"] == "csrf_token_invalid", path
        assert set(refused.json()) == {"code", "where", "detail"}
        forged = raw.post(path, data, token="x" * 43)
        assert forged.status_code == 403 and forged.json()["code"] == "csrf_token_invalid"
    assert snapshot(api.engine) == before
    page = pages.post("/web/lines/A1/repayments", {"amount": "100.00"})
    assert page.status_code == 403 and "csrf_token_invalid" in page.text, "a browser is told on a page"


def test_a_token_given_before_signing_in_or_to_another_session_is_refused_after_it(api, pages):
    before_sign_in = pages.token_of("/web/sign-in")
    pages.sign_in("cat")
    stale = pages.post("/web/lines/A1/repayments", {"amount": "100.00"}, token=before_sign_in)
    assert stale.status_code == 403
    other = Pages(api.client.app)
    other.sign_in("cody")
    theirs = other.token_of("/web/lines/A2")
    assert pages.post("/web/lines/A1/repayments", {"amount": "100.00"}, token=theirs).status_code == 403


def test_a_form_body_past_the_bound_is_refused_before_it_is_read(pages):
    pages.sign_in("cat")
    token = pages.token_of("/web/lines/A1")
    answer = pages.post("/web/lines/A1/repayments", {"amount": "1", "note": "x" * 20_000}, token=token)
    assert answer.status_code == 422 and "request_invalid" in answer.text


def test_signing_out_needs_the_token_and_forgets_the_session(pages):
    pages.sign_in("ann")
    token = pages.token_of("/web/console")
    answer = pages.post("/web/sign-out", {}, token=token)
    assert answer.status_code == 303 and answer.headers["location"].startswith("/web/sign-in")
    forgotten = cookies_set(answer)["linewise_session"]
    assert forgotten["value"] == "" and forgotten["max-age"] == "0"
    assert pages.get("/web/console").status_code == 303


def test_a_page_asked_for_without_a_session_sends_the_browser_to_sign_in_and_back(pages):
    asked = pages.get("/web/lines/A1?lang=en")
    assert asked.status_code == 303
    assert asked.headers["location"] == "/web/sign-in?lang=en&next=%2Fweb%2Flines%2FA1%3Flang%3Den"
    form = pages.follow(asked)
    assert 'name="next" value="/web/lines/A1?lang=en"' in form.text
    token = _CSRF.search(form.text)[1]
    signed = pages.post(
        "/web/sign-in", {"username": "cat", "password": PASSWORD, "next": "/web/lines/A1?lang=en"}, token=token
    )
    assert signed.headers["location"] == "/web/lines/A1?lang=en"


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/web/", "/docs", "/web\\..\\x"])
def test_a_sign_in_never_sends_the_browser_off_the_pages(pages, target):
    token = pages.token_of()
    signed = pages.post("/web/sign-in", {"username": "cat", "password": PASSWORD, "next": target}, token=token)
    assert signed.headers["location"] == "/web/lines?lang=zh"


def test_an_expired_session_asks_to_sign_in_again(pages):
    old = issue_token(Principal("cat", "customer", "C1"), secret=SECRET, now=NOW.replace(hour=7), minutes=30)
    pages.client.cookies.set("linewise_session", old, path="/web")
    asked = pages.get("/web/lines/A1")
    assert asked.status_code == 303 and "expired=1" in asked.headers["location"]
    assert "请重新登录" in pages.follow(asked).text


def test_the_api_keeps_to_bearer_tokens_and_a_bearer_token_opens_no_page(api, pages):
    signed = pages.sign_in("cat")
    session = cookies_set(signed)["linewise_session"]["value"]
    assert api.client.get("/accounts/A1", headers={"Cookie": f"linewise_session={session}"}).status_code == 401
    stranger = Pages(api.client.app)
    bearer = stranger.client.get("/web/lines/A2", headers={**HTML, **api.auth("cody")})
    assert bearer.status_code == 303, "the pages read their cookie, never the Authorization header"
    spec = api.client.get("/openapi.json").json()
    assert not [path for path in spec["paths"] if path.startswith("/web")]


def test_pages_send_their_security_headers_and_are_never_cached(pages):
    page = pages.get("/web/sign-in")
    assert "default-src 'none'" in page.headers["content-security-policy"]
    assert page.headers["x-frame-options"] == "DENY" and page.headers["cache-control"] == "no-store"
    style = pages.get("/web/static/linewise.css")
    assert style.status_code == 200 and style.headers["content-type"].startswith("text/css")


def test_too_many_failed_sign_ins_are_refused_on_the_page_with_429_and_retry_after(pages):
    token = pages.token_of()
    for _ in range(5):
        assert (
            pages.post("/web/sign-in", {"username": "cat", "password": "not it at all"}, token=token).status_code == 401
        )
    throttled = pages.post("/web/sign-in", {"username": "cat", "password": PASSWORD}, token=token)
    assert throttled.status_code == 429 and "login_rate_limited" in throttled.text
    assert int(throttled.headers["retry-after"]) > 0
    assert "linewise_session" not in cookies_set(throttled)
