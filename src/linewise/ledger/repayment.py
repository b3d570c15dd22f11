"""Repayments: penalty accrual, payoff, and how a payment is allocated.

Allocation (written down once):

1. penalty interest is booked to the payment date on overdue principal of every
   instalment not paid within its grace days;
2. the payment settles what is due, across all drawdowns, oldest due date first:
   all penalty, then all interest, then all principal;
3. money left over that covers the payoff of the whole line (principal outstanding
   plus interest accrued to the payment date, never more than a period's scheduled
   interest) pays everything off and cancels the later instalments; otherwise it
   pays the upcoming instalments in advance, in due-date order, and what remains
   prepays principal, oldest drawdown first: that drawdown's later instalments are
   recomputed to shorten the term or lower the instalment, as its terms say;
4. a payment larger than everything owed is refused: balances never go negative.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta
from decimal import Decimal

from linewise.calendar import add_months, year_fraction
from linewise.errors import LedgerRejected
from linewise.ledger.events import RepaymentPosted
from linewise.ledger.model import Drawdown, Instalment, LineState
from linewise.ledger.product import Prepayment
from linewise.ledger.schedule import (
    Method,
    amortise,
    amortise_with_level_payment,
    monthly_rate,
)
from linewise.money import format_amount, round_minor

__all__ = [
    "Allocation",
    "accrue_penalties",
    "allocate_repayment",
    "due_amount",
    "new_instalment",
    "payoff_amount",
]

PENALTY, INTEREST, PRINCIPAL = "penalty", "interest", "principal"


@dataclass(frozen=True, slots=True)
class Allocation:
    """A part of a repayment applied to one component of one instalment."""

    event_key: str
    drawdown_seq: int
    instalment_number: int
    component: str
    amount: int
    posted_on: date


def new_instalment(number: int, due_on: date, principal: int, interest: int) -> Instalment:
    """A scheduled instalment; one with nothing to pay is settled from the start."""
    settled_on = due_on if principal + interest == 0 else None
    return Instalment(number, due_on, principal, interest, settled_on=settled_on)


def accrue_penalties(state: LineState, as_of: date) -> LineState:
    """Book penalty interest up to ``as_of`` on principal overdue past its grace days."""
    drawdowns = tuple(_accrue_drawdown(d, as_of) for d in state.drawdowns)
    return replace(state, drawdowns=drawdowns)


def _accrue_drawdown(drawdown: Drawdown, as_of: date) -> Drawdown:
    changed = False
    out: list[Instalment] = []
    grace = timedelta(days=drawdown.terms.grace_days)
    for inst in drawdown.instalments:
        unpaid = inst.principal_due - inst.principal_paid
        if unpaid > 0 and as_of > inst.due_on + grace:
            start = inst.penalty_accrued_to or inst.due_on
            if as_of > start:
                fraction = year_fraction(start, as_of, drawdown.terms.day_count)
                add = round_minor(Decimal(unpaid) * drawdown.terms.penalty_rate * fraction)
                inst = replace(inst, penalty_accrued=inst.penalty_accrued + add, penalty_accrued_to=as_of)
                changed = True
        out.append(inst)
    return replace(drawdown, instalments=tuple(out)) if changed else drawdown


# --- payoff ---------------------------------------------------------------------


def _current_index(drawdown: Drawdown, as_of: date) -> int | None:
    for index, inst in enumerate(drawdown.instalments):
        if inst.due_on > as_of:
            return index
    return None


def _payoff_interest(drawdown: Drawdown, index: int, as_of: date) -> int:
    """Interest the current period has earned by ``as_of``, never above its scheduled interest."""
    current = drawdown.instalments[index]
    start = drawdown.instalments[index - 1].due_on if index > 0 else drawdown.drawn_on
    principal = sum(i.principal_due - i.principal_paid for i in drawdown.instalments[index:])
    fraction = year_fraction(start, as_of, drawdown.terms.day_count)
    accrued = round_minor(Decimal(principal) * drawdown.terms.annual_rate * fraction)
    return min(accrued, current.interest_due)


def _future_payoff(drawdown: Drawdown, as_of: date) -> int:
    index = _current_index(drawdown, as_of)
    if index is None:
        return 0
    later = drawdown.instalments[index:]
    principal = sum(i.principal_due - i.principal_paid for i in later)
    if principal == 0:
        return 0
    interest = _payoff_interest(drawdown, index, as_of)
    return principal + max(0, interest - later[0].interest_paid)


def due_amount(state: LineState, as_of: date) -> int:
    """What is due on ``as_of``: unpaid instalments due by then, with penalty to that day."""
    accrued = accrue_penalties(state, as_of)
    return sum(
        inst.outstanding + inst.penalty_outstanding
        for drawdown in accrued.drawdowns
        for inst in drawdown.instalments
        if inst.due_on <= as_of
    )


def payoff_amount(state: LineState, as_of: date) -> int:
    """Everything the customer would pay to clear the line on ``as_of``."""
    accrued = accrue_penalties(state, as_of)
    total = 0
    for drawdown in accrued.drawdowns:
        for inst in drawdown.instalments:
            if inst.due_on <= as_of:
                total += inst.outstanding + inst.penalty_outstanding
            else:
                total += inst.penalty_outstanding
        total += _future_payoff(drawdown, as_of)
    return total


# --- repayment ------------------------------------------------------------------


class _Allocator:
    """Working copy of a line's instalments while one payment is allocated."""

    def __init__(self, state: LineState, event: RepaymentPosted) -> None:
        self.event = event
        self.drawdowns = list(state.drawdowns)
        self.rows = [list(d.instalments) for d in state.drawdowns]
        self.left = event.amount
        self.allocations: list[Allocation] = []

    def pay(self, d: int, i: int, component: str, owed: int) -> None:
        amount = min(self.left, owed)
        if amount <= 0:
            return
        inst = self.rows[d][i]
        if component == PENALTY:
            inst = replace(inst, penalty_paid=inst.penalty_paid + amount)
        elif component == INTEREST:
            inst = replace(inst, interest_paid=inst.interest_paid + amount)
        else:
            inst = replace(inst, principal_paid=inst.principal_paid + amount)
        if inst.settled_on is None and inst.outstanding == 0:
            inst = replace(inst, settled_on=self.event.occurred_on)
        self.rows[d][i] = inst
        self.left -= amount
        self.allocations.append(
            Allocation(
                self.event.idempotency_key,
                self.drawdowns[d].seq,
                inst.number,
                component,
                amount,
                self.event.occurred_on,
            )
        )

    def settle_due(self) -> None:
        on = self.event.occurred_on
        due = sorted(
            (inst.due_on, d, i) for d, rows in enumerate(self.rows) for i, inst in enumerate(rows) if inst.due_on <= on
        )
        for component in (PENALTY, INTEREST, PRINCIPAL):
            for _, d, i in due:
                inst = self.rows[d][i]
                if component == PENALTY:
                    self.pay(d, i, component, inst.penalty_outstanding)
                elif component == INTEREST:
                    self.pay(d, i, component, inst.interest_due - inst.interest_paid)
                else:
                    self.pay(d, i, component, inst.principal_due - inst.principal_paid)

    def prepay(self) -> None:
        on = self.event.occurred_on
        current: list[tuple[date, int, int]] = []
        for d, drawdown in enumerate(self.drawdowns):
            index = _current_index(replace(drawdown, instalments=tuple(self.rows[d])), on)
            if index is not None:
                current.append((self.rows[d][index].due_on, d, index))
        owed = sum(
            _future_payoff(replace(self.drawdowns[d], instalments=tuple(self.rows[d])), on) for _, d, _ in current
        )
        if self.left >= owed:
            for _, d, index in current:
                drawdown = replace(self.drawdowns[d], instalments=tuple(self.rows[d]))
                self._pay_off(d, index, _payoff_interest(drawdown, index, on))
            return
        for _, d, index in sorted(current):
            inst = self.rows[d][index]
            self.pay(d, index, INTEREST, inst.interest_due - inst.interest_paid)
            inst = self.rows[d][index]
            self.pay(d, index, PRINCIPAL, inst.principal_due - inst.principal_paid)
        for _, d, index in sorted(current, key=lambda c: self.drawdowns[c[1]].seq):
            self._prepay_principal(d, index)

    def _pay_off(self, d: int, index: int, interest: int) -> None:
        inst = self.rows[d][index]
        principal = sum(r.principal_due - r.principal_paid for r in self.rows[d][index:])
        if principal == 0:
            return
        self.rows[d][index] = replace(
            inst,
            interest_due=max(inst.interest_paid, interest),
            principal_due=inst.principal_paid + principal,
        )
        del self.rows[d][index + 1 :]
        self.pay(d, index, INTEREST, max(0, interest - inst.interest_paid))
        self.pay(d, index, PRINCIPAL, principal)

    def _prepay_principal(self, d: int, index: int) -> None:
        later = self.rows[d][index + 1 :]
        if self.left <= 0 or not later:
            return
        remaining = sum(r.principal_due for r in later)
        prepaid = min(self.left, remaining)
        inst = self.rows[d][index]
        self.rows[d][index] = replace(inst, principal_due=inst.principal_due + prepaid, settled_on=None)
        self.pay(d, index, PRINCIPAL, prepaid)
        self.rows[d][index + 1 :] = _reschedule(self.drawdowns[d], later, remaining - prepaid)

    def result(self, state: LineState) -> tuple[LineState, tuple[Allocation, ...]]:
        drawdowns = tuple(
            replace(dd, instalments=tuple(rows)) for dd, rows in zip(self.drawdowns, self.rows, strict=True)
        )
        return replace(state, drawdowns=drawdowns), tuple(self.allocations)


def _reschedule(drawdown: Drawdown, later: Sequence[Instalment], balance: int) -> list[Instalment]:
    """Recompute the instalments after a principal prepayment."""
    if balance == 0:
        return []
    rate = monthly_rate(drawdown.terms.annual_rate)
    count = len(later)
    shorten = drawdown.terms.prepayment is Prepayment.SHORTEN_TERM
    if shorten and drawdown.method is Method.EQUAL_INSTALMENT:
        rows = amortise_with_level_payment(balance, rate, later[0].amount_due, max_terms=count)
    elif shorten and drawdown.method is Method.EQUAL_PRINCIPAL:
        step = later[0].principal_due
        terms = min(count, -(-balance // step)) if step > 0 else count
        rows = _fixed_principal(balance, rate, step, terms)
    else:
        rows = amortise(balance, rate, count, drawdown.method)
    first = later[0].number
    return [
        new_instalment(first + k, add_months(drawdown.drawn_on, first + k), part, interest)
        for k, (part, interest) in enumerate(rows)
    ]


def _fixed_principal(balance: int, rate: Decimal, step: int, terms: int) -> list[tuple[int, int]]:
    rows: list[tuple[int, int]] = []
    outstanding = balance
    for number in range(1, terms + 1):
        part = outstanding if number == terms else min(step, outstanding)
        rows.append((part, round_minor(Decimal(outstanding) * rate)))
        outstanding -= part
    return rows


def allocate_repayment(state: LineState, event: RepaymentPosted) -> tuple[LineState, tuple[Allocation, ...]]:
    """The state after ``event``'s payment and how it was allocated.

    Raises :class:`LedgerRejected` for a non-positive amount, a line that owes
    nothing, or an amount above the payoff.
    """
    where, currency = state.line.account_id, state.line.currency
    if event.amount <= 0:
        raise LedgerRejected.for_field(
            "amount_must_be_positive", where=where, field="amount", rule="positive", value=event.amount
        )
    owed = payoff_amount(state, event.occurred_on)
    if owed == 0:
        raise LedgerRejected.for_field(
            "nothing_outstanding",
            where=where,
            field="amount",
            rule="paid only while something is owed",
            value=format_amount(event.amount, currency),
        )
    if event.amount > owed:
        raise LedgerRejected.for_field(
            "exceeds_amount_outstanding",
            where=where,
            field="amount",
            rule=f"at most the payoff amount {format_amount(owed, currency)}",
            value=format_amount(event.amount, currency),
        )
    allocator = _Allocator(accrue_penalties(state, event.occurred_on), event)
    allocator.settle_due()
    allocator.prepay()
    assert allocator.left == 0, "payoff bound guarantees full allocation"
    return allocator.result(state)
