"""Linewise's scorecard and GBM against open-source anchors on the UCI set, one protocol.

Every method gets the same feature matrix and the same folds,
``StratifiedKFold(5, shuffle=True, random_state=0)``. Two input sets:

- ``portfolio``: the behaviour features that ``linewise model train --portfolio`` uses
  (``inputs_from_portfolio`` on the bundled UCI portfolio, monotone signs from the
  feature registry), for linewise's scorecard and GBM and every anchor.
- ``raw``: the UCI file's own 23 columns (LIMIT_BAL, SEX, ..., PAY_0, ..., BILL_AMT1,
  ..., PAY_AMT6), read as ``linewise model train --data`` reads a table
  (``inputs_from_table``), for linewise's two models, scorecardpy and LightGBM.

Per method it prints AUC mean ± std and mean KS over the folds (every method's
out-of-fold risk goes through linewise's ``ranking``), fit seconds per fold, and rows
scored per second: the fold-1 model scores ``--rows`` rows tiled from its test rows
through the method's own predict path (best of 3 runs for a path under 10 s).

The anchors: optbinning ``Scorecard`` (``BinningProcess`` + ``LogisticRegression``)
and LightGBM (default parameters, early stopping on a stratified 15% slice of the
training fold) run here. toad, scorecardpy and InterpretML's EBM need pandas 2.3, so
they run in ``benchmarks/.anchors-venv`` (created from ``anchors_requirements.txt`` on
first use; not tracked by git) in a subprocess that reads the features and folds
from a temp dir and writes out-of-fold predictions and timings back as JSON. An
anchor that cannot be installed or imported says "not available" in its row.

Usage::

    .venv/bin/python benchmarks/models_vs_anchors.py [--skip-anchors]
        [--only linewise_gbm,lightgbm] [--sets portfolio,raw] [--rows 1000000]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
ANCHORS_VENV = HERE / ".anchors-venv"
ANCHORS_REQUIREMENTS = HERE / "anchors_requirements.txt"
FOLDS = 5
SEED = 0
THREADS = 2  # the machine's cores
# toad's chi-merge panics on missing values; far below any UCI feature value.
TOAD_MISSING = -999_999.0
# One worker run covers every fold of every anchor; EBM is the slow one (minutes).
WORKER_TIMEOUT_S = 3 * 3600
TARGET = "_bad"
QUICK_SCORING_S = 10.0
SCORING_RUNS = 3

SETS: dict[str, list[str]] = {
    "portfolio": ["linewise_scorecard", "linewise_gbm", "optbinning", "toad", "scorecardpy", "lightgbm", "ebm"],
    "raw": ["linewise_scorecard", "linewise_gbm", "scorecardpy", "lightgbm"],
}
ALL_METHODS = list(dict.fromkeys(name for names in SETS.values() for name in names))
WORKER_METHODS = {"toad", "scorecardpy", "ebm"}
ANCHORS = {"optbinning", "lightgbm"} | WORKER_METHODS
SIZE_UNIT = {"linewise_scorecard": "features", "linewise_gbm": "trees", "lightgbm": "trees"}

# The UCI file's X1..X23 by their usual names (the importer's docstring maps them).
RAW_NAMES = {
    "X1": "LIMIT_BAL",
    "X2": "SEX",
    "X3": "EDUCATION",
    "X4": "MARRIAGE",
    "X5": "AGE",
    **{f"X{6 + i}": name for i, name in enumerate(["PAY_0", "PAY_2", "PAY_3", "PAY_4", "PAY_5", "PAY_6"])},
    **{f"X{12 + i}": f"BILL_AMT{i + 1}" for i in range(6)},
    **{f"X{18 + i}": f"PAY_AMT{i + 1}" for i in range(6)},
    "Y": "default",
}

Predict = Callable[[pd.DataFrame], np.ndarray]
Fitted = tuple[Predict, int | None]
Fit = Callable[[pd.DataFrame, np.ndarray], Fitted]


# --- the protocol (runs in both environments: numpy and pandas only) -------------------


def run_method(fit: Fit, features: pd.DataFrame, bad: np.ndarray, fold_of: np.ndarray, rows: int) -> dict[str, Any]:
    """Out-of-fold risk, fit seconds per fold and the fold-1 model's rows per second."""
    out_of_fold = np.full(len(bad), np.nan)
    fit_seconds, sizes = [], []
    rows_per_second = None
    for fold in range(int(fold_of.max()) + 1):
        train, test = np.flatnonzero(fold_of != fold), np.flatnonzero(fold_of == fold)
        started = time.perf_counter()
        predict, size = fit(features.iloc[train], bad[train])
        fit_seconds.append(time.perf_counter() - started)
        sizes.append(size)
        out_of_fold[test] = predict(features.iloc[test])
        if fold == 0:
            rows_per_second = _rows_per_second(predict, features.iloc[test], rows)
    return {"oof": out_of_fold.tolist(), "fit_seconds": fit_seconds, "sizes": sizes, "rows_per_second": rows_per_second}


def _rows_per_second(predict: Predict, test: pd.DataFrame, rows: int) -> float:
    """Rows per second, the best of up to :data:`SCORING_RUNS` runs.

    The first passes over fresh million-row arrays pay for page faults (glibc hands
    big blocks back to the kernel until its mmap threshold has grown), which can
    cost a quick path 3-4x; a slow path (over :data:`QUICK_SCORING_S`) is timed
    once, which that cost hardly moves.
    """
    tiled = test.iloc[np.resize(np.arange(len(test)), rows)].reset_index(drop=True)
    fastest = float("inf")
    for _ in range(SCORING_RUNS):
        started = time.perf_counter()
        scored = predict(tiled)
        fastest = min(fastest, time.perf_counter() - started)
        assert len(scored) == rows
        if fastest > QUICK_SCORING_S:
            break
    return rows / fastest


def _failure(error: BaseException, *, missing: bool) -> dict[str, Any]:
    prefix = "not available" if missing else "failed"
    return {"error": f"{prefix}: {type(error).__name__}: {error}"}


def run_guarded(
    name: str, fit: Fit, features: pd.DataFrame, bad: np.ndarray, fold_of: np.ndarray, rows: int
) -> dict[str, Any]:
    """:func:`run_method`, with a missing or broken anchor reported instead of raised."""
    print(f"  {name} ...", file=sys.stderr, flush=True)
    try:
        return run_method(fit, features, bad, fold_of, rows)
    except ImportError as error:
        return _failure(error, missing=True)
    except Exception as error:  # noqa: BLE001  # one broken anchor must not sink the table
        return _failure(error, missing=False)


# --- anchors that run in benchmarks/.anchors-venv (pandas 2.3) -------------------------


def fit_toad(features: pd.DataFrame, bad: np.ndarray) -> Fitted:
    """Chi-merge bins, WoE, toad's ScoreCard (a logistic regression on WoE)."""
    import toad
    from toad.scorecard import ScoreCard

    filled = features.fillna(TOAD_MISSING)
    combiner = toad.transform.Combiner()
    combiner.fit(filled, bad, method="chi", min_samples=0.05)
    woe = toad.transform.WOETransformer()
    woe_features = woe.fit_transform(combiner.transform(filled), bad)
    card = ScoreCard(combiner=combiner, transer=woe, max_iter=1000).fit(woe_features, bad)

    def predict(frame: pd.DataFrame) -> np.ndarray:
        # toad's points rise as risk falls.
        return -np.asarray(card.predict(frame.fillna(TOAD_MISSING)), dtype="float64")

    return predict, None


def fit_scorecardpy(features: pd.DataFrame, bad: np.ndarray) -> Fitted:
    """``woebin`` (tree method), ``woebin_ply``, L1 logistic regression as in its README."""
    import scorecardpy as sc
    from sklearn.linear_model import LogisticRegression

    bins = sc.woebin(features.assign(**{TARGET: bad}), y=TARGET, print_step=0, print_info=False)
    woe = sc.woebin_ply(features, bins, print_info=False)
    columns = sorted(woe.columns)
    regression = LogisticRegression(penalty="l1", C=0.9, solver="liblinear")
    regression.fit(woe[columns], bad)

    def predict(frame: pd.DataFrame) -> np.ndarray:
        applied = sc.woebin_ply(frame, bins, print_info=False)[columns]
        return np.asarray(regression.predict_proba(applied)[:, 1])

    return predict, None


def fit_ebm(features: pd.DataFrame, bad: np.ndarray) -> Fitted:
    """InterpretML's ExplainableBoostingClassifier with its defaults."""
    from interpret.glassbox import ExplainableBoostingClassifier

    model = ExplainableBoostingClassifier().fit(features, bad)
    return (lambda frame: np.asarray(model.predict_proba(frame)[:, 1])), None


WORKER_FITS: dict[str, Fit] = {"toad": fit_toad, "scorecardpy": fit_scorecardpy, "ebm": fit_ebm}


def worker(directory: Path) -> None:
    """Run the requested anchors on the sets in ``directory``; write ``results.json``."""
    warnings.simplefilter("ignore")  # pandas 2.3 deprecation chatter from the anchors
    request = json.loads((directory / "request.json").read_text())
    results: dict[str, dict[str, Any]] = {}
    for job in request["jobs"]:
        features = pd.read_parquet(directory / f"{job['set']}.parquet")
        arrays = np.load(directory / f"{job['set']}.npz")
        results[job["set"]] = {
            name: run_guarded(name, WORKER_FITS[name], features, arrays["bad"], arrays["fold_of"], request["rows"])
            for name in job["methods"]
        }
    (directory / "results.json").write_text(json.dumps(results))


# --- linewise and the anchors that share its environment -------------------------------


def linewise_fit(kind: str, monotone: dict[str, int]) -> Fit:
    """``make_model(kind)`` as ``linewise model train`` builds it; scored by ``predict_proba``."""
    from linewise.models.gbm import GradientBoostedModel
    from linewise.models.training import make_model

    def fit(features: pd.DataFrame, bad: np.ndarray) -> Fitted:
        model = make_model(kind, monotone=monotone, random_state=SEED).fit(features, bad)
        size = model.n_trees if isinstance(model, GradientBoostedModel) else len(model.features_)
        return model.predict_proba, size

    return fit


def fit_optbinning(features: pd.DataFrame, bad: np.ndarray) -> Fitted:
    """optbinning's Scorecard: BinningProcess over every column + LogisticRegression."""
    from optbinning import BinningProcess, Scorecard
    from sklearn.linear_model import LogisticRegression

    card = Scorecard(
        binning_process=BinningProcess(list(features.columns)), estimator=LogisticRegression(max_iter=1000)
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        card.fit(features, bad)
    return (lambda frame: np.asarray(card.predict_proba(frame)[:, 1])), None


def fit_lightgbm(features: pd.DataFrame, bad: np.ndarray) -> Fitted:
    """LightGBM's defaults; a stratified 15% of the training fold decides when to stop."""
    import lightgbm as lgb
    from sklearn.model_selection import train_test_split

    grow, stop = train_test_split(np.arange(len(bad)), test_size=0.15, stratify=bad, random_state=SEED)
    model = lgb.LGBMClassifier(n_estimators=10_000, random_state=SEED, n_jobs=THREADS, verbose=-1)
    model.fit(
        features.iloc[grow],
        bad[grow],
        eval_X=(features.iloc[stop],),
        eval_y=(bad[stop],),
        callbacks=[lgb.early_stopping(100, verbose=False)],
    )
    return (lambda frame: np.asarray(model.predict_proba(frame)[:, 1])), model.best_iteration_


def load_sets(names: list[str]) -> dict[str, tuple[pd.DataFrame, np.ndarray, dict[str, int]]]:
    """Features, bad flags and monotone signs of each input set."""
    from linewise.data.importers.uci_taiwan import load_uci_raw, uci_portfolio
    from linewise.features import REGISTRY
    from linewise.models.inputs import inputs_from_portfolio, inputs_from_table

    sets = {}
    if "portfolio" in names:
        inputs = inputs_from_portfolio(uci_portfolio())
        monotone = {name: REGISTRY[name].risk_direction.sign for name in inputs.features.columns if name in REGISTRY}
        sets["portfolio"] = (inputs.features, inputs.bad, monotone)
    if "raw" in names:
        raw = load_uci_raw().rename(columns=RAW_NAMES)
        inputs = inputs_from_table(raw, target="default", id_column="ID", source="uci raw")
        sets["raw"] = (inputs.features, inputs.bad, {})
    return sets


def fold_assignment(bad: np.ndarray) -> np.ndarray:
    """The test fold of every row: the one split every method shares."""
    from sklearn.model_selection import StratifiedKFold

    fold_of = np.empty(len(bad), dtype="int64")
    splitter = StratifiedKFold(n_splits=FOLDS, shuffle=True, random_state=SEED)
    for fold, (_, test) in enumerate(splitter.split(np.zeros(len(bad)), bad)):
        fold_of[test] = fold
    return fold_of


def anchors_python() -> tuple[Path | None, str]:
    """The anchors venv's interpreter, installed or refreshed from the requirements."""
    python = ANCHORS_VENV / "bin" / "python"
    stamp = ANCHORS_VENV / "requirements.sha256"
    wanted = hashlib.sha256(ANCHORS_REQUIREMENTS.read_bytes()).hexdigest()
    if python.exists() and stamp.exists() and stamp.read_text() == wanted:
        return python, ""
    print(f"installing {ANCHORS_REQUIREMENTS.name} into {ANCHORS_VENV} ...", flush=True)
    started = time.perf_counter()
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(ANCHORS_VENV)], check=True)
    done = subprocess.run(
        [str(python), "-m", "pip", "install", "-q", "-r", str(ANCHORS_REQUIREMENTS)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        tail = done.stderr.strip().splitlines()[-1:] or ["?"]
        return None, f"not available: pip install failed: {tail[0]}"
    stamp.write_text(wanted)
    print(f"anchors venv ready in {time.perf_counter() - started:.0f} s", flush=True)
    return python, ""


def _every_job_failed(jobs: list[dict[str, Any]], message: str) -> dict[str, dict[str, Any]]:
    return {job["set"]: {name: {"error": message} for name in job["methods"]} for job in jobs}


def run_worker_anchors(jobs: list[dict[str, Any]], data: dict[str, Any], rows: int) -> dict[str, dict[str, Any]]:
    """The pandas-2.3 anchors, run by the anchors venv on files in a temp dir."""
    python, problem = anchors_python()
    if python is None:
        return _every_job_failed(jobs, problem)
    with tempfile.TemporaryDirectory(prefix="linewise-anchors-") as name:
        directory = Path(name)
        for job in jobs:
            features, bad, fold_of = data[job["set"]]
            plain = features.reset_index(drop=True)
            plain.attrs = {}  # the as-of Timestamp has no Parquet form; the worker needs none
            plain.to_parquet(directory / f"{job['set']}.parquet")
            np.savez(directory / f"{job['set']}.npz", bad=bad, fold_of=fold_of)
        (directory / "request.json").write_text(json.dumps({"jobs": jobs, "rows": rows}))
        done = subprocess.run(
            [str(python), str(Path(__file__).resolve()), "--worker", str(directory)],
            capture_output=True,
            text=True,
            check=False,
            timeout=WORKER_TIMEOUT_S,
        )
        results = directory / "results.json"
        if done.returncode != 0 or not results.exists():
            tail = (done.stderr.strip().splitlines() or ["?"])[-1]
            return _every_job_failed(jobs, f"failed: {tail}")
        loaded: dict[str, dict[str, Any]] = json.loads(results.read_text())
        return loaded


# --- figures ----------------------------------------------------------------------------


def _size_range(name: str, sizes: list[int | None]) -> str:
    known = [s for s in sizes if s is not None]
    if not known:
        return ""
    low, high = min(known), max(known)
    return f"{low}{'' if low == high else f'-{high}'} {SIZE_UNIT[name]}"


def row_of(name: str, result: dict[str, Any], bad: np.ndarray, fold_of: np.ndarray) -> str:
    """One line of the table."""
    from linewise.models.evaluation import ranking

    if "error" in result:
        return f"{name:<20} {result['error']}"
    risk = np.asarray(result["oof"])
    figures = [ranking(bad[fold_of == k], risk[fold_of == k]) for k in range(FOLDS)]
    auc = np.array([f["auc"] for f in figures])
    ks = np.array([f["ks"] for f in figures])
    rate = result["rows_per_second"]
    return (
        f"{name:<20} {auc.mean():.4f} ± {auc.std():.4f}  {ks.mean():.4f}"
        f"  {np.mean(result['fit_seconds']):>9.2f}  {rate:>12,.0f}"
        f"  {_size_range(name, result.get('sizes', []))}"
    )


def print_table(
    set_name: str, features: pd.DataFrame, bad: np.ndarray, fold_of: np.ndarray, results: dict[str, Any], rows: int
) -> None:
    """The figures of one input set."""
    print(
        f"\n{set_name}: {features.shape[0]:,} rows x {features.shape[1]} features, "
        f"bad rate {bad.mean():.2%}, {FOLDS} stratified folds (seed {SEED})"
    )
    print(f"{'method':<20} {'AUC mean ± std':<17} {'KS mean':<7}  {'fit s/fold':>9}  {f'rows/s ({rows:,})':>12}  size")
    for name in SETS[set_name]:
        if name in results:
            print(row_of(name, results[name], bad, fold_of))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip-anchors", action="store_true", help="run linewise's models only")
    parser.add_argument("--only", default=None, help=f"comma-separated methods of {ALL_METHODS}")
    parser.add_argument("--sets", default="portfolio,raw", help="comma-separated input sets")
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows scored for the throughput figure")
    parser.add_argument("--worker", type=Path, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker is not None:
        worker(args.worker)
        return

    chosen = set(args.only.split(",")) if args.only else set(ALL_METHODS)
    if args.skip_anchors:
        chosen -= ANCHORS
    set_names = [name for name in args.sets.split(",") if name in SETS]
    sets = load_sets(set_names)
    here: dict[str, Fit] = {"optbinning": fit_optbinning, "lightgbm": fit_lightgbm}
    data, results, jobs = {}, {}, []
    for set_name, (features, bad, monotone) in sets.items():
        fold_of = fold_assignment(bad)
        data[set_name] = (features, bad, fold_of)
        fits = {
            **here,
            "linewise_scorecard": linewise_fit("scorecard", monotone),
            "linewise_gbm": linewise_fit("gbm", monotone),
        }
        print(f"{set_name}:", file=sys.stderr, flush=True)
        results[set_name] = {
            name: run_guarded(name, fits[name], features, bad, fold_of, args.rows)
            for name in SETS[set_name]
            if name in chosen and name not in WORKER_METHODS
        }
        wanted = [name for name in SETS[set_name] if name in chosen and name in WORKER_METHODS]
        if wanted:
            jobs.append({"set": set_name, "methods": wanted})
    if jobs:
        print("anchors venv: " + ", ".join(f"{j['set']}: {j['methods']}" for j in jobs), file=sys.stderr, flush=True)
        for set_name, found in run_worker_anchors(jobs, data, args.rows).items():
            results[set_name].update(found)
    print(
        f"\nload average (1 min) at the end: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores; "
        "timings are wall-clock and shift with other load"
    )
    for set_name, (features, bad, fold_of) in data.items():
        print_table(set_name, features, bad, fold_of, results[set_name], args.rows)


if __name__ == "__main__":
    main()
