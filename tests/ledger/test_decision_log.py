"""The decision log on SQLite and PostgreSQL: stored with the features, read back, replayed exactly."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from sqlalchemy import select, update
from tests.decide.common import AS_OF, MODEL_REF
from tests.strategy.texts import edit

from linewise.decide import decide, replay
from linewise.errors import InputError
from linewise.features.projection import history_from_records, history_records
from linewise.ledger.store.decision_log import (
    latest_decision,
    list_runs,
    load_run,
    save_run,
)
from linewise.ledger.store.tables import decision_runs, decisions, strategies
from linewise.strategy import default_strategy_text, read_strategy
from linewise.strategy.compiled import compile_strategy
from linewise.strategy.evaluate import Context


@pytest.fixture(scope="module")
def sample(uci_decided):
    """Accounts of every action, with recourse and without."""
    picked = pd.concat([group.head(150) for _, group in uci_decided.groupby("action")])
    return picked.reset_index(drop=True)


@pytest.fixture(scope="module")
def changed_on(sample):
    """A last limit change for some accounts, so that the context round-trips too."""
    dates = pd.Series(pd.NaT, index=pd.Index(sample["account_id"], name="account_id"), dtype="datetime64[ns]")
    dates.iloc[::7] = pd.Timestamp("2005-07-31")
    return dates.to_frame("last_limit_change_on")


@pytest.fixture(scope="module")
def history(sample, uci_history):
    """The records each sampled decision's recourse was lived on, as a run stores them."""
    return history_records(uci_history.rows(uci_history.position_of(pd.Index(sample["account_id"]))))


def _replay(stored, model, strategy):
    context = Context(
        as_of=stored.as_of, trigger=stored.trigger, last_limit_change_on=stored.context["last_limit_change_on"]
    )
    history = (
        None
        if stored.history is None
        else history_from_records(stored.history, list(stored.decisions["account_id"]), stored.as_of)
    )
    return replay(
        stored.decisions,
        stored.features,
        context,
        model=model,
        model_ref=stored.model_ref,
        strategy=strategy,
        history=history,
        recourse=stored.with_recourse,
    )


def test_a_run_reads_back_as_it_was_decided(engine, sample, changed_on, uci_inputs):
    run_id = save_run(
        engine,
        sample,
        uci_inputs.features,
        strategy_text=default_strategy_text(),
        with_recourse=True,
        context=changed_on,
    )
    stored = load_run(engine, run_id)
    assert (stored.as_of, stored.trigger, stored.strategy_ref, stored.model_ref) == (
        AS_OF,
        "review",
        "default@1",
        MODEL_REF,
    )
    assert stored.strategy_text == default_strategy_text()
    pd.testing.assert_frame_equal(stored.decisions, sample, check_dtype=False)
    # Feature values come back bit for bit, missing ones as NaN.
    original = uci_inputs.features.loc[sample["account_id"]]
    pd.testing.assert_frame_equal(stored.features, original, check_exact=True, check_names=False)
    assert stored.context["last_limit_change_on"].notna().sum() == changed_on["last_limit_change_on"].notna().sum()


def test_a_stored_run_replays_with_no_difference_and_a_changed_feature_is_caught(
    engine, sample, uci_inputs, uci_gbm, default_strategy, history
):
    run_id = save_run(
        engine, sample, uci_inputs.features, strategy_text=default_strategy_text(), with_recourse=True, history=history
    )
    stored = load_run(engine, run_id)
    assert _replay(stored, uci_gbm, default_strategy).empty
    account = sample.loc[sample["action"] == "hold", "account_id"].iloc[0]
    with engine.begin() as conn:
        text = conn.execute(select(decisions.c.features).where(decisions.c.account_id == account)).scalar_one()
        features = json.loads(text) | {"dpd_current": 45.0}
        conn.execute(update(decisions).where(decisions.c.account_id == account).values(features=json.dumps(features)))
    differences = _replay(load_run(engine, run_id), uci_gbm, default_strategy)
    assert set(differences["account_id"]) == {account}
    assert {"action", "reasons"} <= set(differences["column"])
    action = differences[differences["column"] == "action"].iloc[0]
    assert (action["stored"], action["replayed"]) == ("hold", "freeze")


def test_a_second_text_under_the_same_strategy_version_is_refused_and_nothing_is_written(engine, sample, uci_inputs):
    save_run(engine, sample, uci_inputs.features, strategy_text=default_strategy_text(), with_recourse=True)
    other = edit(default_strategy_text(), "cooldown_days: 90", "cooldown_days: 60")
    with pytest.raises(InputError, match="default@1"):
        save_run(engine, sample, uci_inputs.features, strategy_text=other, with_recourse=True)
    with engine.connect() as conn:
        assert len(conn.execute(select(decision_runs.c.id)).all()) == 1
        assert len(conn.execute(select(strategies.c.ref)).all()) == 1
        assert len(conn.execute(select(decisions.c.id)).all()) == len(sample)


def test_a_run_mixing_dates_or_missing_features_is_refused_and_nothing_is_written(engine, sample, uci_inputs):
    mixed = sample.copy()
    mixed.loc[0, "as_of"] = pd.Timestamp("2005-08-31").date()
    with pytest.raises(InputError, match="as_of"):
        save_run(engine, mixed, uci_inputs.features, strategy_text=default_strategy_text(), with_recourse=True)
    with pytest.raises(InputError, match=str(sample["account_id"].iloc[0])):
        save_run(
            engine,
            sample,
            uci_inputs.features.drop(index=sample["account_id"].iloc[0]),
            strategy_text=default_strategy_text(),
            with_recourse=True,
        )
    assert list_runs(engine) == []


def test_the_latest_decision_of_an_account_is_the_newest_run(engine, sample, uci_inputs, uci_gbm):
    account = sample["account_id"].iloc[0]
    save_run(engine, sample, uci_inputs.features, strategy_text=default_strategy_text(), with_recourse=True)
    text = edit(default_strategy_text(), "version: 1", "version: 2")
    strategy = compile_strategy(read_strategy(text))
    later = decide(
        uci_inputs.features.loc[[account]],
        model=uci_gbm,
        model_ref=MODEL_REF,
        strategy=strategy,
        context=Context(as_of=pd.Timestamp("2005-10-31").date()),
        recourse=False,
    )
    save_run(engine, later, uci_inputs.features, strategy_text=text, with_recourse=True)
    latest = latest_decision(engine, account)
    assert latest.strategy_ref == "default@2"
    assert str(latest.decisions["as_of"].iloc[0]) == "2005-10-31"
    with pytest.raises(InputError, match="nobody"):
        latest_decision(engine, "nobody")
    with pytest.raises(InputError, match="a stored run"):
        load_run(engine, 999)


def test_an_empty_log_has_no_newest_run_to_load(engine):
    with pytest.raises(InputError, match="linewise review"):
        load_run(engine)


def test_a_run_decided_without_recourse_replays_without_it(engine, sample, uci_inputs, uci_gbm, default_strategy):
    plain = decide(
        uci_inputs.features.loc[sample["account_id"]],
        model=uci_gbm,
        model_ref=MODEL_REF,
        strategy=default_strategy,
        context=Context(as_of=AS_OF),
        recourse=False,
    )
    stored = load_run(
        engine, save_run(engine, plain, uci_inputs.features, strategy_text=default_strategy_text(), with_recourse=False)
    )
    assert stored.with_recourse is False
    assert _replay(stored, uci_gbm, default_strategy).empty


def test_an_account_twice_in_one_run_is_refused(engine, sample, uci_inputs):
    twice = pd.concat([sample, sample.iloc[[0]]], ignore_index=True)
    with pytest.raises(InputError, match="one decision per account"):
        save_run(engine, twice, uci_inputs.features, strategy_text=default_strategy_text(), with_recourse=True)
    assert list_runs(engine) == []


def test_a_history_not_one_record_per_decision_is_refused_and_nothing_is_written(engine, sample, uci_inputs, history):
    with pytest.raises(InputError, match="one record per decision") as refused:
        save_run(
            engine,
            sample,
            uci_inputs.features,
            strategy_text=default_strategy_text(),
            with_recourse=True,
            history=history[:-1],
        )
    assert refused.value.code == "history_missing"
    assert list_runs(engine) == []


def test_a_run_logged_without_its_history_cannot_replay_its_recourse_and_says_so(engine, sample, uci_inputs):
    from linewise.review.runs import stored_history

    stored = load_run(
        engine, save_run(engine, sample, uci_inputs.features, strategy_text=default_strategy_text(), with_recourse=True)
    )
    assert stored.history is None
    with pytest.raises(InputError, match="decide them again") as refused:
        stored_history(stored)
    assert refused.value.code == "history_missing"


def test_a_whole_book_run_is_stored_chunk_by_chunk_and_a_bad_last_row_writes_nothing(engine, uci_decided, uci_inputs):
    """A run larger than the rows made and sent at a time reads back whole; one refused row undoes it all."""
    book = uci_decided.head(12_000)  # more than two chunks of rows
    broken = book.copy()
    broken["risk_grade"] = broken["risk_grade"].astype(object)
    broken.loc[len(broken) - 1, "risk_grade"] = None
    with pytest.raises(InputError, match="risk_grade"):
        save_run(engine, broken, uci_inputs.features, strategy_text=default_strategy_text(), with_recourse=False)
    assert list_runs(engine) == []
    with engine.connect() as conn:
        assert conn.execute(select(decisions.c.id)).first() is None

    run_id = save_run(
        engine, uci_decided, uci_inputs.features, strategy_text=default_strategy_text(), with_recourse=False
    )
    stored = load_run(engine, run_id)
    assert len(uci_decided) > 10_000  # more than one chunk of rows
    pd.testing.assert_frame_equal(
        stored.decisions[["account_id", "action", "new_limit", "risk_grade"]],
        uci_decided[["account_id", "action", "new_limit", "risk_grade"]],
        check_dtype=False,
    )
    last = str(uci_decided["account_id"].iloc[-1])
    assert stored.features.loc[last].to_dict() == pytest.approx(uci_inputs.features.loc[last].to_dict(), nan_ok=True)
