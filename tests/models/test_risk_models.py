"""Scorecard and GBM trained on the UCI accounts' behaviour features: what a user relies on.

Both kinds are trained once per module, by ``train_model`` (cross-validation,
calibration, final fit) on a stratified sample of the real portfolio, with the
monotone constraints the registry declares, as ``linewise model train`` does.
"""

from __future__ import annotations

import json
import subprocess
import sys
from importlib import metadata

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split

from linewise.features import REGISTRY
from linewise.models.artifacts import MANIFEST_FILE, load_model, save_model
from linewise.models.calibration import logit
from linewise.models.inputs import ModelInputs, inputs_from_portfolio
from linewise.models.training import (
    MODEL_KINDS,
    TrainedModel,
    train_model,
    training_data_hash,
)

pytestmark = [
    # optbinning 1.0 builds its binning table's "Totals" row by setting a mixed row
    # into typed columns, which pandas 3 deprecates; the table it builds is right.
    pytest.mark.filterwarnings("ignore:Setting an item of incompatible dtype:pandas.errors.Pandas4Warning:optbinning"),
    # Both kinds trained with cross-validation, and a fresh process to score in.
    pytest.mark.slow,
]

# Large enough for every fold to learn a real model, small enough to train both kinds
# in about 15 seconds on two cores.
SAMPLE_ROWS = 3_000
FOLDS = 2
# Accounts whose features are swept in the monotonicity test, and points per sweep.
SWEPT_ACCOUNTS = 150
GRID_POINTS = 21
CV_AUC_MIN = 0.72  # the sample's cross-validated AUC is about 0.76 (scorecard) and 0.78 (GBM)


@pytest.fixture(scope="module")
def uci_inputs(uci) -> ModelInputs:
    return inputs_from_portfolio(uci)


@pytest.fixture(scope="module")
def sample(uci_inputs) -> ModelInputs:
    rows, _ = train_test_split(
        np.arange(len(uci_inputs.bad)), train_size=SAMPLE_ROWS, stratify=uci_inputs.bad, random_state=0
    )
    rows = np.sort(rows)
    return ModelInputs(features=uci_inputs.features.iloc[rows], bad=uci_inputs.bad[rows], ids=uci_inputs.ids[rows])


def _monotone(features: pd.DataFrame) -> dict[str, int]:
    return {name: REGISTRY[name].risk_direction.sign for name in features.columns}


@pytest.fixture(scope="module")
def trained(sample) -> dict[str, TrainedModel]:
    return {
        kind: train_model(sample, kind=kind, folds=FOLDS, monotone=_monotone(sample.features)) for kind in MODEL_KINDS
    }


@pytest.fixture(scope="module")
def odd_accounts(uci_inputs) -> pd.DataFrame:
    """Rows no training sample holds: every feature missing, and far below or above its range."""
    features = uci_inputs.features
    low, high = features.min(), features.max()
    span = (high - low).replace(0, 1)
    rows = [
        pd.Series(np.nan, index=features.columns),
        low - 10 * span,
        high + 10 * span,
        *(features.iloc[0].where(features.columns != name, np.nan) for name in features.columns[:5]),
    ]
    return (
        pd.DataFrame(rows, columns=features.columns).astype("float64").set_axis([f"odd{i}" for i in range(len(rows))])
    )


# --- probability of default, score ---------------------------------------------------------


@pytest.mark.parametrize("kind", MODEL_KINDS)
def test_every_pd_lies_strictly_between_0_and_1(kind, trained, uci_inputs, odd_accounts):
    model = trained[kind].model
    for features in (uci_inputs.features, odd_accounts):
        pd_ = model.predict_proba(features)
        assert pd_.shape == (len(features),)
        assert np.isfinite(pd_).all() and (pd_ > 0).all() and (pd_ < 1).all()


@pytest.mark.parametrize("kind", MODEL_KINDS)
def test_a_higher_pd_always_means_a_lower_score(kind, trained, uci_inputs):
    model = trained[kind].model
    pd_, score = model.predict_proba(uci_inputs.features), model.score(uci_inputs.features)
    order = np.argsort(pd_, kind="stable")
    assert (np.diff(score[order]) <= 1e-9).all()
    np.testing.assert_allclose(score, model.points_scaling.points(logit(pd_)), rtol=0, atol=1e-9)


@pytest.mark.parametrize("kind", MODEL_KINDS)
def test_accounts_that_defaulted_got_higher_pds(kind, trained, uci_inputs, sample):
    """Out of the sample: the other 27,000 accounts rank as the cross-validation said."""
    unseen = ~uci_inputs.ids.isin(sample.ids)
    pd_ = trained[kind].model.predict_proba(uci_inputs.features[unseen])
    assert roc_auc_score(uci_inputs.bad[unseen], pd_) > CV_AUC_MIN


# --- monotone constraints from the registry ----------------------------------------------------


def _constrained(model) -> list[str]:
    return [name for name in model.features_ if REGISTRY[name].risk_direction.sign != 0]


def _falls_towards_risk(model, features: pd.DataFrame) -> tuple[dict[str, tuple[float, float]], int]:
    """Where the PD falls as a constrained feature moves towards more risk.

    Each feature of ``SWEPT_ACCOUNTS`` accounts is swept over its quantiles (and past
    both ends of its range), the rest of the account unchanged. Returns, per feature
    where it happens, the share of accounts whose PD fell somewhere and the largest
    fall; and how many features moved the PD at all.
    """
    accounts = features.sample(SWEPT_ACCOUNTS, random_state=1)
    names = _constrained(model)
    assert len(names) >= 10
    falls, moved = {}, 0
    for name in names:
        column = features[name].dropna()
        grid = np.unique(
            np.r_[column.quantile(np.linspace(0, 1, GRID_POINTS)).to_numpy(), column.min() - 1, column.max() + 1]
        )
        swept = accounts.loc[accounts.index.repeat(len(grid))].copy()
        swept[name] = np.tile(grid, len(accounts))
        pd_ = model.predict_proba(swept).reshape(len(accounts), len(grid))
        towards_risk = np.diff(pd_, axis=1) * REGISTRY[name].risk_direction.sign
        if (towards_risk < 0).any():
            falls[name] = (float((towards_risk < 0).any(axis=1).mean()), float(-towards_risk.min()))
        moved += bool((towards_risk > 0).any())
    return falls, moved


@pytest.mark.parametrize("kind", MODEL_KINDS)
def test_moving_a_feature_towards_more_risk_never_lowers_the_pd(kind, trained, uci_inputs):
    """Raising an INCREASING feature (lowering a DECREASING one) never lowers any account's PD."""
    falls, moved = _falls_towards_risk(trained[kind].model, uci_inputs.features)
    assert not falls, f"{kind}: the PD falls as these features move towards more risk: {falls}"
    assert moved >= 5, "the sweep must move the PD for several features"


def test_scorecard_points_fall_bin_by_bin_as_risk_rises(trained):
    scorecard = trained["scorecard"].model
    for feature in scorecard.table_.features:
        sign = REGISTRY[feature.name].risk_direction.sign
        if feature.kind == "numeric" and sign:
            steps = np.diff(feature.points) * sign
            assert (steps <= 0).all(), feature.name


# --- contributions --------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", MODEL_KINDS)
def test_contributions_plus_one_base_give_every_accounts_log_odds(kind, trained, sample, odd_accounts):
    model = trained[kind].model
    features = pd.concat([sample.features.iloc[:1000], odd_accounts])
    contributions = model.contributions(features)
    assert list(contributions.columns) == list(model.features_)
    assert contributions.index.equals(features.index)
    base = model.raw_log_odds(features) - contributions.sum(axis=1).to_numpy()
    np.testing.assert_allclose(base, base[0], rtol=0, atol=1e-9)  # the same for everybody
    pd_ = model.calibration_.apply(base[0] + contributions.sum(axis=1).to_numpy())
    np.testing.assert_allclose(model.predict_proba(features), pd_, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("kind", MODEL_KINDS)
def test_reason_contributions_also_add_up_to_every_accounts_log_odds(kind, trained, sample, odd_accounts):
    """The fast decomposition reasons are ranked by (path contributions for the GBM) is exact too."""
    model = trained[kind].model
    features = pd.concat([sample.features.iloc[:1000], odd_accounts])
    contributions = model.reason_contributions(features)
    assert list(contributions.columns) == list(model.features_)
    base = model.raw_log_odds(features) - contributions.sum(axis=1).to_numpy()
    np.testing.assert_allclose(base, base[0], rtol=0, atol=1e-9)
    # A feature the trees never split on gets nothing, whatever its value.
    unused = [name for name, gain in zip(model.features_, _gains(model), strict=True) if gain == 0]
    assert all((contributions[name] == 0).all() for name in unused)


def _gains(model) -> list[float]:
    booster = getattr(model, "booster_", None)
    if booster is None:  # the scorecard: a feature without points never contributes
        return [1.0] * len(model.features_)
    return list(booster.feature_importance(importance_type="gain"))


@pytest.mark.parametrize("kind", MODEL_KINDS)
def test_contributions_are_relative_to_the_training_average(kind, trained, sample):
    """Averaged over the training rows every contribution is about 0.

    The scorecard's neutral points are its rounded average points (about 1e-3
    log-odds off); LightGBM's base is the average over the rows its trees were grown
    on, a bagged 85% of them (about 0.04 off).
    """
    contributions = trained[kind].model.contributions(sample.features)
    assert contributions.mean().abs().max() < 0.1
    assert contributions.abs().mean().max() > 0.1  # yet they are not all zero


# --- artefacts -------------------------------------------------------------------------------------


_SCORE_IN_A_FRESH_PROCESS = """
import sys
from pathlib import Path

import pandas as pd

from linewise.models.artifacts import load_model

directory, features_file, out_file = map(Path, sys.argv[1:])
model, manifest = load_model(directory)
features = pd.read_parquet(features_file)
scored = pd.DataFrame({"pd": model.predict_proba(features), "score": model.score(features)},
                      index=features.index)
scored.join(model.contributions(features).add_prefix("contribution_")).to_parquet(out_file)
"""


def _scores(model, features: pd.DataFrame) -> pd.DataFrame:
    scored = pd.DataFrame({"pd": model.predict_proba(features), "score": model.score(features)}, index=features.index)
    return scored.join(model.contributions(features).add_prefix("contribution_"))


@pytest.fixture(scope="module")
def saved(trained, sample, tmp_path_factory) -> dict[str, tuple]:
    out = {}
    for kind, result in trained.items():
        directory = tmp_path_factory.mktemp(f"model_{kind}")
        manifest = save_model(
            result.model,
            result.metrics,
            directory,
            model_id=f"behaviour_{kind}",
            training_data_sha256=training_data_hash(sample),
            trained_on="UCI sample",
        )
        out[kind] = (directory, manifest)
    return out


def test_a_saved_model_scores_identically_in_a_fresh_process(trained, saved, uci_inputs, odd_accounts, tmp_path):
    features = pd.concat([uci_inputs.features.iloc[::30], odd_accounts])
    features.index.name = "account_id"
    features_file = tmp_path / "features.parquet"
    features.to_parquet(features_file)
    script = tmp_path / "score.py"
    script.write_text(_SCORE_IN_A_FRESH_PROCESS, encoding="utf-8")
    for kind, (directory, _) in saved.items():
        out_file = tmp_path / f"{kind}.parquet"
        subprocess.run(
            [sys.executable, str(script), str(directory), str(features_file), str(out_file)],
            check=True,
            capture_output=True,
            timeout=120,
        )
        expected = _scores(trained[kind].model, features)
        reloaded, _ = load_model(directory)
        pd.testing.assert_frame_equal(
            _scores(reloaded, features), expected, check_exact=True, obj=f"{kind} loaded here"
        )
        pd.testing.assert_frame_equal(
            pd.read_parquet(out_file), expected, check_exact=True, obj=f"{kind} loaded in a fresh process"
        )


@pytest.mark.parametrize("kind", MODEL_KINDS)
def test_the_manifest_names_model_features_data_and_libraries(kind, trained, saved, sample):
    directory, returned = saved[kind]
    manifest = json.loads((directory / MANIFEST_FILE).read_text(encoding="utf-8"))
    assert manifest == returned
    assert manifest["model"] == f"behaviour_{kind}@{manifest['version']}"
    assert manifest["kind"] == kind
    assert manifest["features"] == list(trained[kind].model.features_)
    assert set(manifest["features"]) <= set(sample.features.columns)
    assert manifest["training_data_sha256"] == training_data_hash(sample)
    assert len(manifest["training_data_sha256"]) == 64
    for library in ("linewise", "lightgbm", "optbinning", "scikit-learn", "numpy", "pandas"):
        assert manifest["libraries"][library] == metadata.version(library)
    assert sorted(path.name for path in directory.iterdir()) == sorted([*manifest["files"], MANIFEST_FILE])


@pytest.mark.parametrize("kind", MODEL_KINDS)
def test_the_artefact_is_readable_text_and_holds_no_pickle(kind, saved):
    directory, _ = saved[kind]
    for path in directory.iterdir():
        assert path.suffix in {".json", ".txt", ".csv", ".md"}, path.name
        raw = path.read_bytes()
        assert not raw.startswith(b"\x80"), f"{path.name} looks like a pickle"
        text = raw.decode("utf-8")
        if path.suffix == ".json":
            json.loads(text)


def test_the_version_is_the_same_for_the_same_model_and_differs_otherwise(trained, sample, tmp_path):
    versions = {}
    for name, kind in (("first", "scorecard"), ("again", "scorecard"), ("gbm", "gbm")):
        result = trained[kind].model
        manifest = save_model(
            result,
            trained[kind].metrics,
            tmp_path / name,
            model_id="m",
            training_data_sha256=training_data_hash(sample),
            trained_on="x",
        )
        versions[name] = manifest["version"]
    assert versions["first"] == versions["again"] != versions["gbm"]


@pytest.mark.parametrize("kind", MODEL_KINDS)
def test_metrics_json_holds_the_cross_validated_figures(kind, trained, saved, sample):
    directory, _ = saved[kind]
    metrics = json.loads((directory / "metrics.json").read_text(encoding="utf-8"))
    assert metrics["kind"] == kind
    assert metrics["n_rows"] == SAMPLE_ROWS == len(sample.bad)
    assert metrics["bad_rate"] == pytest.approx(sample.bad.mean(), abs=1e-6)
    cv = metrics["cv"]
    assert len(cv["folds"]) == cv["n_folds"] == FOLDS
    aucs = [fold["auc"] for fold in cv["folds"]]
    kss = [fold["ks"] for fold in cv["folds"]]
    assert cv["auc_mean"] == pytest.approx(np.mean(aucs), abs=1e-6)
    assert cv["auc_std"] == pytest.approx(np.std(aucs), abs=1e-6)
    assert cv["ks_mean"] == pytest.approx(np.mean(kss), abs=1e-6)
    assert cv["ks_std"] == pytest.approx(np.std(kss), abs=1e-6)
    assert cv["auc_mean"] > CV_AUC_MIN
    assert 0 < cv["ks_mean"] < 1
