"""What giving every balance and drawing feature a risk direction costs the models in AUC.

"Repaying never hurts" needs a model that is monotone in every feature paying down
moves (issue 11). Three balance features paying down lowers had no direction before:
``utilisation_trend_6m``, ``balance_trend_6m`` and ``balance_mean_6m``; they now
say that a higher value is more risk. (The drawing features ``drawdown_months_6m``
and ``drawn_to_limit_3m`` stay free: repaying does not move them, and directing
them too cost the GBM a further 0.004 AUC.) This script fits both model kinds on
the UCI portfolio's behaviour features with the registry's directions (now) and with
those three left free (before), by the protocol of ``models_vs_anchors.py``
(stratified 5-fold, shuffled, seed 0), and prints the out-of-fold AUC of each.

    .venv/bin/python benchmarks/monotone_directions.py
"""

from __future__ import annotations

import numpy as np
from models_vs_anchors import fold_assignment, linewise_fit, load_sets, run_method
from sklearn.metrics import roc_auc_score

FREED = ("utilisation_trend_6m", "balance_trend_6m", "balance_mean_6m")


def main() -> None:
    features, bad, monotone = load_sets(["portfolio"])["portfolio"]
    fold_of = fold_assignment(bad)
    before = {name: (0 if name in FREED else sign) for name, sign in monotone.items()}
    print("kind       directions                 AUC (mean ± std over folds)   pooled AUC")
    for kind in ("scorecard", "gbm"):
        for label, signs in (("before (3 free)", before), ("now (all directed)", monotone)):
            result = run_method(linewise_fit(kind, signs), features, bad, fold_of, rows=10_000)
            oof = np.asarray(result["oof"])
            per_fold = [roc_auc_score(bad[fold_of == f], oof[fold_of == f]) for f in range(fold_of.max() + 1)]
            print(
                f"{kind:<10} {label:<26} {np.mean(per_fold):.4f} ± {np.std(per_fold):.4f}"
                f"               {roc_auc_score(bad, oof):.4f}"
            )


if __name__ == "__main__":
    main()
