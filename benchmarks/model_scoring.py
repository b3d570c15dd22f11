"""Scoring throughput of linewise's fitted scorecard and GBM on 1,000,000 rows.

Fits both models on the bundled UCI portfolio's behaviour features (as
``linewise model train --portfolio`` does, monotone signs from the registry), tiles
those 30,000 feature rows to ``--rows`` rows, and times the public paths,
``predict_proba`` and ``score``, best of ``--repeats``. For comparison it times
LightGBM's own ``Booster.predict`` on the same trees and a float64 matrix, and a
numpy-only scorecard lookup (a prototype of a faster ``Scorecard.raw_log_odds``,
checked equal to the real one; not part of linewise), and the GBM refitted with
``learning_rate=0.02``, linewise's former default, whose early stopping keeps about
four times as many trees for the same AUC.

Targets (the issue): GBM >= 500,000 rows/s, scorecard >= 2,000,000 rows/s on 2 cores.

``--compiled`` also times compiled trees where the packages can be imported:
treelite + tl2cgen (C through gcc) and lleaves (LLVM). They are not linewise
dependencies; to try them without touching the venv::

    .venv/bin/pip install --target /tmp/compiled --no-deps treelite tl2cgen lleaves "llvmlite<0.45"
    PYTHONPATH=/tmp/compiled .venv/bin/python benchmarks/model_scoring.py --compiled

(lleaves 1.3.0 uses llvmlite's legacy pass manager, which llvmlite 0.45 removed.)
``--profile`` prints cProfile's top entries for the two linewise paths.

Usage::

    .venv/bin/python benchmarks/model_scoring.py [--rows 1000000] [--repeats 3]
        [--profile] [--compiled]
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from linewise.data.importers.uci_taiwan import uci_portfolio
from linewise.features import REGISTRY
from linewise.models.gbm import GradientBoostedModel
from linewise.models.inputs import inputs_from_portfolio
from linewise.models.scorecard import Scorecard

THREADS = 2  # the machine's cores; linewise's GBM scores with 2 threads by default
GBM_TARGET = 500_000
SCORECARD_TARGET = 2_000_000
# linewise's former default (linewise's GBM uses 0.07; the README has the AUC of each).
SLOW_LEARNING_RATE = 0.02


def best_rate(run: Callable[[], object], rows: int, repeats: int) -> float:
    """Rows per second of the fastest of ``repeats`` runs."""
    fastest = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        run()
        fastest = min(fastest, time.perf_counter() - started)
    return rows / fastest


def report(label: str, rate: float, target: int | None = None) -> None:
    """One line: rows per second, and the target when there is one."""
    verdict = "" if target is None else f"  target {target:>10,}  {'met' if rate >= target else 'NOT met'}"
    print(f"{label:<46} {rate:>12,.0f} rows/s{verdict}")


def lookup_log_odds(model: Scorecard, features: pd.DataFrame) -> np.ndarray:
    """Prototype: the scorecard's raw log-odds by numpy lookups into one running total.

    No column subset copy, no per-feature points frame: each numeric column is read
    in place, its bin found by ``searchsorted`` and its points added to the total.
    """
    total = np.zeros(len(features))
    for feature in model.table_.features:
        if feature.kind != "numeric":
            total += feature.points_of(features[feature.name])
            continue
        values = features[feature.name].to_numpy(dtype="float64", na_value=np.nan)
        # One extra slot past the last bin holds the missing points.
        table = np.append(np.asarray(feature.points), feature.missing_points)
        index = np.searchsorted(np.asarray(feature.splits), values, side="right")
        index[np.isnan(values)] = len(table) - 1
        points = table[index]
        if feature.special_codes:
            points[np.isin(values, feature.special_codes)] = feature.special_points
        total += points
    return model.table_.scaling.log_odds(total)


def profile(label: str, run: Callable[[], object], top: int = 12) -> None:
    """cProfile's ``top`` entries by cumulative time."""
    print(f"\n--- cProfile: {label} ---")
    profiler = cProfile.Profile()
    profiler.runcall(run)
    pstats.Stats(profiler).strip_dirs().sort_stats("cumulative").print_stats(top)


def compiled_rates(gbm: GradientBoostedModel, matrix: np.ndarray, rows: int, repeats: int) -> None:
    """Compiled trees (treelite + tl2cgen, lleaves), where they can be imported."""
    expected = gbm.booster_.predict(matrix[:30_000], num_iteration=gbm.booster_.best_iteration, num_threads=THREADS)
    with tempfile.TemporaryDirectory(prefix="linewise-compiled-") as name:
        model_file = Path(name) / "gbm.txt"
        model_file.write_text(gbm.model_text())
        try:
            import tl2cgen
            import treelite
        except ImportError as error:
            print(f"{'treelite + tl2cgen':<46} not installed ({error})")
        else:
            trees = treelite.frontend.load_lightgbm_model(str(model_file))
            for label, params in (("tl2cgen (gcc)", {}), ("tl2cgen (gcc, quantize)", {"quantize": 1})):
                library = Path(name) / f"gbm{len(params)}.so"
                started = time.perf_counter()
                tl2cgen.export_lib(
                    trees, toolchain="gcc", libpath=str(library), params={"parallel_comp": 8, **params}, nthread=THREADS
                )
                compile_s = time.perf_counter() - started
                predictor = tl2cgen.Predictor(str(library), nthread=THREADS)
                dmatrix = tl2cgen.DMatrix(matrix, dtype="float64")
                rate = best_rate(lambda p=predictor, d=dmatrix: p.predict(d), rows, repeats)
                got = np.ravel(predictor.predict(tl2cgen.DMatrix(matrix[:30_000], dtype="float64")))
                report(f"{label}, compiled in {compile_s:.1f} s", rate, GBM_TARGET)
                _agreement(got, expected)
        try:
            import lleaves
        except ImportError as error:
            print(f"{'lleaves':<46} not installed ({error})")
        else:
            model = lleaves.Model(model_file=str(model_file))
            started = time.perf_counter()
            model.compile()
            compile_s = time.perf_counter() - started
            model.predict(matrix[:10_000], n_jobs=THREADS)  # first call pays for loading
            rate = best_rate(lambda: model.predict(matrix, n_jobs=THREADS), rows, repeats)
            report(f"lleaves, compiled in {compile_s:.1f} s", rate, GBM_TARGET)
            _agreement(model.predict(matrix[:30_000], n_jobs=THREADS), expected)


def _agreement(got: np.ndarray, expected: np.ndarray) -> None:
    differ = np.abs(got - expected) > 1e-9
    print(
        f"{'':<46} vs LightGBM on 30,000 rows: {int(differ.sum())} differ, max |dPD| {np.abs(got - expected).max():.2g}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--compiled", action="store_true")
    args = parser.parse_args()

    inputs = inputs_from_portfolio(uci_portfolio())
    monotone = {name: REGISTRY[name].risk_direction.sign for name in inputs.features.columns if name in REGISTRY}
    started = time.perf_counter()
    scorecard = Scorecard(monotone=monotone).fit(inputs.features, inputs.bad)
    print(f"scorecard: {len(scorecard.features_)} features, fitted in {time.perf_counter() - started:.1f} s")
    started = time.perf_counter()
    gbm = GradientBoostedModel(monotone=monotone).fit(inputs.features, inputs.bad)
    print(
        f"gbm: {gbm.n_trees} trees x {gbm.num_leaves} leaves max, {len(gbm.features_)} "
        f"features, fitted in {time.perf_counter() - started:.1f} s"
    )

    tiled = inputs.features.iloc[np.resize(np.arange(len(inputs.bad)), args.rows)]
    frame = tiled.reset_index(drop=True)
    matrix = np.ascontiguousarray(frame[gbm.features_].to_numpy(dtype="float64"))
    print(
        f"{args.rows:,} rows x {frame.shape[1]} features, {THREADS} threads, "
        f"best of {args.repeats}, load average {os.getloadavg()[0]:.1f}\n"
    )

    report(
        "scorecard predict_proba",
        best_rate(lambda: scorecard.predict_proba(frame), args.rows, args.repeats),
        SCORECARD_TARGET,
    )
    report("scorecard score", best_rate(lambda: scorecard.score(frame), args.rows, args.repeats), SCORECARD_TARGET)
    same = np.allclose(lookup_log_odds(scorecard, frame), scorecard.raw_log_odds(frame))
    report(
        f"scorecard numpy lookup (prototype; equal: {same})",
        best_rate(lambda: lookup_log_odds(scorecard, frame), args.rows, args.repeats),
        SCORECARD_TARGET,
    )
    report("gbm predict_proba", best_rate(lambda: gbm.predict_proba(frame), args.rows, args.repeats), GBM_TARGET)
    report("gbm score", best_rate(lambda: gbm.score(frame), args.rows, args.repeats), GBM_TARGET)
    report(
        "LightGBM Booster.predict (raw, float64 matrix)",
        best_rate(
            lambda: gbm.booster_.predict(
                matrix, raw_score=True, num_iteration=gbm.booster_.best_iteration, num_threads=THREADS
            ),
            args.rows,
            args.repeats,
        ),
        GBM_TARGET,
    )
    # Smaller steps: the same early stopping keeps many more trees, each one scored.
    started = time.perf_counter()
    slow = GradientBoostedModel(monotone=monotone, learning_rate=SLOW_LEARNING_RATE)
    slow.fit(inputs.features, inputs.bad)
    fitted_s = time.perf_counter() - started
    report(
        f"gbm learning_rate={SLOW_LEARNING_RATE} ({slow.n_trees} trees, fit {fitted_s:.0f} s)",
        best_rate(lambda: slow.predict_proba(frame), args.rows, args.repeats),
        GBM_TARGET,
    )
    if args.compiled:
        compiled_rates(gbm, matrix, args.rows, args.repeats)
    if args.profile:
        profile("scorecard predict_proba", lambda: scorecard.predict_proba(frame))
        profile("gbm predict_proba", lambda: gbm.predict_proba(frame))
    print(f"\nload average at the end {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
