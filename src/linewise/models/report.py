"""The readable model report (Markdown): figures, calibration by band, features."""

from __future__ import annotations

from typing import Any

from linewise.models.base import RiskModel
from linewise.models.scorecard import Scorecard

__all__ = ["render_report"]


def _table(header: list[str], rows: list[list[Any]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return lines


def render_report(manifest: dict[str, Any], metrics: dict[str, Any], model: RiskModel) -> str:
    """Markdown describing the model in ``manifest`` with its ``metrics``."""
    cv = metrics["cv"]
    oof = metrics["out_of_fold"]
    lines = [
        f"# Model {manifest['model']}",
        "",
        f"- kind: {manifest['kind']}; trained on {manifest['trained_on']} "
        f"({metrics['n_rows']:,} rows, bad rate {metrics['bad_rate']:.2%})",
        f"- features used: {len(manifest['features'])} of {metrics['n_features_offered']} offered",
        f"- training data SHA-256: `{manifest['training_data_sha256']}`",
        "",
        f"## Cross-validation ({cv['n_folds']} stratified shuffled folds, seed {cv['seed']})",
        "",
        f"ROC AUC {cv['auc_mean']:.4f} ± {cv['auc_std']:.4f}; KS {cv['ks_mean']:.4f} ± {cv['ks_std']:.4f}",
        "",
        *_table(
            ["fold", "AUC", "KS", "PSI train vs test"],
            [[f["fold"], f"{f['auc']:.4f}", f"{f['ks']:.4f}", f"{f['psi_train_vs_test']:.4f}"] for f in cv["folds"]],
        ),
        "",
        "## Out-of-fold, calibrated",
        "",
        f"AUC {oof['auc']:.4f}, KS {oof['ks']:.4f}, Gini {oof['gini']:.4f}, Brier {oof['brier']:.4f}",
        "",
        *_table(
            ["PD band", "accounts", "mean PD", "bad rate"],
            [
                [b["band"], f"{b['accounts']:,}", f"{b['pd_mean']:.4f}", f"{b['bad_rate']:.4f}"]
                for b in oof["calibration_by_band"]
            ],
        ),
        "",
        "## Information value per feature",
        "",
        *_table(
            ["feature", "IV", "used"],
            [
                [name, f"{iv:.4f}", "yes" if name in manifest["features"] else ""]
                for name, iv in sorted(metrics["information_value"].items(), key=lambda item: -item[1])
            ],
        ),
        "",
    ]
    if isinstance(model, Scorecard):
        rows = model.table_.rows()
        lines += ["## Scorecard", "", *_table(["feature", "bin", "points"], rows.to_numpy().tolist()), ""]
    return "\n".join(lines)
