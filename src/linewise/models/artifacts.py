"""Model artefacts: a directory anyone can read without running our code, never a pickle.

::

    manifest.json   id@version, kind, features, calibration, scaling, training-data
                    hash, library versions
    scorecard.json  the scorecard table (scorecard)   |  model.txt  LightGBM's model text (gbm)
    scorecard.csv   the same table for a spreadsheet  |
    metrics.json    cross-validated figures, calibration by band, information values
    report.md       the same, for people

The version is the first 12 hex digits of the SHA-256 of the model file and the
calibration: the same model always has the same version.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from importlib import metadata
from pathlib import Path
from typing import Any

from lightgbm.basic import LightGBMError

from linewise.errors import InputError
from linewise.models.base import PointsScaling, RiskModel
from linewise.models.calibration import Calibration
from linewise.models.kinds import MODEL_KINDS, model_kind
from linewise.models.report import render_report
from linewise.textfiles import read_json, read_text

__all__ = ["MANIFEST_FILE", "load_model", "save_model"]

MANIFEST_FILE = "manifest.json"
# A scorecard of a few hundred features is well under this.
_MAX_MODEL_FILE_BYTES = 50_000_000
_LIBRARIES = ("linewise", "lightgbm", "optbinning", "scikit-learn", "numpy", "pandas")


def _dump(payload: Any) -> str:
    return json.dumps(payload, indent=2, ensure_ascii=False, sort_keys=False) + "\n"


def save_model(
    model: RiskModel, metrics: dict[str, Any], out: Path, *, model_id: str, training_data_sha256: str, trained_on: str
) -> dict[str, Any]:
    """Write the artefact directory; returns the manifest.

    ``model`` must be of a kind of :data:`~linewise.models.kinds.MODEL_KINDS`, so
    that :func:`load_model` can read it back.
    """
    kind = MODEL_KINDS.get(model.kind)
    if kind is None or kind.model is not type(model):
        raise TypeError(f"no artefact format for {type(model).__name__}")
    files = model.artefact_files()
    calibration = dataclasses.asdict(model.calibration_)
    digest = hashlib.sha256()
    for name in sorted(files):
        if not name.endswith(".csv"):
            digest.update(files[name].encode())
    digest.update(json.dumps(calibration, sort_keys=True).encode())
    version = digest.hexdigest()[:12]
    manifest: dict[str, Any] = {
        "id": model_id,
        "version": version,
        "model": f"{model_id}@{version}",
        "kind": model.kind,
        "features": list(model.features_),
        "calibration": calibration,
        "scaling": dataclasses.asdict(model.points_scaling),
        "training_data_sha256": training_data_sha256,
        "trained_on": trained_on,
        "files": sorted([*files, "metrics.json", "report.md"]),
        "libraries": {name: metadata.version(name) for name in _LIBRARIES},
    }
    manifest.update(model.artefact_manifest())
    out.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (out / name).write_text(text, encoding="utf-8")
    (out / "metrics.json").write_text(_dump(metrics), encoding="utf-8")
    (out / "report.md").write_text(render_report(manifest, metrics, model), encoding="utf-8")
    (out / MANIFEST_FILE).write_text(_dump(manifest), encoding="utf-8")
    return manifest


def load_model(directory: Path) -> tuple[RiskModel, dict[str, Any]]:
    """The fitted model in ``directory`` and its manifest.

    Raises :class:`InputError`: ``model_not_found`` without a manifest,
    ``model_kind_unknown`` when the manifest names a kind linewise does not know (it is
    never loaded as another), ``model_invalid`` when the files are not as
    :func:`save_model` writes them (read within the bounds of :mod:`linewise.textfiles`).
    """
    path = directory / MANIFEST_FILE
    if not path.is_file():
        raise InputError.for_field(
            "model_not_found",
            where=str(directory),
            field=MANIFEST_FILE,
            rule="present in a model directory (write one with `linewise model train`)",
            value=str(path),
        )
    try:
        return _read_model(directory, read_json(path, max_bytes=_MAX_MODEL_FILE_BYTES))
    except InputError:
        raise
    except (KeyError, TypeError, ValueError, AttributeError, LightGBMError) as exc:  # edited or foreign files
        raise InputError.for_field(
            "model_invalid",
            where=str(directory),
            field="model files",
            rule="as `linewise model train` writes them",
            value=f"{type(exc).__name__}: {exc}",
        ) from None


def _read_model(directory: Path, manifest: Any) -> tuple[RiskModel, dict[str, Any]]:
    kind = model_kind(manifest["kind"], where=str(directory / MANIFEST_FILE))
    model = kind.model.from_artefact(
        _Files(directory),
        manifest,
        calibration=Calibration(**manifest["calibration"]),
        scaling=PointsScaling(**manifest["scaling"]),
    )
    return model, manifest


class _Files:
    """An artefact directory's files, each read within :data:`_MAX_MODEL_FILE_BYTES`."""

    def __init__(self, directory: Path) -> None:
        self._directory = directory

    def text(self, name: str) -> str:
        return read_text(self._directory / name, max_bytes=_MAX_MODEL_FILE_BYTES)

    def json(self, name: str) -> Any:
        return read_json(self._directory / name, max_bytes=_MAX_MODEL_FILE_BYTES)
