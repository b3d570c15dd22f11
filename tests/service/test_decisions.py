"""Decisions over HTTP: called by repayments and proofs, asked for by staff and customers, told, replayed."""

from __future__ import annotations

import json

import pytest
from tests.ledger.common import snapshot
from tests.service.conftest import TODAY

from linewise.ledger.posting import due_amount
from linewise.ledger.service import read_state
from linewise.ledger.store.customers import customers_as_of

# What a customer is never shown, at any depth of any answer.
HIDDEN = {"pd", "score", "risk_grade", "features", "analysis_reasons", "reason_codes", "segment", "model"}


def keys_in(value) -> set[str]:
    if isinstance(value, dict):
        return set(value) | {k for v in value.values() for k in keys_in(v)}
    if isinstance(value, list):
        return {k for v in value for k in keys_in(v)}
    return set()


def assert_customer_safe(body) -> None:
    shown = keys_in(body)
    assert not shown & HIDDEN, shown & HIDDEN
    assert all(not isinstance(v, dict) or v.get("analysis") is None for v in _decisions(body))


def _decisions(value):
    if isinstance(value, dict):
        if "notice" in value:
            yield value
        for v in value.values():
            yield from _decisions(v)
    elif isinstance(value, list):
        for v in value:
            yield from _decisions(v)


def freeze_a1(api) -> dict:
    frozen = api.call("POST", "/accounts/A1/decide", "ann", json={"apply": True})
    assert frozen.status_code == 200, frozen.json()
    return frozen.json()


def test_a_line_in_arrears_decided_and_applied_by_an_analyst_is_frozen_and_the_change_is_audited(api):
    made = freeze_a1(api)
    decision = made["decision"]
    assert made["due"] and decision["action"] == "freeze" and decision["analysis"]["pd"] is not None
    assert decision["outcome"]["applied"] and decision["outcome"]["status_after"] == "frozen"
    assert read_state(api.engine, "A1").line.status.value == "frozen"
    audit = api.call("GET", "/audit?target=account:A1", "ada").json()["items"]
    assert audit[0]["action"] == "decision_applied" and audit[0]["actor"] == "ann"
    assert audit[0]["ref"] == f"decision:{decision['run']}:A1"


def test_a_repayment_that_clears_the_arrears_calls_a_decision_that_unfreezes_the_line(api):
    freeze_a1(api)
    owed = due_amount(read_state(api.engine, "A1"), TODAY)
    paid = api.call("POST", "/accounts/A1/repayments?lang=en", "cat", json={"amount": owed})
    assert paid.status_code == 201, paid.json()
    body = paid.json()
    assert body["status"] == "frozen", "the posting's own result is the line before the decision"
    follow = body["follow_up"]
    assert follow["asked"] and follow["due"] and follow["error"] is None
    decision = follow["decision"]
    assert decision["trigger"] == "repayment" and decision["action"] != "freeze"
    assert decision["outcome"]["applied"] is True
    assert (decision["outcome"]["status_before"], decision["outcome"]["status_after"]) == ("frozen", "active")
    assert_customer_safe(body)
    line = api.call("GET", "/accounts/A1", "cat").json()
    assert line["status"] == "active" and line["dpd"] == 0
    assert line["credit_limit"] == decision["new_limit"]


def test_an_on_time_repayment_on_a_current_line_calls_for_no_decision(api):
    paid = api.call("POST", "/accounts/A2/repayments", "cody", json={"amount": 74_000})
    assert paid.status_code == 201
    assert paid.json()["follow_up"]["due"] is False


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_customer_is_told_the_decision_in_its_language_without_the_models_figures(api, lang):
    freeze_a1(api)
    told = api.call("GET", f"/accounts/A1/decisions?lang={lang}", "cat")
    assert told.status_code == 200
    [decision] = told.json()["items"]
    assert_customer_safe(told.json())
    assert decision["action"] == "freeze" and decision["lang"] == lang
    assert decision["reasons"] and all(reason in decision["notice"] for reason in decision["reasons"])
    assert decision["recourse"] and decision["recourse"] in decision["notice"]
    assert decision["recourse_limit"] > decision["new_limit"]
    if lang == "zh":
        assert "冻结" in decision["notice"]
    else:
        assert "frozen" in decision["notice"].lower()
    raw = json.dumps(told.json())
    assert '"pd"' not in raw and '"score"' not in raw and "risk_grade" not in raw


def test_an_analyst_reads_the_same_decision_with_the_models_figures_and_features(api):
    freeze_a1(api)
    [seen] = api.call("GET", "/accounts/A1/decisions?lang=en", "ann").json()["items"]
    analysis = seen["analysis"]
    assert 0 <= analysis["pd"] <= 1 and analysis["risk_grade"] and analysis["features"]["dpd_current"] > 0
    assert analysis["reason_codes"] and analysis["analyst_reasons"][0].startswith(analysis["reason_codes"][0])


def test_a_line_never_decided_has_no_decisions(api):
    answer = api.call("GET", "/accounts/A2/decisions", "cody")
    assert answer.status_code == 200
    assert answer.json() == {"account_id": "A2", "items": [], "limit": 10, "offset": 0, "total": 0}


def test_a_lines_decisions_come_newest_first_a_page_at_a_time(api):
    freeze_a1(api)
    asked = api.call("POST", "/accounts/A1/decide", "ann", json={"trigger": "review"})
    assert asked.status_code == 200, asked.json()
    first = api.call("GET", "/accounts/A1/decisions?limit=1", "cat").json()
    second = api.call("GET", "/accounts/A1/decisions?limit=1&offset=1", "cat").json()
    assert first["total"] == second["total"] == 2
    assert first["items"][0]["run"] > second["items"][0]["run"]
    both = api.call("GET", "/accounts/A1/decisions", "cat").json()["items"]
    assert [d["run"] for d in both] == [first["items"][0]["run"], second["items"][0]["run"]]
    too_many = api.call("GET", "/accounts/A1/decisions?limit=51", "cat")
    assert too_many.status_code == 422 and too_many.json()["code"] == "request_invalid"


def test_an_income_proof_is_stored_and_calls_a_decision_on_each_of_the_customers_lines(api):
    body = {"amount": 3_000_000, "source": "income_proof", "evidence": "payslip-2026-01", "on": "2026-01-05"}
    proved = api.call("POST", "/customers/C2/income?lang=en", "cody", json=body)
    assert proved.status_code == 201, proved.json()
    out = proved.json()
    assert (out["kind"], out["amount"], out["currency"], out["verified_on"]) == (
        "income",
        3_000_000,
        "CNY",
        "2026-01-05",
    )
    follow = out["follow_ups"]["A2"]
    assert follow["asked"] and follow["due"] and follow["decision"]["trigger"] == "income_proof"
    assert follow["decision"]["outcome"] is not None
    assert_customer_safe(out)
    [stored] = customers_as_of(api.engine, TODAY, ["A2"]).to_dict("records")
    assert stored["income_monthly"] == 3_000_000 and stored["income_source"] == "income_proof"


def test_an_asset_proof_is_stored_through_the_store_and_a_bad_one_writes_nothing(api):
    from tests.ledger.common import snapshot

    ok = api.call("POST", "/customers/C1/assets", "cat", json={"amount": 10_000_000, "evidence": "deposit:2026/01"})
    assert ok.status_code == 201 and ok.json()["kind"] == "assets" and set(ok.json()["follow_ups"]) == {"A1"}
    before = snapshot(api.engine)
    for body, code in (
        ({"amount": 1, "evidence": "bad evidence with spaces"}, "evidence_malformed"),
        ({"amount": 1, "evidence": "e", "currency": "USD"}, "currency_mismatch"),
        ({"amount": 1, "evidence": "e", "on": "2030-01-01"}, "date_after_today"),
        ({"amount": -1, "evidence": "e"}, "request_invalid"),
    ):
        refused = api.call("POST", "/customers/C1/assets", "cat", json=body)
        assert refused.status_code == 422 and refused.json()["code"] == code, refused.json()
    assert snapshot(api.engine) == before


def test_an_admin_recording_a_proof_is_audited(api):
    body = {"amount": 1_500_000, "source": "bank_statement", "evidence": "stmt-7"}
    assert api.call("POST", "/customers/C1/income", "ada", json=body).status_code == 201
    [row] = api.call("GET", "/audit?target=customer:C1", "ada").json()["items"]
    assert row["action"] == "income_recorded" and row["actor"] == "ada" and row["detail"]["income_monthly"] == 1_500_000


def test_a_customer_asking_for_more_gets_a_decision_by_the_request_trigger(api):
    asked = api.call("POST", "/accounts/A2/limit-requests?lang=en", "cody")
    assert asked.status_code == 200, asked.json()
    decision = asked.json()["decision"]
    assert decision["trigger"] == "request" and decision["outcome"] is not None
    assert_customer_safe(asked.json())


def test_a_decision_that_fails_after_a_repayment_is_told_and_the_repayment_stands(api, ledger, model_files, tmp_path):
    from fastapi.testclient import TestClient
    from tests.service.conftest import NOW, settings_for

    from linewise.service import create_app

    twd = tmp_path / "twd.yaml"
    twd.write_text(
        model_files[1].read_text(encoding="utf-8").replace("currency: CNY", "currency: TWD"), encoding="utf-8"
    )
    app = create_app(settings_for(ledger, model_files, strategy_file=twd), clock=lambda: NOW)
    owed = due_amount(read_state(api.engine, "A1"), TODAY)
    with TestClient(app) as client:
        paid = client.post(
            "/accounts/A1/repayments", json={"amount": owed}, headers={"Authorization": f"Bearer {api.token('cat')}"}
        )
    assert paid.status_code == 201
    follow = paid.json()["follow_up"]
    assert follow["asked"] and follow["decision"] is None and follow["error"]["code"] == "currency_mismatch"
    events = api.call("GET", "/accounts/A1/events?limit=200", "cat").json()["items"]
    assert events[-1]["kind"] == "repayment" and events[-1]["payload"]["amount"] == owed


def test_a_repayment_on_a_current_line_asks_for_no_decision_and_logs_none(api):
    runs = api.call("GET", "/accounts/A2/decisions", "cody").json()["total"]
    paid = api.call("POST", "/accounts/A2/repayments", "cody", json={"amount": 5_000})
    assert paid.status_code == 201, paid.json()
    assert paid.json()["follow_up"] == {"asked": True, "due": False, "decision": None, "error": None}
    assert api.call("GET", "/accounts/A2/decisions", "cody").json()["total"] == runs


def test_a_logged_decision_replays_the_same_and_an_unknown_run_or_account_is_404(api):
    run = freeze_a1(api)["decision"]["run"]
    replayed = api.call("POST", f"/decisions/{run}/A1/replay", "ann")
    assert replayed.status_code == 200, replayed.json()
    assert replayed.json()["same"] is True and replayed.json()["differences"] == []
    assert api.call("POST", f"/decisions/{run + 100}/A1/replay", "ann").json()["code"] == "run_not_found"
    assert api.call("POST", f"/decisions/{run}/A2/replay", "ann").json()["code"] == "account_not_found"
    assert api.call("POST", "/decisions/0/A1/replay", "ann").json()["code"] == "request_invalid"


def test_a_line_asking_for_more_too_often_is_refused_before_anything_is_decided(api):
    for _ in range(3):
        asked = api.call("POST", "/accounts/A2/limit-requests", "cody")
        assert asked.status_code == 200, asked.json()
    before = snapshot(api.engine)
    refused = api.call("POST", "/accounts/A2/limit-requests", "cody")
    assert refused.status_code == 429 and refused.json()["code"] == "request_rate_limited"
    assert 0 < int(refused.headers["Retry-After"]) <= 3600
    assert snapshot(api.engine) == before
    assert api.call("POST", "/accounts/A1/limit-requests", "cat").status_code == 200  # another line asks on


def test_a_run_larger_than_a_request_may_replay_is_refused_naming_the_command_and_nothing_is_written(api, monkeypatch):
    from linewise.service.api import decisions

    run = freeze_a1(api)["decision"]["run"]
    monkeypatch.setattr(decisions, "REPLAY_ACCOUNTS_MAX", 0)
    before = snapshot(api.engine)
    refused = api.call("POST", f"/decisions/{run}/A1/replay", "ann")
    assert refused.status_code == 422 and refused.json()["code"] == "run_too_large"
    assert f"linewise decisions replay --run {run}" in refused.json()["detail"]
    assert snapshot(api.engine) == before
