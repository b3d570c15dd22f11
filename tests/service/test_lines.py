"""Lines over HTTP: open, draw, repay with idempotency keys, limits and statuses by hand, reads, refusals."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from tests.ledger.common import snapshot

from linewise.ledger.service import read_state
from linewise.ledger.store.tables import audit_log, events

OPEN = {"account_id": "N1", "customer_id": "C1", "credit_limit": 500_000, "currency": "CNY", "on": "2026-01-10"}


def event_count(engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(events)).scalar_one())


def audit_rows(engine) -> list[dict]:
    with engine.connect() as conn:
        return [dict(row) for row in conn.execute(select(audit_log).order_by(audit_log.c.id)).mappings()]


def test_an_admin_opens_a_line_once_per_key_and_the_opening_is_audited(api):
    key = {"Idempotency-Key": "open-n1"}
    first = api.call("POST", "/accounts", "ada", json=OPEN, headers=key)
    assert first.status_code == 201, first.json()
    assert first.json()["credit_limit"] == 500_000 and first.json()["duplicate"] is False
    count = event_count(api.engine)
    again = api.call("POST", "/accounts", "ada", json=OPEN, headers=key)
    assert again.status_code == 201 and again.json() == {**first.json(), "duplicate": True}
    assert event_count(api.engine) == count
    [row] = [r for r in audit_rows(api.engine) if r["target"] == "account:N1"]
    assert (row["actor"], row["action"], row["ref"]) == ("ada", "line_opened", "open-n1")
    shown = api.call("GET", "/accounts/N1", "cat").json()
    assert shown["customer_id"] == "C1" and shown["status"] == "active" and shown["dpd"] == 0


def test_a_key_reused_with_another_body_is_a_conflict_and_writes_nothing(api):
    key = {"Idempotency-Key": "draw-1"}
    body = {"amount": 100_000, "term_months": 6}
    assert api.call("POST", "/accounts/A2/drawdowns", "cody", json=body, headers=key).status_code == 201
    before = snapshot(api.engine)
    clash = api.call("POST", "/accounts/A2/drawdowns", "cody", json={**body, "amount": 200_000}, headers=key)
    assert clash.status_code == 409
    assert clash.json()["code"] == "event_exists_with_different_amount"
    assert clash.json()["where"] == "key draw-1"
    assert snapshot(api.engine) == before


def test_a_repayment_retried_with_its_key_answers_as_the_first_time_and_asks_for_no_second_decision(api):
    key = {"Idempotency-Key": "pay-jan"}
    first = api.call("POST", "/accounts/A2/repayments", "cody", json={"amount": 74_000}, headers=key)
    assert first.status_code == 201, first.json()
    assert first.json()["allocated"]["interest"] > 0 and first.json()["follow_up"]["asked"] is True
    count = event_count(api.engine)
    again = api.call("POST", "/accounts/A2/repayments", "cody", json={"amount": 74_000}, headers=key)
    assert again.status_code == 201
    assert {k: v for k, v in again.json().items() if k not in ("duplicate", "follow_up")} == {
        k: v for k, v in first.json().items() if k not in ("duplicate", "follow_up")
    }
    assert again.json()["duplicate"] is True and again.json()["follow_up"] == {
        "asked": False,
        "due": False,
        "decision": None,
        "error": None,
    }
    assert event_count(api.engine) == count
    other = api.call("POST", "/accounts/A2/repayments", "cody", json={"amount": 75_000}, headers=key)
    assert other.status_code == 409 and other.json()["code"] == "event_exists_with_different_amount"


def test_the_idempotency_key_is_the_ledger_key_scoped_to_the_account(api):
    key = {"Idempotency-Key": "same-key"}
    assert api.call("POST", "/accounts/A1/repayments", "cat", json={"amount": 1_000}, headers=key).status_code == 201
    assert api.call("POST", "/accounts/A2/repayments", "cody", json={"amount": 1_000}, headers=key).status_code == 201
    for account, user in (("A1", "cat"), ("A2", "cody")):
        page = api.call("GET", f"/accounts/{account}/events?limit=200", user).json()
        [event] = [e for e in page["items"] if e["idempotency_key"] == "same-key"]
        assert event["kind"] == "repayment" and event["payload"]["amount"] == 1_000


@pytest.mark.parametrize(
    ("path", "body", "where"),
    [
        ("/accounts/A1/repayments", {"amount": 100, "credit_limit": 9_999_999}, "body.credit_limit"),
        ("/accounts/A1/repayments", {"amount": 100, "account_id": "A2"}, "body.account_id"),
        ("/accounts/A1/drawdowns", {"amount": 100, "term_months": 6, "status": "active"}, "body.status"),
        ("/accounts/A1/drawdowns", {"amount": 100, "term_months": 6, "customer_id": "C2"}, "body.customer_id"),
        (
            "/customers/C1/income",
            {"amount": 1, "source": "declared", "evidence": "e", "customer_id": "C2"},
            "body.customer_id",
        ),
    ],
)
def test_a_customer_body_cannot_carry_privileged_fields(api, path, body, where):
    before = snapshot(api.engine)
    answer = api.call("POST", path, "cat", json=body)
    assert answer.status_code == 422
    assert answer.json()["code"] == "request_invalid" and answer.json()["where"] == where
    assert snapshot(api.engine) == before


@pytest.mark.parametrize(
    ("body", "code", "where"),
    [
        ({"amount": 100.5}, "request_invalid", "body.amount"),
        ({"amount": "100"}, "request_invalid", "body.amount"),
        ({"amount": True}, "request_invalid", "body.amount"),
        ({"amount": 0}, "request_invalid", "body.amount"),
        ({"amount": 10**30}, "request_invalid", "body.amount"),
        ({}, "request_invalid", "body.amount"),
        ({"amount": 100, "on": "2026-13-01"}, "date_malformed", "body.on"),
        ({"amount": 100, "on": 1767225600}, "request_invalid", "body.on"),
        ({"amount": 100, "on": "2099-01-01"}, "date_after_today", "body.on"),
        ({"amount": 100, "on": "2025-01-01"}, "occurred_on_before_line_opened", "A1"),
        ({"amount": 100, "on": "2025-09-01"}, "occurred_on_before_last_event", "A1"),
        ({"amount": 10**12}, "exceeds_amount_outstanding", "A1"),
    ],
)
def test_bad_input_is_refused_as_code_where_detail_and_writes_nothing(api, body, code, where):
    before = snapshot(api.engine)
    answer = api.call("POST", "/accounts/A1/repayments", "cat", json=body, headers={"Idempotency-Key": "k"})
    assert 400 <= answer.status_code < 500, answer.json()
    assert set(answer.json()) == {"code", "where", "detail"}
    assert (answer.json()["code"], answer.json()["where"]) == (code, where), answer.json()
    assert snapshot(api.engine) == before


@pytest.mark.parametrize(
    ("method", "path", "headers", "status", "code"),
    [
        ("POST", "/accounts/A1/repayments", {"Idempotency-Key": "has space"}, 422, "key_malformed"),
        ("GET", "/accounts/A%20B", {}, 422, "id_malformed"),
        ("GET", "/accounts/" + "A" * 65, {}, 422, "id_malformed"),
        ("GET", "/accounts/A1/events?limit=201", {}, 422, "request_invalid"),
        ("GET", "/accounts/A1/events?offset=-1", {}, 422, "request_invalid"),
        ("GET", "/accounts/A1/statement?as_of=yesterday", {}, 422, "date_malformed"),
        ("GET", "/accounts/A1/credit-report?month=2026-01", {}, 422, "month_not_over"),
        ("GET", "/accounts/A1/decisions?lang=fr", {}, 422, "request_invalid"),
        ("GET", "/nowhere", {}, 404, "route_not_found"),
        ("DELETE", "/accounts/A1", {}, 405, "method_not_allowed"),
        ("GET", "/accounts/NOPE", {}, 404, "account_not_found"),
    ],
)
def test_every_refusal_has_one_shape(api, method, path, headers, status, code):
    answer = api.call(method, path, "cat", headers=headers, json={"amount": 100} if method == "POST" else None)
    assert answer.status_code == status, answer.json()
    assert set(answer.json()) == {"code", "where", "detail"} and answer.json()["code"] == code


def test_an_admin_sets_a_limit_and_a_status_by_hand_with_reasons_audited(api):
    limit = api.call(
        "PUT",
        "/accounts/A2/limit",
        "ada",
        json={"credit_limit": 2_500_000, "reason": "manual_review", "note": "salary letter seen"},
        headers={"Idempotency-Key": "limit-1"},
    )
    assert limit.status_code == 200, limit.json()
    assert limit.json()["previous_credit_limit"] == 2_000_000 and limit.json()["credit_limit"] == 2_500_000
    frozen = api.call("PUT", "/accounts/A2/status", "ada", json={"status": "frozen", "reason": "suspected_fraud"})
    assert frozen.status_code == 200 and frozen.json()["status"] == "frozen"
    state = read_state(api.engine, "A2")
    assert state.line.credit_limit == 2_500_000 and state.line.status.value == "frozen"
    rows = [r for r in audit_rows(api.engine) if r["target"] == "account:A2"]
    assert [(r["actor"], r["action"], r["reason"]) for r in rows] == [
        ("ada", "limit_set_by_hand", "manual_review"),
        ("ada", "status_set_by_hand", "suspected_fraud"),
    ]
    assert '"note": "salary letter seen"' in rows[0]["detail"]
    page = api.call("GET", "/audit?target=account:A2", "ada").json()
    assert page["total"] == 2 and page["items"][0]["action"] == "status_set_by_hand"
    refused = api.call("POST", "/accounts/A2/drawdowns", "cody", json={"amount": 100_000, "term_months": 6})
    assert refused.status_code == 422 and refused.json()["code"] == "line_frozen"


def test_an_admin_drawing_or_repaying_for_a_customer_is_audited_and_the_customer_is_not(api):
    assert (
        api.call(
            "POST", "/accounts/A2/repayments", "ada", json={"amount": 1_000}, headers={"Idempotency-Key": "r1"}
        ).status_code
        == 201
    )
    assert (
        api.call(
            "POST", "/accounts/A2/repayments", "ada", json={"amount": 1_000}, headers={"Idempotency-Key": "r1"}
        ).status_code
        == 201
    )
    assert api.call("POST", "/accounts/A2/repayments", "cody", json={"amount": 1_000}).status_code == 201
    rows = [r for r in audit_rows(api.engine) if r["target"] == "account:A2"]
    assert [(r["actor"], r["action"], r["ref"]) for r in rows] == [("ada", "repayment_by_staff", "r1")]


def test_a_change_by_hand_needs_a_reason_code(api):
    before = snapshot(api.engine)
    for body in ({"credit_limit": 1}, {"credit_limit": 1, "reason": "Because I said so"}):
        answer = api.call("PUT", "/accounts/A2/limit", "ada", json=body)
        assert answer.status_code == 422 and answer.json()["where"] in ("body.reason", "body.reason")
    assert snapshot(api.engine) == before


def test_statement_events_and_credit_report_read_the_ledger(api):
    statement = api.call("GET", "/accounts/A1/statement", "cat").json()
    assert statement["dpd"] > 0 and statement["bucket"] != "current"
    assert [r["key"] for r in statement["repayments"]] == [f"pay-A1-{m}" for m in range(7, 11)]
    assert statement["drawdowns"][0]["instalments"][0]["on_time"] is True
    first = api.call("GET", "/accounts/A1/events?limit=2", "cat").json()
    rest = api.call("GET", "/accounts/A1/events?limit=200&offset=2", "cat").json()
    assert first["total"] == rest["total"] == 6
    assert [e["kind"] for e in first["items"]] == ["line_opened", "drawdown"]
    assert [e["seq"] for e in first["items"] + rest["items"]] == list(range(1, 7))
    report = api.call("GET", "/accounts/A1/credit-report?month=2025-12", "ann").json()
    assert report["month"] == "2025-12" and report["records"][0]["record_type"] == "line"
    assert report["records"][0]["days_past_due"] > 0
