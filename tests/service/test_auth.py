"""Signing in, tokens, the login limiter and the roles, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import jwt
import pytest
from tests.service.conftest import NOW, PASSWORD, SECRET, every_route, settings_for

from linewise.errors import AccessDeniedError, ConfigurationError
from linewise.service import ServiceSettings, create_app
from linewise.service.limiter import PAIRS_MAX, LoginLimiter, RequestLimiter
from linewise.service.passwords import hash_password, verify_password
from linewise.service.settings import DEVELOPMENT_SECRET
from linewise.service.tokens import Principal, issue_token, read_token


def login(api, username, password=PASSWORD):
    return api.client.post("/auth/token", data={"username": username, "password": password})


def test_a_user_signs_in_with_the_right_password_and_the_token_names_them(api):
    answer = login(api, "cat")
    assert answer.status_code == 200
    body = answer.json()
    assert body["token_type"] == "bearer" and body["role"] == "customer" and body["expires_in"] == 30 * 60
    me = api.client.get("/auth/me", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.json() == {"username": "cat", "role": "customer", "customer_id": "C1"}


@pytest.mark.parametrize(("username", "password"), [("cat", "wrong password"), ("nobody", PASSWORD), ("c a t", "x")])
def test_a_wrong_password_and_an_unknown_user_are_refused_alike(api, username, password):
    answer = login(api, username, password)
    assert answer.status_code == 401
    assert answer.headers["WWW-Authenticate"] == "Bearer"
    assert answer.json() == {
        "code": "credentials_invalid",
        "where": "username",
        "detail": "username and password must match a user; got others",
    }


def test_logins_of_a_username_from_a_client_are_refused_after_five_failures_even_with_the_right_password(api):
    for _ in range(5):
        assert login(api, "cat", "wrong password").status_code == 401
    refused = login(api, "cat")
    assert refused.status_code == 429
    assert refused.json()["code"] == "login_rate_limited"
    assert 1 <= int(refused.headers["Retry-After"]) <= 300
    assert login(api, "cody").status_code == 200, "another username is not held back"


def test_a_success_forgets_the_failures_before_it(api):
    for _ in range(4):
        login(api, "cat", "wrong password")
    assert login(api, "cat").status_code == 200
    for _ in range(4):
        login(api, "cat", "wrong password")
    assert login(api, "cat").status_code == 200


def test_the_limiter_frees_a_pair_once_its_failures_leave_the_window():
    now = [0.0]
    limiter = LoginLimiter(failures_max=2, window_s=60, clock=lambda: now[0])
    limiter.failed("u", "1.2.3.4")
    now[0] = 30
    limiter.failed("u", "1.2.3.4")
    assert limiter.retry_after("u", "1.2.3.4") == 31
    assert limiter.retry_after("u", "5.6.7.8") == 0, "another client is not held back"
    now[0] = 60.5
    assert limiter.retry_after("u", "1.2.3.4") == 0


def test_the_request_limiter_counts_every_attempt_and_frees_a_line_once_they_leave_the_window():
    now = [0.0]
    limiter = RequestLimiter(attempts_max=2, window_s=60, clock=lambda: now[0])
    assert limiter.take("A1") == 0
    now[0] = 30
    assert limiter.take("A1") == 0
    assert limiter.take("A1") == 31, "a third attempt within the window waits for the first to leave it"
    assert limiter.take("A2") == 0, "another line is not held back"
    now[0] = 60.5
    assert limiter.take("A1") == 0, "a refused attempt was not counted"
    assert limiter.take("A1") == 30


def test_the_limiter_remembers_a_bounded_number_of_pairs():
    limiter = LoginLimiter(failures_max=1, window_s=60, clock=lambda: 0.0)
    for i in range(PAIRS_MAX + 10):
        limiter.failed(f"user{i}", "client")
    assert limiter.retry_after("user0", "client") == 0, "the oldest pair is forgotten"
    assert limiter.retry_after(f"user{PAIRS_MAX + 9}", "client") > 0
    for i in range(100):
        limiter.retry_after(f"asked{i}", "client")
    assert len(limiter._failures) == PAIRS_MAX, "asking remembers nothing"


@pytest.mark.parametrize(
    ("headers", "code"),
    [
        ({}, "not_authenticated"),
        ({"Authorization": "Bearer not-a-token"}, "token_invalid"),
        ({"Authorization": "Basic Y2F0OnB3"}, "not_authenticated"),
    ],
)
def test_a_request_without_a_valid_token_is_401(api, headers, code):
    answer = api.client.get("/accounts/A1", headers=headers)
    assert answer.status_code == 401 and answer.json()["code"] == code
    assert answer.headers["WWW-Authenticate"] == "Bearer"


def test_a_token_signed_with_another_secret_or_expired_is_refused(api):
    cat = Principal("cat", "customer", "C1")
    forged = issue_token(cat, secret="another secret of enough length to sign with", now=NOW, minutes=30)
    assert api.client.get("/auth/me", headers={"Authorization": f"Bearer {forged}"}).json()["code"] == "token_invalid"
    old = issue_token(cat, secret=SECRET, now=NOW - timedelta(minutes=31), minutes=30)
    expired = api.client.get("/auth/me", headers={"Authorization": f"Bearer {old}"})
    assert expired.status_code == 401 and expired.json()["code"] == "token_expired"


def test_a_token_with_another_algorithm_or_a_role_changed_is_refused():
    claims = jwt.decode(
        issue_token(Principal("cat", "customer", "C1"), secret=SECRET, now=NOW, minutes=5),
        SECRET,
        algorithms=["HS256"],
        options={"verify_exp": False},
    )
    unsigned = jwt.encode({**claims, "role": "admin"}, None, algorithm="none")
    tampered = jwt.encode({**claims, "role": "admin"}, "a guess at the secret, long enough to sign", algorithm="HS256")
    for token in (unsigned, tampered):
        with pytest.raises(AccessDeniedError) as refused:
            read_token(token, secret=SECRET, now=NOW)
        assert refused.value.code == "token_invalid"


# (method, path, json body): who may not, by role
REFUSED = {
    "customer": [
        ("POST", "/accounts", {"account_id": "N1", "customer_id": "C1", "credit_limit": 100}),
        ("PUT", "/accounts/A1/limit", {"credit_limit": 1, "reason": "manual_review"}),
        ("PUT", "/accounts/A1/status", {"status": "frozen", "reason": "manual_freeze"}),
        ("POST", "/accounts/A1/decide", {}),
        ("POST", "/decisions/1/A1/replay", None),
        ("GET", "/audit", None),
    ],
    "analyst": [
        ("POST", "/accounts", {"account_id": "N1", "customer_id": "C1", "credit_limit": 100}),
        ("POST", "/accounts/A1/drawdowns", {"amount": 10_000, "term_months": 6}),
        ("POST", "/accounts/A1/repayments", {"amount": 100}),
        ("PUT", "/accounts/A1/limit", {"credit_limit": 1, "reason": "manual_review"}),
        ("PUT", "/accounts/A1/status", {"status": "frozen", "reason": "manual_freeze"}),
        ("POST", "/accounts/A1/limit-requests", None),
        ("POST", "/customers/C1/income", {"amount": 1, "source": "declared", "evidence": "e"}),
        ("GET", "/audit", None),
    ],
    "admin": [("POST", "/accounts/A1/limit-requests", None)],
}
USER_OF_ROLE = {"customer": "cat", "analyst": "ann", "admin": "ada"}


@pytest.mark.parametrize("role", list(REFUSED))
def test_each_role_is_refused_with_403_where_it_may_not_go_and_nothing_is_written(api, role):
    from tests.ledger.common import snapshot

    before = snapshot(api.engine)
    for method, path, body in REFUSED[role]:
        answer = api.call(method, path, USER_OF_ROLE[role], json=body)
        assert answer.status_code == 403, (role, method, path, answer.json())
        assert answer.json()["code"] == "role_forbidden"
        assert answer.json()["detail"].endswith(f"got {role!r}")
    assert snapshot(api.engine) == before


def test_every_route_but_signing_in_and_the_docs_asks_for_a_token(api):
    open_paths = {"/auth/token", "/docs", "/docs/oauth2-redirect", "/redoc", "/openapi.json", "/healthz"}
    routes = [(method, path) for method, path in every_route(api.client.app) if path not in open_paths]
    assert len(routes) >= 14
    for method, template in routes:
        path = template.replace("{run}", "1").replace("{account_id}", "A1").replace("{customer_id}", "C1")
        answer = api.client.request(method, path)
        assert answer.status_code == 401, (method, path)


def test_production_refuses_to_start_without_a_secret_of_its_own(ledger, model_files):
    for secret in ("", DEVELOPMENT_SECRET, "short"):
        with pytest.raises(ConfigurationError, match="LINEWISE_SECRET: secret must be a random value"):
            create_app(settings_for(ledger, model_files, mode="production", secret=secret))
    app = create_app(settings_for(ledger, model_files, mode="production", secret="s" * 40))
    app.state.services.engine.dispose()


def test_development_signs_with_the_development_secret_when_none_is_set():
    assert ServiceSettings(secret="").signing_secret() == DEVELOPMENT_SECRET


def test_passwords_are_stored_as_argon2_hashes_that_verify_only_their_password():
    stored = hash_password(PASSWORD)
    assert stored.startswith("$argon2id$") and PASSWORD not in stored
    assert verify_password(stored, PASSWORD)
    assert not verify_password(stored, PASSWORD + "!")
    assert not verify_password(None, PASSWORD)
    assert not verify_password("not a hash", PASSWORD)
