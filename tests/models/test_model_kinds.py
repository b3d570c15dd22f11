"""Model kinds are one registry: training makes them, loading reads them back, an unknown one is refused."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pandas as pd
import pytest
from sklearn.exceptions import NotFittedError

from linewise.errors import InputError
from linewise.models.artifacts import MANIFEST_FILE, load_model, save_model
from linewise.models.base import ModelNotFittedError
from linewise.models.inputs import ModelInputs
from linewise.models.kinds import MODEL_KINDS
from linewise.models.training import make_model, train_model

pytestmark = [
    # optbinning 1.0 builds its binning table's "Totals" row by setting a mixed row
    # into typed columns, which pandas 3 deprecates; the table it builds is right.
    pytest.mark.filterwarnings("ignore:Setting an item of incompatible dtype:pandas.errors.Pandas4Warning:optbinning"),
]

# Enough rows for both kinds to learn something, few enough to fit in a second.
ROWS = 600


def _data() -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(0)
    features = pd.DataFrame(
        {"dpd_max_6m": rng.integers(0, 60, ROWS).astype("float64"), "utilisation_current": rng.uniform(0, 1, ROWS)}
    )
    odds = -3 + features["dpd_max_6m"] / 15 + features["utilisation_current"]
    bad = (rng.random(ROWS) < 1 / (1 + np.exp(-odds))).astype("int64").to_numpy()
    return features, bad


@pytest.fixture(scope="module")
def saved(tmp_path_factory) -> dict[str, tuple]:
    """Per kind: a model trained on the small data set, saved, and the data."""
    features, bad = _data()
    inputs = ModelInputs(features=features, bad=bad, ids=features.index.astype("str"))
    out = {}
    for kind in MODEL_KINDS:
        trained = train_model(inputs, kind=kind, folds=2, monotone={"dpd_max_6m": 1, "utilisation_current": 1})
        directory = tmp_path_factory.mktemp(kind)
        save_model(
            trained.model, trained.metrics, directory, model_id="m", training_data_sha256="0" * 64, trained_on="x"
        )
        out[kind] = (trained.model, directory, features)
    return out


def test_every_kind_is_named_as_its_class_says():
    for name, kind in MODEL_KINDS.items():
        assert kind.model.kind == name
        assert type(kind.make(None, (), 0)) is kind.model


def test_training_refuses_a_kind_it_does_not_know_naming_the_known_ones():
    with pytest.raises(InputError) as caught:
        make_model("logit")
    assert caught.value.code == "model_kind_unknown"
    assert str(caught.value) == f"--kind: kind must be one of {list(MODEL_KINDS)}; got 'logit'"


@pytest.mark.parametrize("kind", MODEL_KINDS)
@pytest.mark.parametrize("method", ["predict_proba", "score", "raw_log_odds", "contributions", "reason_contributions"])
def test_an_unfitted_model_refuses_to_score_with_a_clear_not_fitted_error(kind, method):
    features, _ = _data()
    model = make_model(kind)
    with pytest.raises(ModelNotFittedError) as caught:
        getattr(model, method)(features)
    assert caught.value.code == "model_not_fitted"
    assert isinstance(caught.value, NotFittedError)
    assert isinstance(caught.value, InputError)
    assert str(caught.value).startswith(f"{type(model).__name__}: model must be fitted")


@pytest.mark.parametrize("kind", MODEL_KINDS)
def test_an_unfitted_model_cannot_be_saved(kind, tmp_path):
    with pytest.raises(ModelNotFittedError):
        save_model(make_model(kind), {}, tmp_path / "m", model_id="m", training_data_sha256="0" * 64, trained_on="x")


@pytest.mark.parametrize("kind", MODEL_KINDS)
def test_a_saved_model_of_each_kind_loads_back_as_that_kind_and_scores_the_same(kind, saved):
    model, directory, features = saved[kind]
    loaded, manifest = load_model(directory)
    assert type(loaded) is MODEL_KINDS[kind].model
    assert manifest["kind"] == kind
    np.testing.assert_array_equal(loaded.predict_proba(features), model.predict_proba(features))


@pytest.mark.parametrize("kind", MODEL_KINDS)
@pytest.mark.parametrize("named", ["logit", "", "GBM", ["gbm"], None])
def test_an_artefact_naming_an_unknown_kind_is_refused_and_never_loaded_as_another(kind, named, saved, tmp_path):
    directory = tmp_path / "m"
    shutil.copytree(saved[kind][1], directory)
    manifest = json.loads((directory / MANIFEST_FILE).read_text(encoding="utf-8"))
    (directory / MANIFEST_FILE).write_text(json.dumps({**manifest, "kind": named}), encoding="utf-8")
    with pytest.raises(InputError) as caught:
        load_model(directory)
    assert caught.value.code == "model_kind_unknown"
    assert caught.value.where == str(directory / MANIFEST_FILE)
    assert f"kind must be one of {list(MODEL_KINDS)}" in str(caught.value)


def test_a_gbm_whose_trees_file_is_not_trees_is_refused_as_invalid_naming_the_library_error(saved, tmp_path):
    _model, directory, _features = saved["gbm"]
    broken = tmp_path / "broken"
    shutil.copytree(directory, broken)
    trees = next(path for path in broken.iterdir() if path.suffix == ".txt")
    trees.write_text("not a tree\n", encoding="utf-8")
    with pytest.raises(InputError) as caught:
        load_model(broken)
    assert caught.value.code == "model_invalid" and "LightGBMError" in str(caught.value)
