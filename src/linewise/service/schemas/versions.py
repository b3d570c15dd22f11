"""Strategy and model versions: what is stored, which is active and in use, a strategy to store, an activation."""

from __future__ import annotations

from pydantic import Field

from linewise.service.schemas.common import ErrorOut, In, Out, PageOut, ReasonNote
from linewise.textfiles import MAX_BYTES

__all__ = ["ActivateIn", "ActivationOut", "StoredOut", "StrategyDiffOut", "StrategyIn", "VersionListOut", "VersionOut"]


class StrategyIn(In):
    """A strategy to store: the YAML text of a strategy file."""

    text: str = Field(
        max_length=MAX_BYTES, description="The strategy file's YAML, checked as `strategy validate` does."
    )


class ActivateIn(In):
    """Why a version is activated, for the record."""

    note: ReasonNote | None = None


class ActivationOut(Out):
    """One activation: from ``activated_at`` on, ``ref`` was the active version of its kind."""

    id: int
    kind: str
    ref: str
    activated_by: str
    activated_at: str
    note: str | None


class StoredOut(Out):
    """A version stored; ``created`` is false when the same version was stored already (nothing written)."""

    kind: str
    ref: str
    sha256: str
    stored_at: str
    stored_by: str | None
    created: bool


class VersionOut(Out):
    """A stored version: its content's hash, its currency, who stored it, and its latest activation."""

    ref: str
    sha256: str
    currency: str | None
    model_kind: str | None = Field(description="A model's kind (scorecard, gbm); null for a strategy.")
    stored_at: str
    stored_by: str | None
    active: bool
    last_activation: ActivationOut | None


class VersionListOut(PageOut):
    """A page of the stored versions of a kind, newest first; the active one, and the one the service uses now.

    ``in_use`` differs from the active ref while nothing of the kind is active (the
    service's file is used) or when the active version could not be loaded
    (``reload_error`` says why; the service keeps what it had).
    """

    kind: str
    active: ActivationOut | None
    in_use: str
    reload_error: ErrorOut | None
    items: list[VersionOut]


class StrategyDiffOut(Out):
    """What changed from the stored strategy ``old`` to ``new``, one sentence a change (as `strategy diff` prints)."""

    old: str
    new: str
    changes: list[str]
