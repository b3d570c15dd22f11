"""Every route on an account, a customer or a run keeps a customer to its own.

The routes are read from the app, not listed by hand: a new route with an id in its
path fails here until it is added to CALLS (how to call it, and whether it admits
customers), and then it must refuse another customer's id exactly as an unknown one.
"""

from __future__ import annotations

import re

import pytest
from tests.ledger.common import snapshot
from tests.service.conftest import every_route

# A path parameter that names something a customer may own.
ID_PARAMETER = re.compile(r"\{[a-z_]*(id|account|line|loan|run|customer)[a-z_]*\}")

# (method, path) -> (body, admits customers). A body that would be taken from the owner.
CALLS: dict[tuple[str, str], tuple[dict | None, bool]] = {
    ("GET", "/accounts/{account_id}"): (None, True),
    ("POST", "/accounts/{account_id}/drawdowns"): ({"amount": 100_000, "term_months": 6}, True),
    ("POST", "/accounts/{account_id}/drawdown-preview"): ({"amount": 100_000, "term_months": 6}, True),
    ("POST", "/accounts/{account_id}/repayments"): ({"amount": 1_000}, True),
    ("GET", "/accounts/{account_id}/statement"): (None, True),
    ("GET", "/accounts/{account_id}/events"): (None, True),
    ("GET", "/accounts/{account_id}/credit-report"): (None, True),
    ("GET", "/accounts/{account_id}/decisions"): (None, True),
    ("POST", "/accounts/{account_id}/limit-requests"): (None, True),
    ("POST", "/customers/{customer_id}/income"): ({"amount": 1, "source": "declared", "evidence": "e"}, True),
    ("POST", "/customers/{customer_id}/assets"): ({"amount": 1, "evidence": "e"}, True),
    ("PUT", "/accounts/{account_id}/limit"): ({"credit_limit": 1, "reason": "manual_review"}, False),
    ("PUT", "/accounts/{account_id}/status"): ({"status": "frozen", "reason": "manual_freeze"}, False),
    ("POST", "/accounts/{account_id}/decide"): ({}, False),
    ("POST", "/decisions/{run}/{account_id}/replay"): (None, False),
}

# cat is customer C1 (line A1); cody is C2 (line A2).
OTHERS = {"{account_id}": "A2", "{customer_id}": "C2", "{run}": "1"}
UNKNOWN = {"{account_id}": "NOPE", "{customer_id}": "C9", "{run}": "999"}
OWN = {"{account_id}": "A1", "{customer_id}": "C1", "{run}": "1"}


def fill(path: str, ids: dict[str, str]) -> str:
    for name, value in ids.items():
        path = path.replace(name, value)
    return path


def routes_with_ids(app) -> list[tuple[str, str]]:
    return [(method, path) for method, path in every_route(app) if ID_PARAMETER.search(path)]


def test_every_route_with_an_id_in_its_path_is_known_here(api):
    unknown = [route for route in routes_with_ids(api.client.app) if route not in CALLS]
    assert unknown == [], f"add these routes to CALLS (and give them an ownership check): {unknown}"
    assert set(CALLS) <= set(routes_with_ids(api.client.app)), "CALLS names a route the app no longer has"


def test_another_customers_line_customer_or_run_is_refused_as_an_unknown_one_and_nothing_is_written(api):
    before = snapshot(api.engine)
    for method, path in routes_with_ids(api.client.app):
        body, admits_customers = CALLS[(method, path)]
        theirs = api.call(method, fill(path, OTHERS), "cat", json=body)
        unknown = api.call(method, fill(path, UNKNOWN), "cat", json=body)
        expected = 404 if admits_customers else 403
        assert theirs.status_code == expected, (method, path, theirs.json())
        assert theirs.json()["code"] == unknown.json()["code"], (method, path)
        assert unknown.status_code == expected
        if body:  # a bad body tells nothing either: it is answered as on a line that does not exist
            bad_theirs = api.call(method, fill(path, OTHERS), "cat", json={"x": 1})
            bad_unknown = api.call(method, fill(path, UNKNOWN), "cat", json={"x": 1})
            assert bad_theirs.status_code == bad_unknown.status_code in (expected, 422), (method, path)
            assert bad_theirs.json()["code"] == bad_unknown.json()["code"], (method, path)
    assert snapshot(api.engine) == before


@pytest.mark.parametrize(("method", "path"), [route for route, (_, admits) in CALLS.items() if admits])
def test_a_customer_reaches_its_own_line_on_each_route_that_admits_customers(api, method, path):
    body, _ = CALLS[(method, path)]
    answer = api.call(method, fill(path, OWN), "cat", json=body)
    assert answer.status_code not in (401, 403, 404), (method, path, answer.json())


def test_staff_reach_every_customers_lines(api):
    for user in ("ann", "ada"):
        assert api.call("GET", "/accounts/A2", user).status_code == 200
        assert api.call("GET", "/accounts/A1/events", user).status_code == 200
