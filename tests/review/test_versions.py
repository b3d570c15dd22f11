"""Versions in the application layer: stored once checked, activated when they fit, and the decider they make.

On SQLite and PostgreSQL, with a small model (a few trees on a synthetic CNY book,
trained once a session) and the shipped strategy in CNY.
"""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import update
from tests.ledger.common import snapshot

from linewise.errors import ConfigurationError, InputError, StrategyValidationError
from linewise.ledger.store.tables import model_versions
from linewise.ledger.store.users import NewUser, add_user
from linewise.review.deciders import active_decider, load_decider, model_from_stored
from linewise.review.versions import (
    activate_version,
    diff_stored_strategies,
    list_stored,
    read_model_dir,
    store_model_dir,
    store_strategy_text,
)
from linewise.strategy import default_strategy_text

NOW = datetime(2026, 1, 10, 9, 0, tzinfo=UTC)


def strategy_text(version: int = 1, currency: str = "CNY", cooldown_days: int = 90) -> str:
    """The shipped strategy as ``lab@version`` in ``currency``."""
    text = default_strategy_text()
    for old, new in (
        ("\nstrategy: default\n", "\nstrategy: lab\n"),
        ("\nversion: 1\n", f"\nversion: {version}\n"),
        ("\ncurrency: TWD\n", f"\ncurrency: {currency}\n"),
        ("cooldown_days: 90", f"cooldown_days: {cooldown_days}"),
    ):
        assert old in text, old
        text = text.replace(old, new, 1)
    return text


@pytest.fixture(scope="session")
def model_dir(tmp_path_factory) -> Path:
    """A model directory: a few trees on a synthetic CNY book (its manifest names no currency)."""
    from linewise.data.synthetic import SynthSpec, synthesize
    from linewise.models.artifacts import save_model
    from linewise.models.inputs import inputs_from_portfolio
    from linewise.models.training import train_model, training_data_hash

    out = tmp_path_factory.mktemp("versions-model") / "model"
    inputs = inputs_from_portfolio(synthesize(SynthSpec(accounts=400, months=8, seed=3, currency="CNY")))
    trained = train_model(inputs, kind="gbm", folds=2)
    save_model(
        trained.model,
        trained.metrics,
        out,
        model_id="tiny",
        training_data_sha256=training_data_hash(inputs),
        trained_on="synthetic CNY, 400 accounts",
    )
    return out


def variant(model_dir: Path, into: Path, model_id: str, **manifest) -> Path:
    """A copy of ``model_dir`` named ``model_id`` (same trees), its manifest changed as given."""
    shutil.copytree(model_dir, into)
    path = into / "manifest.json"
    written = json.loads(path.read_text(encoding="utf-8"))
    written |= {"id": model_id, "model": f"{model_id}@{written['version']}", **manifest}
    path.write_text(json.dumps(written, indent=2), encoding="utf-8")
    return into


def ref_of(directory: Path) -> str:
    return json.loads((directory / "manifest.json").read_text(encoding="utf-8"))["model"]


@pytest.fixture
def store(engine):
    """The test database with an admin (ada) and an analyst (ann)."""
    for name, role in (("ada", "admin"), ("ann", "analyst")):
        add_user(engine, NewUser(name, role, "$argon2id$not-a-real-hash"), actor="test", now=NOW)
    return engine


def activate(store, kind, ref, note=None, by="ada"):
    return activate_version(store, kind, ref, by=by, note=note, now=NOW)


def refused(store, code, call):
    before = snapshot(store)
    with pytest.raises(InputError) as caught:
        call()
    assert caught.value.code == code, caught.value
    assert snapshot(store) == before
    return caught.value


# --- storing -----------------------------------------------------------------------------------


def test_a_valid_strategy_text_is_stored_under_its_ref(store):
    version, created = store_strategy_text(store, strategy_text(), source="lab.yaml", by="ada", now=NOW)
    assert created and version.ref == "lab@1" and version.stored_by == "ada"


def test_an_invalid_strategy_text_is_refused_naming_each_problems_line_and_nothing_is_written(store):
    broken = strategy_text().replace("cooldown_days: 90", "cooldown_days: soon").replace("currency: CNY", "currency: X")
    error = refused(
        store, "strategy_invalid", lambda: store_strategy_text(store, broken, source="lab.yaml", by="ada", now=NOW)
    )
    assert isinstance(error, StrategyValidationError) and len(error.problems) == 2
    assert all(problem.row is not None and problem.source == "lab.yaml" for problem in error.problems)
    assert {problem.column for problem in error.problems} == {"currency", "increase.cooldown_days"}


def test_a_model_directory_is_stored_with_every_file_its_manifest_lists_as_text(store, model_dir):
    read = read_model_dir(model_dir)
    manifest = json.loads((model_dir / "manifest.json").read_text(encoding="utf-8"))
    assert set(read.files) == {"manifest.json", *manifest["files"]}
    assert read.files["model.txt"] == (model_dir / "model.txt").read_text(encoding="utf-8")
    version, created = store_model_dir(store, model_dir, by="cli", now=NOW)
    assert created and (version.ref, version.model_kind, version.currency) == (manifest["model"], "gbm", None)
    assert store_model_dir(store, model_dir, by="cli", now=NOW)[1] is False


def test_a_model_is_stored_with_the_currency_given_when_its_manifest_names_none(store, model_dir, tmp_path):
    assert store_model_dir(store, model_dir, currency="CNY", by="cli", now=NOW)[0].currency == "CNY"
    twd = variant(model_dir, tmp_path / "twd", "twd_model", currency="TWD")
    refused(store, "currency_mismatch", lambda: store_model_dir(store, twd, currency="CNY", by="cli", now=NOW))
    refused(store, "currency_not_supported", lambda: store_model_dir(store, twd, currency="XXX", by="cli", now=NOW))
    assert store_model_dir(store, twd, by="cli", now=NOW)[0].currency == "TWD"


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"kind": "neural_net"}, "model_kind_unknown"),
        ({"files": ["../outside.txt"]}, "model_invalid"),
        ({"files": ["metrics.json", "missing.json"]}, "file_not_found"),
        ({"model": "tiny version@1"}, "ref_malformed"),
    ],
)
def test_a_model_directory_that_does_not_load_or_is_not_whole_is_not_stored(store, model_dir, tmp_path, change, code):
    broken = variant(model_dir, tmp_path / "broken", "broken")
    path = broken / "manifest.json"
    path.write_text(json.dumps(json.loads(path.read_text(encoding="utf-8")) | change), encoding="utf-8")
    refused(store, code, lambda: store_model_dir(store, broken, by="cli", now=NOW))


# --- activating --------------------------------------------------------------------------------


def test_activating_a_strategy_of_another_currency_than_the_active_models_is_refused_naming_both(
    store, model_dir, tmp_path
):
    cny = variant(model_dir, tmp_path / "cny", "cny_model", currency="CNY")
    store_model_dir(store, cny, by="cli", now=NOW)
    activate(store, "model", ref_of(cny))
    store_strategy_text(store, strategy_text(2, "TWD"), source="twd.yaml", by="ada", now=NOW)
    error = refused(store, "currency_mismatch", lambda: activate(store, "strategy", "lab@2"))
    assert "lab@2" in str(error) and ref_of(cny) in str(error) and "CNY" in str(error) and "'TWD'" in str(error)


def test_activating_a_model_of_another_currency_than_the_active_strategys_is_refused_naming_both(
    store, model_dir, tmp_path
):
    store_strategy_text(store, strategy_text(1, "CNY"), source="cny.yaml", by="ada", now=NOW)
    activate(store, "strategy", "lab@1")
    twd = variant(model_dir, tmp_path / "twd", "twd_model")
    store_model_dir(store, twd, currency="TWD", by="cli", now=NOW)
    error = refused(store, "currency_mismatch", lambda: activate(store, "model", ref_of(twd)))
    assert ref_of(twd) in str(error) and "lab@1" in str(error)


def test_a_model_whose_manifest_names_no_currency_fits_any_strategy(store, model_dir):
    store_strategy_text(store, strategy_text(1, "TWD"), source="twd.yaml", by="ada", now=NOW)
    activate(store, "strategy", "lab@1")
    store_model_dir(store, model_dir, by="cli", now=NOW)
    assert activate(store, "model", ref_of(model_dir)).ref == ref_of(model_dir)


@pytest.mark.parametrize(
    ("files", "code"),
    [
        (
            lambda f: f | {"manifest.json": f["manifest.json"].replace('"kind": "gbm"', '"kind": "neural_net"')},
            "model_kind_unknown",
        ),
        (lambda f: f | {"model.txt": "not a tree"}, "model_invalid"),
        (lambda f: {k: v for k, v in f.items() if k != "model.txt"}, "file_not_found"),
        (lambda f: f | {"../x": "escape"}, "model_invalid"),
    ],
)
def test_activating_a_stored_model_that_no_longer_loads_is_refused_naming_it_and_writes_nothing(
    store, model_dir, files, code
):
    stored, _ = store_model_dir(store, model_dir, by="cli", now=NOW)
    corrupt = files(read_model_dir(model_dir).files)
    with store.begin() as conn:
        conn.execute(update(model_versions).values(files=json.dumps(corrupt)))
    error = refused(store, code, lambda: activate(store, "model", stored.ref))
    assert error.where.startswith(f"stored model {stored.ref}")
    assert "linewise-model-" not in str(error)  # the temporary directory is not what is named


def test_a_model_built_from_files_of_another_model_is_refused(model_dir):
    files = read_model_dir(model_dir).files
    with pytest.raises(InputError) as caught:
        model_from_stored("other@1", dict(files))
    assert caught.value.code == "model_invalid" and "other@1" in str(caught.value)


def test_an_analyst_cannot_activate_and_the_activation_of_an_admin_is_listed(store):
    store_strategy_text(store, strategy_text(1), source="v1.yaml", by="ada", now=NOW)
    store_strategy_text(store, strategy_text(2), source="v2.yaml", by="ada", now=NOW + timedelta(hours=1))
    refused(store, "admin_required", lambda: activate(store, "strategy", "lab@1", by="ann"))
    made = activate(store, "strategy", "lab@1", note="the first")
    listed = list_stored(store, "strategy", limit=10, offset=0)
    assert listed.active == made and listed.total == 2
    assert [(e.version.ref, e.is_active, e.currency) for e in listed.items] == [
        ("lab@2", False, "CNY"),
        ("lab@1", True, "CNY"),
    ]
    assert listed.items[1].last_activation == made and listed.items[0].last_activation is None


def test_a_stored_strategy_the_format_no_longer_takes_is_listed_without_currency_and_not_activated(store):
    from linewise.ledger.store.versions import store_strategy

    store_strategy(store, ref="old@1", text="strategy: old\nversion: 1\nladder: gone\n", by="cli", now=NOW)
    [entry] = list_stored(store, "strategy", limit=10, offset=0).items
    assert entry.currency is None
    refused(store, "strategy_invalid", lambda: activate(store, "strategy", "old@1"))


def test_two_stored_strategies_are_compared_as_strategy_diff_compares_their_files(store):
    from linewise.strategy import read_strategy
    from linewise.strategy.diff import describe_changes

    store_strategy_text(store, strategy_text(1), source="v1.yaml", by="ada", now=NOW)
    store_strategy_text(store, strategy_text(2, cooldown_days=60), source="v2.yaml", by="ada", now=NOW)
    diff = diff_stored_strategies(store, "lab@1", "lab@2")
    files = describe_changes(
        read_strategy(strategy_text(1)).spec, read_strategy(strategy_text(2, cooldown_days=60)).spec
    )
    assert diff.changes == files and any("cooldown_days: 90 → 60" in change for change in diff.changes)
    refused(store, "version_not_found", lambda: diff_stored_strategies(store, "lab@1", "lab@3"))


# --- the decider -------------------------------------------------------------------------------


def test_with_nothing_active_the_decider_comes_from_the_files_given(store, model_dir, tmp_path):
    path = tmp_path / "lab.yaml"
    path.write_text(strategy_text(), encoding="utf-8")
    made = active_decider(store, model_dir=model_dir, strategy_file=path)
    assert (made.strategy, made.model, made.activation_id) == (None, None, None)
    assert made.decider.strategy.loaded.spec.ref == "lab@1" and made.decider.model_ref == ref_of(model_dir)
    assert made.describe()[0] == f"strategy lab@1 from {path} (no strategy is active in the database)"
    with pytest.raises(ConfigurationError, match="linewise model activate"):
        active_decider(store, strategy_file=path)


def test_each_kind_active_in_the_database_is_used_the_other_comes_from_its_file(store, model_dir):
    store_strategy_text(store, strategy_text(3), source="v3.yaml", by="ada", now=NOW)
    made = activate(store, "strategy", "lab@3", note="go")
    half = active_decider(store, model_dir=model_dir)
    assert half.decider.strategy.loaded.spec.ref == "lab@3" and half.strategy == made and half.model is None
    assert half.decider.strategy_source == "stored strategy lab@3"
    assert (
        half.describe()[0]
        == f"strategy lab@3 from the database: activated by ada at 2026-01-10 09:00 UTC (activation {made.id})"
    )
    store_model_dir(store, model_dir, currency="CNY", by="cli", now=NOW)
    on = activate(store, "model", ref_of(model_dir))
    whole = active_decider(store, previous=half)
    assert whole.decider.model_ref == ref_of(model_dir) and whole.decider.model_currency == "CNY"
    assert whole.decider.strategy is half.decider.strategy  # still active: kept, not built again
    assert whole.activation_id == on.id and whole.decider.model_source == f"stored model {ref_of(model_dir)}"


def test_files_of_another_currency_than_the_active_version_do_not_make_a_decider(store, model_dir, tmp_path):
    twd = variant(model_dir, tmp_path / "twd", "twd_model", currency="TWD")
    store_strategy_text(store, strategy_text(1, "CNY"), source="v1.yaml", by="ada", now=NOW)
    activate(store, "strategy", "lab@1")
    with pytest.raises(InputError) as caught:
        active_decider(store, model_dir=twd)
    assert caught.value.code == "currency_mismatch" and str(twd) in str(caught.value)


def test_a_model_file_and_a_strategy_file_of_different_currencies_are_refused_naming_both(model_dir, tmp_path):
    twd = variant(model_dir, tmp_path / "twd", "twd_model", currency="TWD")
    path = tmp_path / "cny.yaml"
    path.write_text(strategy_text(1, "CNY"), encoding="utf-8")
    with pytest.raises(InputError) as caught:
        load_decider(twd, path)
    assert caught.value.code == "currency_mismatch"
    assert str(path) in str(caught.value) and str(twd) in str(caught.value) and "TWD" in str(caught.value)
    with pytest.raises(ConfigurationError):
        load_decider(None, path)
