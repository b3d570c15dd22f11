"""The drawdown preview over HTTP: the ledger's figures and the next review, in words; nothing written."""

from __future__ import annotations

import pytest
from tests.ledger.common import snapshot
from tests.service.test_decisions import assert_customer_safe

from linewise.ledger.service import read_state


def test_a_customer_previews_a_drawdown_and_nothing_is_written(api):
    before = snapshot(api.engine)
    available = read_state(api.engine, "A2").available_credit
    shown = api.call(
        "POST", "/accounts/A2/drawdown-preview?lang=en", "cody", json={"amount": 100_000, "term_months": 6}
    )
    assert shown.status_code == 200, shown.json()
    body = shown.json()
    assert_customer_safe(body)
    assert body["available_after"] == available - 100_000
    assert sum(i["principal_due"] for i in body["schedule"]) == 100_000 and len(body["schedule"]) == 6
    assert body["total_interest"] == sum(i["interest_due"] for i in body["schedule"])
    assert body["bureau_record"]["original_amount"] == 100_000 and body["bureau_record"]["term_months"] == 6
    assert body["text"].startswith("Borrowing CNY 1,000 over 6 months") and "at the next review" in body["text"]
    assert snapshot(api.engine) == before


def test_borrowing_the_whole_line_is_told_it_would_keep_the_next_review_from_raising_it(api):
    available = read_state(api.engine, "A2").available_credit
    shown = api.call(
        "POST", "/accounts/A2/drawdown-preview", "cody", json={"amount": available, "term_months": 12}
    ).json()
    assert shown["utilisation_after"] == pytest.approx(1.0)
    assert shown["next_review_with"]["action"] != "increase"
    assert "100%" in shown["text"] and "额度" in shown["text"]


def test_a_line_in_arrears_is_refused_the_preview_as_it_would_be_refused_the_drawdown(api):
    before = snapshot(api.engine)
    refused = api.call("POST", "/accounts/A1/drawdown-preview", "cat", json={"amount": 100_000, "term_months": 6})
    assert refused.status_code == 422 and refused.json()["code"] == "account_past_due"
    assert snapshot(api.engine) == before
