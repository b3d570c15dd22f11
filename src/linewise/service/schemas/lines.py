"""Lines: opening one, drawing, repaying, limits and statuses by hand, statements and events."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from linewise.ledger.model import LineStatus
from linewise.service.schemas.common import (
    REASON_PATTERN,
    CurrencyText,
    DateText,
    IdText,
    In,
    MinorUnits,
    Out,
    PageOut,
    PositiveMinorUnits,
    ReasonNote,
    ReasonText,
)
from linewise.service.schemas.decisions import FollowUpOut

__all__ = [
    "CreditReportOut",
    "DrawdownIn",
    "EventOut",
    "EventsPageOut",
    "LimitIn",
    "LineOpenIn",
    "LineOut",
    "PostingOut",
    "RepaymentIn",
    "RepaymentOut",
    "StatementOut",
    "StatusIn",
]


class LineOpenIn(In):
    """A new line (admin)."""

    account_id: IdText = Field(examples=["A1"])
    customer_id: IdText = Field(examples=["C1"])
    credit_limit: MinorUnits
    currency: CurrencyText = "CNY"
    on: DateText | None = Field(None, description="The day it opened (YYYY-MM-DD); today when left out.")


class DrawdownIn(In):
    """Money drawn against the line."""

    amount: PositiveMinorUnits
    term_months: int = Field(strict=True, ge=1, le=600, description="Months; the product says which it offers.")
    method: str = Field("equal_instalment", max_length=32)
    purpose: str = Field("daily_consumption", max_length=64, json_schema_extra={"pattern": REASON_PATTERN})
    on: DateText | None = None


class RepaymentIn(In):
    """A repayment: penalty, then interest, then principal, oldest due first."""

    amount: PositiveMinorUnits
    on: DateText | None = None


class LimitIn(In):
    """A limit set by hand (admin), with the reason code the ledger keeps and a note for the audit log."""

    credit_limit: MinorUnits
    reason: ReasonText = Field(examples=["manual_review"])
    note: ReasonNote = ""
    on: DateText | None = None


class StatusIn(In):
    """A status set by hand (admin): frozen, active again, or closed."""

    status: LineStatus
    reason: ReasonText = Field(examples=["manual_freeze"])
    note: ReasonNote = ""
    on: DateText | None = None


class PostingOut(Out):
    """What posting an event did (the same on a retry with its key: then ``duplicate``)."""

    account_id: str
    kind: str
    idempotency_key: str
    occurred_on: str
    currency: str
    credit_limit: int
    status: str
    principal_outstanding: int
    available_credit: int
    duplicate: bool
    drawdown_seq: int | None = None
    first_due_on: str | None = None
    first_instalment: int | None = None
    allocated: dict[str, int] | None = Field(None, description="penalty, interest, principal")
    previous_credit_limit: int | None = None
    previous_status: str | None = None


class RepaymentOut(PostingOut):
    """A repayment posted, and the decision it called for on the line."""

    follow_up: FollowUpOut


class LineOut(Out):
    """A line now."""

    account_id: str
    customer_id: str
    currency: str
    credit_limit: int
    status: str
    opened_on: str
    principal_outstanding: int
    available_credit: int
    drawdowns: int
    dpd: int


class InstalmentOut(Out):
    """One instalment of a drawdown's schedule."""

    number: int
    due_on: str
    principal_due: int
    interest_due: int
    principal_paid: int
    interest_paid: int
    penalty_accrued: int
    penalty_paid: int
    settled_on: str | None
    on_time: bool | None


class DrawdownOut(Out):
    """A drawdown and its schedule."""

    seq: int
    drawn_on: str
    principal: int
    term_months: int
    method: str
    purpose: str
    instalments: list[InstalmentOut]


class RepaymentLineOut(Out):
    """A repayment on the statement and how it was allocated."""

    on: str
    key: str
    amount: int
    allocated: dict[str, int]


class StatementOut(Out):
    """The line as of a day: schedules, payments, days past due, the payoff."""

    account_id: str
    as_of: str
    currency: str
    credit_limit: int
    status: str
    dpd: int
    bucket: str
    payoff: int
    principal_outstanding: int
    drawdowns: list[DrawdownOut]
    repayments: list[RepaymentLineOut]


class EventOut(Out):
    """A posted event as it was posted."""

    seq: int = Field(description="Its place among the line's events, from 1.")
    kind: str
    occurred_on: str
    idempotency_key: str
    reason_code: str | None
    decision_ref: str | None
    posted_at: str
    payload: dict[str, Any]


class EventsPageOut(PageOut):
    """A page of a line's events, in posting order."""

    account_id: str
    items: list[EventOut]


class CreditReportOut(Out):
    """What the lender reports to the bureau for the line and each of its loans, for a month."""

    account_id: str
    month: str
    records: list[dict[str, Any]]
