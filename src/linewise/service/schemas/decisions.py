"""Decisions as a customer is told them, as the risk team reads them, and what applying one did."""

from __future__ import annotations

from pydantic import Field

from linewise.review.triggers import TRIGGERS
from linewise.service.schemas.common import ErrorOut, In, Out, PageOut

__all__ = [
    "AnalysisOut",
    "DecideIn",
    "DecideOut",
    "DecisionListOut",
    "DecisionOut",
    "DifferenceOut",
    "FollowUpOut",
    "OutcomeOut",
    "ReplayOut",
]


class AnalysisOut(Out):
    """What the risk team reads and a customer never sees: the model's figures and the features."""

    pd: float | None
    score: float | None
    risk_grade: str
    segment: str
    reason_codes: list[str]
    recourse_codes: list[str]
    analyst_reasons: list[str]
    strategy: str
    model: str
    arm: str
    features: dict[str, float]


class OutcomeOut(Out):
    """What applying a decision did to its line (``refused`` names why it did not)."""

    applied: bool
    decision_ref: str
    refused: str | None = None
    detail: str | None = None
    events: list[str] = Field(default_factory=list)
    limit_before: int | None = None
    limit_after: int | None = None
    status_before: str | None = None
    status_after: str | None = None
    duplicate: bool = False
    kept_frozen_by_hand: bool = False


class DecisionOut(Out):
    """A logged decision as its customer is told it; ``analysis`` for staff only (null for customers)."""

    account_id: str
    run: int
    as_of: str
    trigger: str
    action: str
    current_limit: int
    new_limit: int
    currency: str
    lang: str
    notice: str = Field(description="The whole notice, in lang.")
    reasons: list[str] = Field(description="Each reason as a sentence, in lang.")
    recourse: str | None = Field(description="What would raise the line, in lang (null when it was raised).")
    recourse_limit: int | None
    recourse_on: str | None
    outcome: OutcomeOut | None = Field(None, description="What applying it did; null when it was not applied.")
    analysis: AnalysisOut | None = None


class FollowUpOut(Out):
    """The decision an event called for on a line: made (``decision``), not due, or failed (``error``).

    The event stands whatever happened to the decision: a failed decision is not a
    failed repayment or proof. A retried event (``duplicate``) asks for none: its
    decision was asked for when it was first posted.
    """

    asked: bool
    due: bool
    decision: DecisionOut | None = None
    error: ErrorOut | None = None


class DecideIn(In):
    """Decide a line now (staff)."""

    trigger: str = Field(
        "review",
        max_length=16,
        json_schema_extra={"enum": list(TRIGGERS)},
        description="review, repayment, income_proof or request.",
    )
    apply: bool = Field(False, strict=True, description="Make the decision take effect on the line.")
    recourse: bool = Field(True, strict=True, description="Work out what would raise the line.")


class DecideOut(Out):
    """A decision asked for now: ``due`` False when the trigger called for none on the line."""

    due: bool
    decision: DecisionOut | None = None


class DecisionListOut(PageOut):
    """A page of a line's logged decisions, newest first."""

    account_id: str
    items: list[DecisionOut]


class DifferenceOut(Out):
    """One value the replay decided differently."""

    column: str
    stored: str
    replayed: str


class ReplayOut(Out):
    """A logged decision decided again from what was stored with it."""

    run: int
    account_id: str
    model: str
    strategy: str
    same: bool
    differences: list[DifferenceOut]
