"""The ledger's domain objects: frozen dataclasses, free of any storage framework."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum

from linewise.calendar import DayCount
from linewise.ledger.product import Prepayment, Product
from linewise.ledger.schedule import Method

__all__ = [
    "CreditLine",
    "Drawdown",
    "DrawdownTerms",
    "Instalment",
    "LineState",
    "LineStatus",
]


class LineStatus(StrEnum):
    """Whether a line can be drawn on."""

    ACTIVE = "active"
    FROZEN = "frozen"
    CLOSED = "closed"


@dataclass(frozen=True, slots=True)
class CreditLine:
    """A customer's revolving credit line."""

    account_id: str
    customer_id: str
    currency: str
    credit_limit: int
    status: LineStatus
    opened_on: date


@dataclass(frozen=True, slots=True)
class DrawdownTerms:
    """The product terms a drawdown was made under, kept with it for replay."""

    annual_rate: Decimal
    day_count: DayCount
    grace_days: int
    penalty_rate: Decimal
    prepayment: Prepayment

    @classmethod
    def from_product(cls, product: Product) -> DrawdownTerms:
        """The terms ``product`` offers today, to be kept with a drawdown."""
        return cls(product.annual_rate, product.day_count, product.grace_days, product.penalty_rate, product.prepayment)


@dataclass(frozen=True, slots=True)
class Instalment:
    """One scheduled instalment and what has been paid against it.

    ``penalty_accrued`` is the penalty interest on overdue principal booked up to
    ``penalty_accrued_to``; ``settled_on`` is the day principal and interest were
    paid in full.
    """

    number: int
    due_on: date
    principal_due: int
    interest_due: int
    principal_paid: int = 0
    interest_paid: int = 0
    penalty_accrued: int = 0
    penalty_paid: int = 0
    penalty_accrued_to: date | None = None
    settled_on: date | None = None

    @property
    def amount_due(self) -> int:
        """Principal plus interest due."""
        return self.principal_due + self.interest_due

    @property
    def outstanding(self) -> int:
        """Principal and interest not yet paid (penalty excluded)."""
        return self.amount_due - self.principal_paid - self.interest_paid

    @property
    def penalty_outstanding(self) -> int:
        """Penalty booked and not yet paid."""
        return self.penalty_accrued - self.penalty_paid


@dataclass(frozen=True, slots=True)
class Drawdown:
    """Money drawn against a line, with its repayment schedule."""

    seq: int
    drawn_on: date
    principal: int
    term_months: int
    method: Method
    purpose: str
    terms: DrawdownTerms
    instalments: tuple[Instalment, ...]

    @property
    def principal_outstanding(self) -> int:
        """Principal drawn and not yet repaid."""
        return sum(i.principal_due - i.principal_paid for i in self.instalments)


@dataclass(frozen=True, slots=True)
class LineState:
    """Everything the ledger knows about one line after its posted events."""

    line: CreditLine
    drawdowns: tuple[Drawdown, ...] = ()
    last_event_on: date | None = None

    @property
    def principal_outstanding(self) -> int:
        """Principal outstanding over every drawdown."""
        return sum(d.principal_outstanding for d in self.drawdowns)

    @property
    def available_credit(self) -> int:
        """Limit less outstanding principal, never below zero."""
        return max(0, self.line.credit_limit - self.principal_outstanding)
