"""The application layer on a slice of the real portfolio, with the log in memory and in SQL."""

from __future__ import annotations

import copy
from dataclasses import replace
from datetime import date

import pandas as pd
import pytest
from tests.decide.common import AS_OF, MODEL_REF
from tests.strategy.texts import edit

from linewise.errors import InputError
from linewise.ledger.store.decision_log import SqlDecisionLog
from linewise.review import (
    Book,
    Decider,
    MemoryDecisionLog,
    ReviewRequest,
    decide_book,
    trigger_named,
)
from linewise.review.runs import replay_run
from linewise.strategy import default_strategy_text, read_strategy
from linewise.strategy.compiled import compile_strategy

ACCOUNTS = 1500


@pytest.fixture(scope="module")
def book(uci) -> Book:
    ids = sorted(uci.customers["account_id"].unique())[:ACCOUNTS]
    return Book(
        panel=uci.panel[uci.panel["account_id"].isin(ids)],
        customers=uci.customers[uci.customers["account_id"].isin(ids)],
        currency=uci.currency,
        source="uci-slice",
        as_of=AS_OF,
    )


@pytest.fixture(scope="module")
def decider(uci_gbm, default_strategy) -> Decider:
    return Decider(model=uci_gbm, model_ref=MODEL_REF, strategy=default_strategy)


def test_a_repayment_decides_exactly_the_accounts_whose_arrears_it_cleared(book, decider):
    panel = book.panel.assign(month=pd.to_datetime(book.panel["month"]))
    dpd = panel.pivot(index="account_id", columns="month", values="dpd")
    september, august = pd.Timestamp("2005-09-30"), pd.Timestamp("2005-08-31")
    cleared = sorted(str(a) for a in dpd.index[(dpd[august] > 0) & (dpd[september] == 0)])
    assert cleared, "the slice has repayments that cleared arrears"

    decided = decide_book(book, decider, ReviewRequest(trigger="repayment", recourse=False), log=MemoryDecisionLog())

    assert sorted(decided.decisions["account_id"]) == cleared
    assert set(decided.decisions["trigger"]) == {"repayment"}


def test_the_third_request_within_the_window_is_refused_by_the_request_limit(book, decider):
    reviewed = decide_book(book, decider, ReviewRequest(recourse=False, log=False), log=None).decisions
    request = ReviewRequest(trigger="request", recourse=False)
    account = next(
        a
        for a in reviewed.loc[reviewed["action"] == "increase", "account_id"]
        if decide_book(book, decider, replace(request, account=a), log=MemoryDecisionLog()).decisions["action"].iloc[0]
        == "increase"
    )
    log = MemoryDecisionLog()
    asked = [decide_book(book, decider, replace(request, account=account), log=log) for _ in range(3)]

    assert [float(d.context["requests_in_window"].iloc[0]) for d in asked] == [1.0, 2.0, 3.0]
    third = asked[-1].decisions.iloc[0]
    assert asked[0].decisions["action"].iloc[0] == "increase"
    assert "request_limit_reached" in third["reasons"] and third["action"] != "increase"
    assert [run["trigger"] for run in log.list_runs()] == ["request"] * 3


def test_a_request_must_name_the_account_and_an_unknown_account_is_refused(book, decider):
    log = MemoryDecisionLog()
    with pytest.raises(InputError) as missing:
        decide_book(book, decider, ReviewRequest(trigger="request"), log=log)
    with pytest.raises(InputError) as unknown:
        decide_book(book, decider, ReviewRequest(account="no-such-account"), log=log)
    with pytest.raises(InputError) as trigger:
        decide_book(book, decider, ReviewRequest(trigger="birthday"), log=log)
    assert (missing.value.code, unknown.value.code, trigger.value.code) == (
        "account_required",
        "account_not_found",
        "trigger_unknown",
    )
    assert log.list_runs() == []


def test_a_review_cycle_decides_only_the_accounts_not_reviewed_within_it(book, decider):
    log = MemoryDecisionLog()
    first = decide_book(
        book, decider, ReviewRequest(account=str(book.customers["account_id"].iloc[3]), recourse=False), log=log
    )
    cycle = ReviewRequest(cycle_days=30, recourse=False)
    second = decide_book(book, decider, cycle, log=log)
    assert len(second.decisions) == ACCOUNTS - 1
    assert first.decisions["account_id"].iloc[0] not in set(second.decisions["account_id"])
    assert len(decide_book(book, decider, cycle, log=log).decisions) == 0
    with pytest.raises(InputError, match="decision log") as no_log:
        decide_book(book, decider, replace(cycle, log=False), log=None)
    assert no_log.value.code == "log_required"


def test_a_strategy_or_model_that_does_not_fit_the_book_is_refused_before_anything_is_decided(book, decider):
    log = MemoryDecisionLog()
    in_yuan = compile_strategy(read_strategy(edit(default_strategy_text(), "currency: TWD", "currency: CNY")))
    with pytest.raises(InputError) as currency:
        decide_book(book, replace(decider, strategy=in_yuan), ReviewRequest(), log=log)
    with pytest.raises(InputError) as model_currency:
        decide_book(book, replace(decider, model_currency="CNY"), ReviewRequest(), log=log)
    bare = Book(
        panel=book.panel,
        customers=book.customers[["account_id", "customer_id", "opened_on"]],
        currency=book.currency,
        source="no-customer-data",
        as_of=AS_OF,
    )
    assert {currency.value.code, model_currency.value.code} == {"currency_mismatch"}
    # A model that reads a column the book cannot give (trained on a lender's own table).
    foreign = copy.copy(decider.model)
    foreign.features_ = [*decider.model.features_, "no_such_feature"]
    with pytest.raises(InputError, match="no_such_feature") as lacking:
        decide_book(bare, replace(decider, model=foreign), ReviewRequest(), log=log)
    assert lacking.value.code == "model_features_missing"
    assert log.list_runs() == []


def test_a_run_logged_in_memory_or_in_sql_is_given_back_alike_and_replays_without_a_difference(
    book, decider, sqlite_engine
):
    from linewise.ledger.store import upgrade

    upgrade(sqlite_engine)
    logs = {"memory": MemoryDecisionLog(), "sql": SqlDecisionLog(sqlite_engine)}
    request = ReviewRequest(trigger="repayment")
    runs = {}
    for name, log in logs.items():
        decided = decide_book(book, decider, request, log=log)
        runs[name] = log.load_run(decided.run_id)
        replayed = replay_run(log, decided.run_id, model=decider.model, model_ref=MODEL_REF, model_source="test")
        assert replayed.differences.empty, (name, replayed.differences.head())

    memory, sql = runs["memory"], runs["sql"]
    pd.testing.assert_frame_equal(memory.decisions.astype(str), sql.decisions.astype(str))
    pd.testing.assert_frame_equal(memory.features, sql.features, check_dtype=False)
    pd.testing.assert_frame_equal(memory.context, sql.context, check_dtype=False)
    assert memory.history == sql.history
    account = str(memory.decisions["account_id"].iloc[0])
    for log in logs.values():
        assert log.latest_decision(account).decisions["account_id"].tolist() == [account]
        assert log.last_decided_on("repayment").loc[account] == pd.Timestamp(AS_OF)
        assert log.decisions_since("repayment", date(2005, 9, 1), AS_OF, [account]).to_dict() == {account: 1}


def test_every_trigger_has_its_rule_and_an_unknown_one_is_named_with_the_known(book):
    with pytest.raises(InputError, match="review, repayment, income_proof, request"):
        trigger_named("bureau_update")
    assert trigger_named("request").one_account and trigger_named("request").counts_requests
