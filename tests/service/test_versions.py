"""Strategy and model versions over HTTP, and the service following what an admin activates without a restart.

The app here looks at the database before every request (``decider_check_seconds``
0), so that what an activation changes shows in the next request; the once-a-second
bound is tested on the decider itself with a clock of the test's own.
"""

from __future__ import annotations

import json
import logging
import shutil

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update
from tests.ledger.common import snapshot
from tests.service.conftest import NOW, Api, settings_for
from typer.testing import CliRunner

from linewise.errors import ConfigurationError
from linewise.ledger.store.tables import model_versions
from linewise.review.versions import activate_version, store_model_dir, store_strategy_text
from linewise.service import create_app
from linewise.service.decider import LiveDecider

ENV = ("LINEWISE_SECRET", "LINEWISE_MODE", "LINEWISE_PRODUCT_FILE", "LINEWISE_DATABASE_URL")


@pytest.fixture
def live(ledger, model_files, monkeypatch) -> Api:
    """The app on the test ledger, looking for a new activation before every request."""
    for name in ENV:
        monkeypatch.delenv(name, raising=False)
    app = create_app(settings_for(ledger, model_files, decider_check_seconds=0), clock=lambda: NOW)
    with TestClient(app, raise_server_exceptions=True) as client:
        yield Api(client, ledger)


def strategy_text(model_files, version: int = 1, cooldown_days: int = 90) -> str:
    """The test's CNY strategy (service_test@1) as another version, its cool-down changed."""
    text = model_files[1].read_text(encoding="utf-8")
    return text.replace("\nversion: 1\n", f"\nversion: {version}\n", 1).replace(
        "cooldown_days: 90", f"cooldown_days: {cooldown_days}", 1
    )


def other_model(model_files, tmp_path, model_id: str = "other") -> tuple[str, object]:
    """A copy of the test's model under another id (the same trees): its ref and directory."""
    copy = tmp_path / model_id
    shutil.copytree(model_files[0], copy)
    manifest = json.loads((copy / "manifest.json").read_text(encoding="utf-8"))
    manifest |= {"id": model_id, "model": f"{model_id}@{manifest['version']}"}
    (copy / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    return manifest["model"], copy


def decide(api: Api) -> dict:
    made = api.call("POST", "/accounts/A2/decide?lang=en", "ann", json={})
    assert made.status_code == 200, made.json()
    return made.json()["decision"]["analysis"]


def file_model_ref(model_files) -> str:
    return json.loads((model_files[0] / "manifest.json").read_text(encoding="utf-8"))["model"]


# --- reading and writing versions --------------------------------------------------------------


def test_an_analyst_lists_the_versions_with_the_ones_in_use_and_a_customer_is_refused(live, model_files):
    strategies = live.call("GET", "/strategies", "ann")
    assert strategies.status_code == 200
    body = strategies.json()
    assert (body["kind"], body["active"], body["in_use"], body["items"], body["total"]) == (
        "strategy",
        None,
        "service_test@1",
        [],
        0,
    )
    assert live.call("GET", "/models", "ann").json()["in_use"] == file_model_ref(model_files)
    for path in ("/strategies", "/models", "/strategies/diff?old=a@1&new=b@1"):
        refused = live.call("GET", path, "cat")
        assert refused.status_code == 403 and refused.json()["code"] == "role_forbidden"
    assert live.call("GET", "/strategies").status_code == 401


def test_an_admin_stores_a_strategy_from_its_text_once_and_another_text_under_its_ref_is_refused(live, model_files):
    text = strategy_text(model_files, 2)
    stored = live.call("POST", "/strategies", "ada", json={"text": text})
    assert stored.status_code == 201, stored.json()
    assert (stored.json()["ref"], stored.json()["created"], stored.json()["stored_by"]) == (
        "service_test@2",
        True,
        "ada",
    )
    before = snapshot(live.engine)
    again = live.call("POST", "/strategies", "ada", json={"text": text})
    assert again.status_code == 200 and again.json()["created"] is False
    other = live.call("POST", "/strategies", "ada", json={"text": strategy_text(model_files, 2, cooldown_days=30)})
    assert other.status_code == 409 and other.json()["code"] == "strategy_ref_reused"
    assert snapshot(live.engine) == before
    audit = live.call("GET", "/audit?target=strategy", "ada").json()["items"]
    assert [(row["action"], row["actor"], row["detail"]["ref"]) for row in audit] == [
        ("strategy_stored", "ada", "service_test@2")
    ]


def test_an_invalid_strategy_is_refused_naming_each_problems_field_and_line_and_nothing_is_written(live, model_files):
    broken = strategy_text(model_files, 2).replace("cooldown_days: 90", "cooldown_days: soon")
    broken = broken.replace("\ncurrency: CNY\n", "\ncurrency: XYZ\n")
    before = snapshot(live.engine)
    refused = live.call("POST", "/strategies", "ada", json={"text": broken})
    assert refused.status_code == 422
    body = refused.json()
    assert (body["code"], body["where"]) == ("strategy_invalid", "body.text")
    lines = {line: n + 1 for n, line in enumerate(broken.splitlines())}
    assert f"body.text:{lines['currency: XYZ']}: currency must be" in body["detail"]
    assert "increase.cooldown_days must be" in body["detail"]
    assert snapshot(live.engine) == before


def test_two_stored_strategies_are_compared_as_strategy_diff_prints_them(live, model_files):
    for version, cooldown_days in ((1, 90), (2, 60)):
        assert (
            live.call(
                "POST", "/strategies", "ada", json={"text": strategy_text(model_files, version, cooldown_days)}
            ).status_code
            == 201
        )
    diff = live.call("GET", "/strategies/diff?old=service_test@1&new=service_test@2", "ann")
    assert diff.status_code == 200
    assert diff.json() == {
        "old": "service_test@1",
        "new": "service_test@2",
        "changes": ["version: 1 → 2 (raised)", "increase.cooldown_days: 90 → 60 (lowered)"],
    }
    missing = live.call("GET", "/strategies/diff?old=service_test@1&new=service_test@7", "ann")
    assert missing.status_code == 404 and missing.json()["code"] == "version_not_found"


@pytest.mark.parametrize("user", ["ann", "cat"])
def test_an_analyst_and_a_customer_may_not_store_or_activate_and_nothing_is_written(live, model_files, user):
    live.call("POST", "/strategies", "ada", json={"text": strategy_text(model_files, 2)})
    before = snapshot(live.engine)
    for path, body in (
        ("/strategies", {"text": strategy_text(model_files, 3)}),
        ("/strategies/service_test@2/activate", {"note": "mine"}),
        ("/models/tiny@1/activate", {}),
    ):
        refused = live.call("POST", path, user, json=body)
        assert refused.status_code == 403 and refused.json()["code"] == "role_forbidden", (path, refused.json())
    assert snapshot(live.engine) == before


# --- the service follows activations -------------------------------------------------------------


def test_a_strategy_activated_while_the_service_runs_makes_its_next_decision_without_a_restart(live, model_files):
    assert decide(live)["strategy"] == "service_test@1"
    live.call("POST", "/strategies", "ada", json={"text": strategy_text(model_files, 2, cooldown_days=60)})
    made = live.call("POST", "/strategies/service_test@2/activate", "ada", json={"note": "a shorter cool-down"})
    assert made.status_code == 201, made.json()
    assert (made.json()["activated_by"], made.json()["note"]) == ("ada", "a shorter cool-down")
    assert decide(live)["strategy"] == "service_test@2"
    listed = live.call("GET", "/strategies", "ann").json()
    assert listed["active"]["ref"] == listed["in_use"] == "service_test@2" and listed["reload_error"] is None
    [item] = [item for item in listed["items"] if item["ref"] == "service_test@2"]
    assert item["active"] and item["last_activation"]["id"] == made.json()["id"]
    audited = live.call("GET", "/audit?target=strategy", "ada").json()["items"][0]
    assert (audited["action"], audited["actor"], audited["ref"]) == (
        "strategy_activated",
        "ada",
        f"activation:{made.json()['id']}",
    )
    assert audited["detail"]["note"] == "a shorter cool-down" and audited["detail"]["ref"] == "service_test@2"


def test_a_model_activated_while_the_service_runs_makes_its_next_decision(live, model_files, tmp_path):
    ref, directory = other_model(model_files, tmp_path)
    store_model_dir(live.engine, directory, currency="CNY", by="cli", now=NOW)
    assert decide(live)["model"] == file_model_ref(model_files)
    assert live.call("POST", f"/models/{ref}/activate", "ada", json={}).status_code == 201
    assert decide(live)["model"] == ref
    assert live.call("GET", "/models", "ann").json()["in_use"] == ref


def test_a_run_decided_before_a_model_was_activated_replays_with_its_own_stored_model(live, model_files, tmp_path):
    before = live.call("POST", "/accounts/A2/decide", "ann", json={}).json()["decision"]
    first_ref = file_model_ref(model_files)
    store_model_dir(live.engine, model_files[0], currency="CNY", by="cli", now=NOW)
    ref, directory = other_model(model_files, tmp_path)
    store_model_dir(live.engine, directory, currency="CNY", by="cli", now=NOW)
    assert live.call("POST", f"/models/{ref}/activate", "ada", json={}).status_code == 201
    replayed = live.call("POST", f"/decisions/{before['run']}/A2/replay", "ann")
    assert replayed.status_code == 200, replayed.json()
    assert (replayed.json()["model"], replayed.json()["same"]) == (first_ref, True)


def test_a_run_whose_model_was_never_stored_is_not_replayed_with_another(live, model_files, tmp_path):
    before = live.call("POST", "/accounts/A2/decide", "ann", json={}).json()["decision"]
    ref, directory = other_model(model_files, tmp_path)
    store_model_dir(live.engine, directory, currency="CNY", by="cli", now=NOW)
    assert live.call("POST", f"/models/{ref}/activate", "ada", json={}).status_code == 201
    refused = live.call("POST", f"/decisions/{before['run']}/A2/replay", "ann")
    assert refused.status_code == 404 and refused.json()["code"] == "version_not_found"


@pytest.mark.parametrize(
    ("corrupt", "code"),
    [
        (
            lambda files: files | {"manifest.json": files["manifest.json"].replace('"gbm"', '"neural_net"')},
            "model_kind_unknown",
        ),
        (lambda files: files | {"model.txt": "not a tree"}, "model_invalid"),
    ],
)
def test_a_stored_model_corrupt_when_the_service_reloads_is_refused_and_the_service_keeps_the_one_it_had(
    live, model_files, tmp_path, caplog, corrupt, code
):
    ref, directory = other_model(model_files, tmp_path)
    store_model_dir(live.engine, directory, by="cli", now=NOW)
    assert live.call("POST", f"/models/{ref}/activate", "ada", json={}).status_code == 201
    with live.engine.begin() as conn:
        files = json.loads(conn.execute(model_versions.select()).one().files)
        conn.execute(update(model_versions).values(files=json.dumps(corrupt(files))))
    with caplog.at_level(logging.ERROR, logger="linewise.service.decider"):
        assert decide(live)["model"] == file_model_ref(model_files)
    assert any(code in record.getMessage() and ref in record.getMessage() for record in caplog.records)
    listed = live.call("GET", "/models", "ann").json()
    assert (listed["active"]["ref"], listed["in_use"]) == (ref, file_model_ref(model_files))
    assert listed["reload_error"]["code"] == code and ref in listed["reload_error"]["where"]
    assert decide(live)["model"] == file_model_ref(model_files)  # still deciding, and not tried again


def test_activating_over_http_a_version_never_stored_or_of_another_currency_is_refused(live, model_files, tmp_path):
    ref, directory = other_model(model_files, tmp_path, "twd_model")
    store_model_dir(live.engine, directory, currency="TWD", by="cli", now=NOW)
    missing = live.call("POST", "/strategies/service_test@9/activate", "ada", json={})
    assert missing.status_code == 404 and missing.json()["code"] == "version_not_found"
    live.call("POST", "/strategies", "ada", json={"text": strategy_text(model_files, 2)})
    live.call("POST", "/strategies/service_test@2/activate", "ada", json={})
    before = snapshot(live.engine)
    mixed = live.call("POST", f"/models/{ref}/activate", "ada", json={"note": "TWD"})
    assert mixed.status_code == 422 and mixed.json()["code"] == "currency_mismatch"
    assert ref in mixed.json()["where"] and "service_test@2" in mixed.json()["detail"]
    bad_note = live.call("POST", "/strategies/service_test@2/activate", "ada", json={"note": "a\x00b"})
    assert bad_note.status_code == 422 and bad_note.json()["code"] == "note_malformed"
    assert snapshot(live.engine) == before


def test_the_decider_looks_for_an_activation_at_most_once_every_check_seconds(ledger, model_files):
    store_strategy_text(ledger, strategy_text(model_files, 2), source="v2", by="ada", now=NOW)
    clock = iter([0.0, 0.5, 1.0]).__next__
    holder = LiveDecider(ledger, model_dir=model_files[0], strategy_file=model_files[1], monotonic=clock)
    activate_version(ledger, "strategy", "service_test@2", by="ada", note=None, now=NOW)
    assert holder.current().strategy.loaded.spec.ref == "service_test@1"  # half a second on: not looked
    assert holder.current().strategy.loaded.spec.ref == "service_test@2"  # a second on: looked, and followed


# --- starting --------------------------------------------------------------------------------------


def test_the_service_starts_with_the_databases_versions_and_no_files(ledger, model_files, monkeypatch):
    for name in ENV:
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(ConfigurationError, match="linewise model activate"):
        create_app(settings_for(ledger, model_files, model_dir=None, strategy_file=None))
    store_model_dir(ledger, model_files[0], by="cli", now=NOW)
    store_strategy_text(ledger, strategy_text(model_files, 2), source="v2", by="ada", now=NOW)
    for kind, ref in (("model", file_model_ref(model_files)), ("strategy", "service_test@2")):
        activate_version(ledger, kind, ref, by="ada", note=None, now=NOW)
    app = create_app(settings_for(ledger, model_files, model_dir=None, strategy_file=None), clock=lambda: NOW)
    lines = app.state.services.live.active.describe()
    assert all(" from the database: activated by ada at 2026-01-10 09:00 UTC" in line for line in lines)
    with TestClient(app) as client:
        assert decide(Api(client, ledger))["strategy"] == "service_test@2"


def test_serve_says_which_versions_it_decides_with_and_from_where(ledger, model_files, monkeypatch, tmp_path):
    from tests.service.conftest import database_url

    from linewise.cli.main import app as cli_app

    for name in [name for name in __import__("os").environ if name.startswith("LINEWISE_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("LINEWISE_DATABASE_URL", database_url(ledger))
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("uvicorn.run", lambda app, **_: app.state.services.engine.dispose())
    store_strategy_text(ledger, strategy_text(model_files, 2), source="v2", by="ada", now=NOW)
    activate_version(ledger, "strategy", "service_test@2", by="ada", note=None, now=NOW)
    served = CliRunner().invoke(cli_app, ["serve", "--model", str(model_files[0])], catch_exceptions=False)
    assert served.exit_code == 0, served.stderr
    said = served.stdout.splitlines()
    assert said[0].startswith("deciding with strategy service_test@2 from the database: activated by ada at ")
    assert said[1] == (
        f"deciding with model {file_model_ref(model_files)} from {model_files[0]} (no model is active in the database)"
    )
