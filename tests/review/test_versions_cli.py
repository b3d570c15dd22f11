"""`linewise strategy|model store, activate, versions`, in-process on SQLite and PostgreSQL."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select
from tests.ledger.common import snapshot
from tests.review.test_versions import NOW, model_dir, ref_of, strategy_text, variant  # noqa: F401 - a fixture
from typer.testing import CliRunner

from linewise.cli.main import app
from linewise.ledger.store.tables import activations, audit_log
from linewise.ledger.store.users import NewUser, add_user

runner = CliRunner()


@pytest.fixture
def cli(engine, monkeypatch, tmp_path):
    """``cli(*args)`` runs ``linewise *args`` on the test database (ada is an admin, ann an analyst)."""
    for name, role in (("ada", "admin"), ("ann", "analyst")):
        add_user(engine, NewUser(name, role, "$argon2id$not-a-real-hash"), actor="test", now=NOW)
    for module in ("strategy", "model"):
        monkeypatch.setattr(f"linewise.cli.{module}.engine", lambda check_schema=True: engine)
    monkeypatch.chdir(tmp_path)
    for version, currency in ((1, "CNY"), (2, "CNY"), (3, "TWD")):
        (tmp_path / f"v{version}.yaml").write_text(strategy_text(version, currency), encoding="utf-8")

    def run(*args: str):
        return runner.invoke(app, list(args), catch_exceptions=False)

    run.engine = engine
    return run


def ok(cli, *args):
    result = cli(*args)
    assert result.exit_code == 0, result.stderr
    return result.stdout


def refused(cli, code, *args):
    before = snapshot(cli.engine)
    result = cli(*args)
    assert result.exit_code == 2, result.stdout
    assert result.stderr.startswith("error: ") and result.stderr.rstrip().endswith(f"[{code}]"), result.stderr
    assert snapshot(cli.engine) == before
    return result.stderr


def test_a_strategy_is_stored_activated_and_listed_with_who_activated_it(cli):
    assert ok(cli, "strategy", "store", "v1.yaml").startswith("stored strategy lab@1 (sha256 ")
    assert "is stored already" in ok(cli, "strategy", "store", "v1.yaml")
    assert "no strategy is active in the database" in ok(cli, "strategy", "versions")
    told = json.loads(ok(cli, "strategy", "activate", "lab@1", "--by", "ada", "--note", "the first", "--json"))
    assert (told["ref"], told["activated_by"], told["note"]) == ("lab@1", "ada", "the first")
    listed = json.loads(ok(cli, "strategy", "versions", "--json"))
    assert listed["active"]["ref"] == "lab@1" and listed["active"]["activation"] == told["activation"]
    assert [(v["ref"], v["active"], v["currency"], v["stored_by"]) for v in listed["versions"]] == [
        ("lab@1", True, "CNY", "cli")
    ]
    assert "active strategy: lab@1, activated by ada at" in ok(cli, "strategy", "versions")
    with cli.engine.connect() as conn:
        [row] = conn.execute(select(audit_log).where(audit_log.c.action == "strategy_activated")).all()
    assert (row.actor, row.target, row.ref) == ("ada", "strategy", f"activation:{told['activation']}")
    assert json.loads(row.detail)["ref"] == "lab@1"


def test_a_model_is_stored_activated_and_listed(cli, model_dir):  # noqa: F811 - the fixture
    ref = ref_of(model_dir)
    stored = json.loads(ok(cli, "model", "store", str(model_dir), "--currency", "CNY", "--json"))
    assert (stored["ref"], stored["created"], stored["currency"], stored["model_kind"]) == (ref, True, "CNY", "gbm")
    assert f"model {ref} is active (activation " in ok(cli, "model", "activate", ref, "--by", "ada")
    listed = json.loads(ok(cli, "model", "versions", "--json"))
    assert listed["active"]["ref"] == ref and listed["versions"][0]["currency"] == "CNY"


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (("strategy", "activate", "lab@1", "--by", "ann"), "admin_required"),
        (("strategy", "activate", "lab@1", "--by", "zed"), "admin_required"),
        (("strategy", "activate", "lab@9", "--by", "ada"), "version_not_found"),
        (("strategy", "activate", "lab", "--by", "ada"), "ref_malformed"),
        (("strategy", "activate", "lab@1", "--by", "ada", "--note", "x" * 501), "note_malformed"),
        (("model", "activate", "lab@1", "--by", "ada"), "version_not_found"),
    ],
)
def test_an_activation_refused_says_why_in_one_line_and_writes_nothing(cli, args, code):
    ok(cli, "strategy", "store", "v1.yaml")
    told = refused(cli, code, *args)
    if code == "admin_required":
        assert "--role admin" in told


def test_a_strategy_of_another_currency_than_the_active_models_is_refused_naming_both(cli, model_dir, tmp_path):  # noqa: F811
    cny = variant(model_dir, tmp_path / "cny", "cny_model", currency="CNY")
    ok(cli, "model", "store", str(cny))
    ok(cli, "model", "activate", ref_of(cny), "--by", "ada")
    ok(cli, "strategy", "store", "v3.yaml")
    told = refused(cli, "currency_mismatch", "strategy", "activate", "lab@3", "--by", "ada")
    assert "lab@3" in told and ref_of(cny) in told


def test_storing_an_invalid_strategy_lists_its_problems_with_their_lines_and_writes_nothing(cli, tmp_path):
    (tmp_path / "bad.yaml").write_text(strategy_text().replace("cooldown_days: 90", "cooldown_days: soon"), "utf-8")
    told = refused(cli, "strategy_invalid", "strategy", "store", "bad.yaml")
    assert "bad.yaml:" in told and "increase.cooldown_days" in told


def test_another_text_under_a_stored_ref_is_refused(cli, tmp_path):
    ok(cli, "strategy", "store", "v1.yaml")
    (tmp_path / "v1b.yaml").write_text(strategy_text(1, cooldown_days=30), encoding="utf-8")
    told = refused(cli, "strategy_ref_reused", "strategy", "store", "v1b.yaml")
    assert "raise the version" in told


def test_activating_again_makes_a_new_activation_of_the_same_version(cli):
    ok(cli, "strategy", "store", "v1.yaml")
    ok(cli, "strategy", "store", "v2.yaml")
    for ref in ("lab@1", "lab@2", "lab@1"):
        ok(cli, "strategy", "activate", ref, "--by", "ada")
    with cli.engine.connect() as conn:
        assert [row.ref for row in conn.execute(select(activations).order_by(activations.c.id))] == [
            "lab@1",
            "lab@2",
            "lab@1",
        ]
    assert json.loads(ok(cli, "strategy", "versions", "--json"))["active"]["ref"] == "lab@1"
