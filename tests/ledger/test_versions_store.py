"""The store of strategy and model versions and their activations, on SQLite and PostgreSQL.

Storing is idempotent by content (a ref means one strategy or one model); activations
are append-only and the latest of a kind is the active version; each activation and
each version stored has its audit row, written in the same transaction; a refusal
writes nothing.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from tests.ledger.common import snapshot

from linewise.errors import InputError
from linewise.ledger.store.tables import audit_log
from linewise.ledger.store.unit_of_work import UnitOfWork, read_snapshot
from linewise.ledger.store.users import NewUser, add_user
from linewise.ledger.store.versions import (
    REF_MAX_LENGTH,
    ModelFiles,
    active,
    check_note,
    check_ref,
    files_sha256,
    latest_activation_id,
    latest_activations,
    list_versions,
    read_model_files,
    read_strategy_text,
    record_activation,
    store_model,
    store_strategy,
)

NOW = datetime(2026, 1, 10, 9, 0, tzinfo=UTC)
MODEL = ModelFiles(
    ref="tiny@0123456789ab",
    model_kind="gbm",
    currency="CNY",
    files={"manifest.json": '{"model": "tiny@0123456789ab"}\n', "model.txt": "tree\n"},
)


def add_users(engine) -> None:
    for name, role in (("ada", "admin"), ("ann", "analyst")):
        add_user(engine, NewUser(name, role, "$argon2id$not-a-real-hash"), actor="test", now=NOW)


def activate(engine, kind, ref, by="ada", note=None, at=NOW):
    with UnitOfWork(engine) as uow:
        made = record_activation(uow.conn, kind, ref, by=by, note=note, at=at)
        uow.commit()
    return made


def audit_rows(engine, target):
    with engine.connect() as conn:
        return conn.execute(select(audit_log).where(audit_log.c.target == target).order_by(audit_log.c.id)).all()


def refused(engine, code, call):
    before = snapshot(engine)
    with pytest.raises(InputError) as caught:
        call()
    assert caught.value.code == code
    assert snapshot(engine) == before
    return caught.value


def test_a_strategy_stored_twice_is_written_once_and_audited_once(engine):
    first, created = store_strategy(engine, ref="s@1", text="strategy: s\n", by="cli", now=NOW)
    assert created and first.stored_by == "cli" and first.stored_at == NOW
    before = snapshot(engine)
    again, created_again = store_strategy(engine, ref="s@1", text="strategy: s\n", by="ada", now=NOW + timedelta(1))
    assert not created_again and again == first
    assert snapshot(engine) == before
    [row] = audit_rows(engine, "strategy")
    assert (row.actor, row.action) == ("cli", "strategy_stored") and '"ref": "s@1"' in row.detail


def test_another_text_under_a_stored_strategy_ref_is_refused_and_writes_nothing(engine):
    store_strategy(engine, ref="s@1", text="strategy: s\n", by="cli", now=NOW)
    error = refused(
        engine,
        "strategy_ref_reused",
        lambda: store_strategy(engine, ref="s@1", text="strategy: t\n", by="cli", now=NOW),
    )
    assert "s@1" in str(error) and "raise the version" in str(error)


def test_a_model_stored_twice_is_written_once_and_other_files_under_its_ref_are_refused(engine):
    stored, created = store_model(engine, MODEL, by="cli", now=NOW)
    assert created and (stored.model_kind, stored.currency, stored.sha256) == ("gbm", "CNY", files_sha256(MODEL.files))
    _, created_again = store_model(engine, MODEL, by="cli", now=NOW)
    assert not created_again
    with read_snapshot(engine) as conn:
        assert read_model_files(conn, MODEL.ref) == (stored, dict(MODEL.files))
    other = ModelFiles(MODEL.ref, "gbm", "CNY", {**MODEL.files, "model.txt": "another tree\n"})
    refused(engine, "model_ref_reused", lambda: store_model(engine, other, by="cli", now=NOW))
    in_twd = ModelFiles(MODEL.ref, "gbm", "TWD", MODEL.files)
    error = refused(engine, "model_ref_reused", lambda: store_model(engine, in_twd, by="cli", now=NOW))
    assert "currency must be the currency stored with" in str(error)


def test_the_files_hash_tells_apart_files_that_only_split_their_text_differently():
    assert files_sha256({"a": "bc", "d": ""}) != files_sha256({"a": "b", "cd": ""})
    assert files_sha256({"a": "1", "b": "2"}) == files_sha256({"b": "2", "a": "1"})


@pytest.mark.parametrize(
    "ref",
    ["s", "@1", "s@", "s@1 ", "s 1@2", "s@1\n", "-s@1", "s@1/2", "s@" + "9" * REF_MAX_LENGTH, "s\x00@1", "数@1"],
)
def test_a_ref_that_is_not_id_at_version_in_the_id_alphabet_is_refused(ref):
    with pytest.raises(InputError) as caught:
        check_ref(ref, "ref")
    assert caught.value.code == "ref_malformed"


@pytest.mark.parametrize("ref", ["s@1", "default@12", "gbm@0123456789ab", "a.b:c-d_e@v1.2", "x@" + "1" * 126])
def test_refs_as_strategies_and_models_name_themselves_are_taken(ref):
    assert check_ref(ref, "ref") == ref


def test_a_note_is_at_most_500_characters_without_control_characters_but_new_lines():
    assert check_note("line one\nline two", "note") == "line one\nline two"
    assert check_note("x" * 500, "note") == "x" * 500
    assert check_note(None, "note") is None
    for bad in ("x" * 501, "tab\there", "nul\x00", "bell\x07", "del\x7f", "cr\r"):
        with pytest.raises(InputError) as caught:
            check_note(bad, "note")
        assert caught.value.code == "note_malformed"


def test_the_latest_activation_of_a_kind_is_the_active_version_and_each_is_audited_with_it(engine):
    add_users(engine)
    for ref in ("s@1", "s@2"):
        store_strategy(engine, ref=ref, text=f"strategy: {ref}\n", by="cli", now=NOW)
    store_model(engine, MODEL, by="cli", now=NOW)
    with read_snapshot(engine) as conn:
        assert active(conn, "strategy") is None and latest_activation_id(conn) is None
    one = activate(engine, "strategy", "s@1", note="first")
    two = activate(engine, "strategy", "s@2", at=NOW + timedelta(hours=1))
    model = activate(engine, "model", MODEL.ref)
    back = activate(engine, "strategy", "s@1", note="back", at=NOW + timedelta(hours=2))
    assert one.id < two.id < model.id < back.id
    with read_snapshot(engine) as conn:
        assert active(conn, "strategy") == back
        assert active(conn, "model") == model
        assert latest_activation_id(conn) == back.id
        assert latest_activations(conn, "strategy", ["s@1", "s@2", "s@3"]) == {"s@1": back, "s@2": two}
    rows = [row for row in audit_rows(engine, "strategy") if row.action == "strategy_activated"]
    assert [(row.actor, row.ref) for row in rows] == [
        ("ada", f"activation:{one.id}"),
        ("ada", f"activation:{two.id}"),
        ("ada", f"activation:{back.id}"),
    ]
    assert '"note": "first"' in rows[0].detail and '"ref": "s@1"' in rows[0].detail
    [model_row] = [row for row in audit_rows(engine, "model") if row.action == "model_activated"]
    assert model_row.ref == f"activation:{model.id}"


@pytest.mark.parametrize(
    ("kind", "ref", "by", "note", "code"),
    [
        ("strategy", "s@1", "ann", None, "admin_required"),
        ("strategy", "s@1", "nobody", None, "admin_required"),
        ("strategy", "s@1", "no one", None, "id_malformed"),
        ("strategy", "s@9", "ada", None, "version_not_found"),
        ("model", "s@1", "ada", None, "version_not_found"),
        ("strategy", "s 1", "ada", None, "ref_malformed"),
        ("strategy", "s@1", "ada", "x" * 501, "note_malformed"),
    ],
)
def test_an_activation_by_a_non_admin_of_a_version_never_stored_or_with_a_bad_note_writes_nothing(
    engine, kind, ref, by, note, code
):
    add_users(engine)
    store_strategy(engine, ref="s@1", text="strategy: s\n", by="cli", now=NOW)
    error = refused(engine, code, lambda: activate(engine, kind, ref, by=by, note=note))
    if code == "admin_required":
        assert repr(by) in str(error) and "admin" in str(error)


def test_a_strategy_the_decision_log_stored_can_be_activated_and_is_listed_without_who_stored_it(engine):
    from linewise.ledger.store.tables import strategies

    add_users(engine)
    with engine.begin() as conn:
        conn.execute(strategies.insert().values(ref="logged@1", sha256="0" * 64, text="t", stored_at=NOW))
    activate(engine, "strategy", "logged@1")
    with read_snapshot(engine) as conn:
        [listed], total = list_versions(conn, "strategy", limit=10, offset=0)
        assert read_strategy_text(conn, "logged@1")[1] == "t"
    assert (listed.ref, listed.stored_by, total) == ("logged@1", None, 1)


def test_versions_are_listed_newest_first_a_page_at_a_time(engine):
    for day in range(3):
        store_strategy(engine, ref=f"s@{day}", text=str(day), by="cli", now=NOW + timedelta(days=day))
    with read_snapshot(engine) as conn:
        page, total = list_versions(conn, "strategy", limit=2, offset=0)
        rest, _ = list_versions(conn, "strategy", limit=2, offset=2)
    assert total == 3
    assert [v.ref for v in page + rest] == ["s@2", "s@1", "s@0"]
    assert all(v.stored_at.tzinfo is not None for v in page + rest)


@pytest.mark.postgres
def test_of_two_admins_storing_other_texts_under_one_ref_at_once_exactly_one_wins(pg_engine):
    barrier = threading.Barrier(2)
    outcomes: dict[str, object] = {}

    def store(text: str) -> None:
        barrier.wait(timeout=30)
        try:
            outcomes[text] = store_strategy(pg_engine, ref="s@1", text=text, by="ada", now=NOW)[1]
        except InputError as exc:
            outcomes[text] = exc.code

    threads = [threading.Thread(target=store, args=(text,)) for text in ("one", "two")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(map(str, outcomes.values())) == ["True", "strategy_ref_reused"]
    assert len(audit_rows(pg_engine, "strategy")) == 1
