"""The kinds of risk model linewise trains and loads, declared once.

Training makes a fresh model of a kind by its name; an artefact's manifest names
its kind, and loading builds that kind's class from the artefact (each class reads
and writes its own files: :meth:`~linewise.models.base.RiskModel.artefact_files`,
:meth:`~linewise.models.base.RiskModel.from_artefact`). A new kind is one entry of
:data:`MODEL_KINDS` and its class.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from linewise.errors import InputError
from linewise.models.base import RiskModel
from linewise.models.gbm import GradientBoostedModel
from linewise.models.scorecard import Scorecard

__all__ = ["MODEL_KINDS", "ModelKind", "model_kind"]

# A fresh, unfitted model from the settings training offers for every kind:
# (monotone directions, special codes, random state).
Maker = Callable[[Mapping[str, int] | None, Sequence[float], int], RiskModel]


@dataclass(frozen=True)
class ModelKind:
    """A kind of model: its name (as manifests write it), its class and how training makes one."""

    name: str
    model: type[RiskModel]
    make: Maker


def _scorecard(monotone: Mapping[str, int] | None, special_codes: Sequence[float], random_state: int) -> RiskModel:
    return Scorecard(monotone=monotone, special_codes=special_codes, random_state=random_state)


def _gbm(
    monotone: Mapping[str, int] | None,
    special_codes: Sequence[float],  # noqa: ARG001 - trees need no special codes
    random_state: int,
) -> RiskModel:
    return GradientBoostedModel(monotone=monotone, random_state=random_state)


MODEL_KINDS: dict[str, ModelKind] = {
    kind.name: kind
    for kind in (
        ModelKind(Scorecard.kind, Scorecard, _scorecard),
        ModelKind(GradientBoostedModel.kind, GradientBoostedModel, _gbm),
    )
}


def model_kind(name: object, *, where: str) -> ModelKind:
    """The kind called ``name``; ``model_kind_unknown`` naming ``where`` and the known kinds otherwise."""
    kind = MODEL_KINDS.get(name) if isinstance(name, str) else None
    if kind is None:
        raise InputError.for_field(
            "model_kind_unknown", where=where, field="kind", rule=f"one of {list(MODEL_KINDS)}", value=name
        )
    return kind
