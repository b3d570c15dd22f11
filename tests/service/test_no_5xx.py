"""No input gives a 5xx: arbitrary ids, queries, headers and bodies on every route, for every role.

The routes are read from the app; each field of a route's body (from its OpenAPI
schema) gets arbitrary JSON values: text with NUL bytes and other scripts, huge and
negative numbers, floats, nesting. PostgreSQL is where a NUL byte would reach the
driver, so both databases are tried.
"""

from __future__ import annotations

from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.service.conftest import every_route

ODD_TEXT = st.one_of(
    st.text(max_size=30),
    st.sampled_from(["", "\x00", "A1\x00", "../A1", "A" * 300, "\u00c41", "2026-02-30", "9999-12-31", "-1", "1e309"]),
)
JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers(-(10**30), 10**30) | st.floats() | ODD_TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=6,
)
IDS = st.one_of(st.sampled_from(["A1", "A2", "C1", "C2", "1", "0", "NOPE"]), ODD_TEXT.filter(lambda s: "/" not in s))
USERS = st.sampled_from(["cat", "ann", "ada", None])


def body_fields(app, method: str, path: str) -> list[str]:
    """The fields of the route's JSON body, from its OpenAPI schema."""
    spec = app.openapi()
    if path not in spec["paths"]:
        return []  # the docs' own pages
    operation = spec["paths"][path][method.lower()]
    content = operation.get("requestBody", {}).get("content", {})
    schema = content.get("application/json", {}).get("schema")
    if schema is None:
        return []
    name = schema["$ref"].split("/")[-1]
    return list(spec["components"]["schemas"][name].get("properties", {}))


@st.composite
def requests(draw, app):
    method, template = draw(st.sampled_from(every_route(app)))
    path = template
    for name in ("{account_id}", "{customer_id}", "{run}"):
        if name in path:
            path = path.replace(name, quote(draw(IDS), safe="") or "x")
    body = {field: draw(JSONISH) for field in body_fields(app, method, template) if draw(st.booleans())}
    query = draw(
        st.dictionaries(st.sampled_from(["lang", "limit", "offset", "as_of", "month", "target"]), ODD_TEXT, max_size=2)
    )
    key = draw(st.none() | ODD_TEXT.filter(lambda s: "\x00" not in s and "\n" not in s and s.isascii()))
    return method, path, body if draw(st.integers(0, 4)) else draw(JSONISH), query, key, draw(USERS)


def test_no_request_gets_a_5xx(api):
    app = api.client.app

    @settings(
        max_examples=60,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture, HealthCheck.data_too_large],
    )
    @given(request=requests(app))
    def answered(request):
        method, path, body, query, key, user = request
        headers = {} if key is None else {"Idempotency-Key": key}
        answer = api.call(method, path, user, json=body, params=query, headers=headers)
        assert answer.status_code < 500, (method, path, body, query, key, user, answer.text)
        if answer.status_code >= 400:
            assert set(answer.json()) == {"code", "where", "detail"}, answer.text

    answered()


def test_the_openapi_description_names_every_route_and_the_error_shape(api):
    spec = api.client.get("/openapi.json").json()
    assert "ErrorOut" in spec["components"]["schemas"]
    assert {path for _, path in every_route(api.client.app)} - {
        "/openapi.json",
        "/docs",
        "/docs/oauth2-redirect",
        "/redoc",
    } <= set(spec["paths"])
    repay = spec["paths"]["/accounts/{account_id}/repayments"]["post"]
    assert {"201", "401", "403", "404", "409", "422"} <= set(repay["responses"])
    assert spec["components"]["schemas"]["RepaymentIn"]["additionalProperties"] is False


pytestmark = pytest.mark.filterwarnings("ignore::hypothesis.errors.NonInteractiveExampleWarning")
