"""Repayment schedules for a drawdown, in integer minor units.

Rounding rule (written down once, tested against published examples):

* the monthly rate is the annual rate divided by 12, kept exact as a Decimal;
* each instalment's interest is ``outstanding principal x monthly rate`` rounded
  half up to the minor unit;
* equal instalments (等额本息): the level payment ``P r (1+r)^n / ((1+r)^n - 1)`` is
  rounded half up; each instalment's principal is that payment less its interest;
* equal principal (等额本金): ``P / n`` rounded half up per instalment (``P // n``
  when rounding up would leave the last instalment nothing to repay);
* interest only (先息后本): all principal with the last instalment;
* in every method the **last instalment takes whatever principal remains**, so the
  instalments' principal sums exactly to the amount drawn.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum

from linewise.calendar import add_months
from linewise.money import round_minor

__all__ = [
    "Method",
    "ScheduledInstalment",
    "amortise",
    "amortise_with_level_payment",
    "annualised_cost",
    "build_schedule",
    "level_payment",
    "monthly_rate",
]


class Method(StrEnum):
    """How a drawdown is repaid."""

    EQUAL_INSTALMENT = "equal_instalment"
    EQUAL_PRINCIPAL = "equal_principal"
    INTEREST_ONLY = "interest_only"


@dataclass(frozen=True, slots=True)
class ScheduledInstalment:
    """One line of a schedule: its number, due date, principal and interest."""

    number: int
    due_on: date
    principal: int
    interest: int

    @property
    def amount(self) -> int:
        """Principal plus interest."""
        return self.principal + self.interest


def monthly_rate(annual_rate: Decimal) -> Decimal:
    """The exact monthly rate of an annual nominal rate."""
    return annual_rate / Decimal(12)


def level_payment(principal: int, rate_monthly: Decimal, term_months: int) -> int:
    """The rounded level payment of an equal-instalment loan."""
    if rate_monthly == 0:
        # Rounding up would repay early and shorten the term; the last instalment
        # takes the remainder instead.
        return max(1, principal // term_months)
    growth = (1 + rate_monthly) ** term_months
    return round_minor(Decimal(principal) * rate_monthly * growth / (growth - 1))


def amortise(principal: int, rate_monthly: Decimal, term_months: int, method: Method) -> list[tuple[int, int]]:
    """``(principal, interest)`` per instalment for ``term_months`` instalments."""
    if method is Method.EQUAL_INSTALMENT:
        payment = level_payment(principal, rate_monthly, term_months)
        level = _level(principal, rate_monthly, payment, max_terms=term_months)
        # Rounding the payment up can repay a small loan a period early; the term
        # is a promise, so lower the payment by a fen until the schedule spans it.
        while len(level) < term_months and payment > 1:
            payment -= 1
            level = _level(principal, rate_monthly, payment, max_terms=term_months)
        return level
    rows: list[tuple[int, int]] = []
    outstanding = principal
    step: int = round_minor(Decimal(principal) / term_months)
    if step * (term_months - 1) > principal:
        step = principal // term_months
    for number in range(1, term_months + 1):
        interest = round_minor(Decimal(outstanding) * rate_monthly)
        if number == term_months:
            part = outstanding
        elif method is Method.EQUAL_PRINCIPAL:
            part = step
        else:
            part = 0
        rows.append((part, interest))
        outstanding -= part
    return rows


def amortise_with_level_payment(
    principal: int, rate_monthly: Decimal, payment: int, max_terms: int
) -> list[tuple[int, int]]:
    """Keep a level payment and let the number of instalments shrink (at most ``max_terms``)."""
    return _level(principal, rate_monthly, payment, max_terms=max_terms)


def _level(principal: int, rate_monthly: Decimal, payment: int, *, max_terms: int) -> list[tuple[int, int]]:
    rows: list[tuple[int, int]] = []
    outstanding = principal
    while outstanding > 0:
        interest = round_minor(Decimal(outstanding) * rate_monthly)
        # A payment that only covers the interest repays no principal that month.
        part = max(0, payment - interest)
        if part >= outstanding or len(rows) == max_terms - 1:
            part = outstanding
        rows.append((part, interest))
        outstanding -= part
    return rows


def build_schedule(
    principal: int,
    annual_rate: Decimal,
    term_months: int,
    method: Method,
    drawn_on: date,
) -> tuple[ScheduledInstalment, ...]:
    """The schedule of a drawdown: monthly due dates from ``drawn_on``, clamped to month end."""
    rows = amortise(principal, monthly_rate(annual_rate), term_months, method)
    return tuple(
        ScheduledInstalment(n, add_months(drawn_on, n), part, interest)
        for n, (part, interest) in enumerate(rows, start=1)
    )


def annualised_cost(principal: int, payments: Sequence[int]) -> Decimal:
    """Nominal annual cost (12 x monthly IRR) of lending ``principal`` repaid by ``payments``.

    Solved by bisection to 1e-10 on the monthly rate, in exact Decimal arithmetic.
    """
    low, high = Decimal(0), Decimal(1)

    def npv(rate: Decimal) -> Decimal:
        total = Decimal(-principal)
        factor = Decimal(1)
        for payment in payments:
            factor /= 1 + rate
            total += payment * factor
        return total

    if npv(low) <= 0:
        return Decimal(0)
    for _ in range(60):
        mid = (low + high) / 2
        if npv(mid) > 0:
            low = mid
        else:
            high = mid
        if high - low < Decimal("1e-10"):
            break
    return (low + high) / 2 * 12
