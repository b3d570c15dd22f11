"""Pure posting: ``apply(state, event)`` gives the new state, or raises LedgerRejected.

Repayment allocation (written down once):

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

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta
from decimal import Decimal

from linewise.calendar import add_months, year_fraction
from linewise.errors import LedgerRejected, UnknownAccountError
from linewise.ledger.dpd import dpd_as_of
from linewise.ledger.events import (
    DrawdownPosted,
    Event,
    LimitChanged,
    LineOpened,
    RepaymentPosted,
    Reversal,
    StatusChanged,
)
from linewise.ledger.model import (
    CreditLine,
    Drawdown,
    Instalment,
    LineState,
    LineStatus,
)
from linewise.ledger.product import Prepayment
from linewise.ledger.schedule import (
    Method,
    amortise,
    amortise_with_level_payment,
    build_schedule,
    monthly_rate,
)
from linewise.money import currency_exponent, format_amount, round_minor

__all__ = [
    "Allocation",
    "Posted",
    "accrue_penalties",
    "apply",
    "due_amount",
    "payoff_amount",
    "replay",
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


@dataclass(frozen=True, slots=True)
class Posted:
    """The state after an event, and how a repayment was allocated."""

    state: LineState
    allocations: tuple[Allocation, ...] = ()


def _reject(code: str, where: str, field: str, rule: str, value: object) -> LedgerRejected:
    return LedgerRejected.for_field(code, where=where, field=field, rule=rule, value=value)


def apply(state: LineState | None, event: Event) -> Posted:
    """Post ``event`` on ``state`` (``None`` for an account not yet opened).

    Raises :class:`LedgerRejected` (nothing changes) when a ledger rule refuses it.
    Reversals need the account's history: use :func:`replay`.
    """
    if isinstance(event, LineOpened):
        return Posted(_open(state, event))
    if state is None:
        raise UnknownAccountError(event.account_id)
    if state.last_event_on is not None and event.occurred_on < state.last_event_on:
        raise _reject(
            "occurred_on_before_last_event", event.account_id, "occurred_on",
            f"on or after the account's last event {state.last_event_on}",
            event.occurred_on.isoformat(),
        )
    posted = _dispatch(state, event)
    return Posted(replace(posted.state, last_event_on=event.occurred_on), posted.allocations)


def _dispatch(state: LineState, event: Event) -> Posted:
    if isinstance(event, DrawdownPosted):
        return Posted(_draw(state, event))
    if isinstance(event, RepaymentPosted):
        return _repay(state, event)
    if isinstance(event, LimitChanged):
        return Posted(_change_limit(state, event))
    if isinstance(event, StatusChanged):
        return Posted(_change_status(state, event))
    if isinstance(event, Reversal):
        raise _reject("reversal_needs_history", event.account_id, "event",
                      "posted through replay()", event.kind)
    raise TypeError(f"unknown event type {type(event).__name__}")  # programmer error


def _open(state: LineState | None, event: LineOpened) -> LineState:
    where = event.account_id or "account_id"
    if state is not None:
        raise _reject("account_exists", where, "account_id", "new", event.account_id)
    if not event.account_id.strip():
        raise _reject("account_id_required", where, "account_id", "non-empty", event.account_id)
    if not event.customer_id.strip():
        raise _reject("customer_id_required", where, "customer_id", "non-empty", event.customer_id)
    currency_exponent(event.currency)
    if event.credit_limit < 0:
        raise _reject("limit_must_not_be_negative", where, "limit", "zero or positive",
                      event.credit_limit)
    line = CreditLine(event.account_id, event.customer_id, event.currency,
                      event.credit_limit, LineStatus.ACTIVE, event.occurred_on)
    return LineState(line=line, last_event_on=event.occurred_on)


def _money(state: LineState, amount: int) -> str:
    return format_amount(amount, state.line.currency)


def _draw(state: LineState, event: DrawdownPosted) -> LineState:
    where = state.line.account_id
    if state.line.status is not LineStatus.ACTIVE:
        raise _reject(f"line_{state.line.status.value}", where, "line status", "active",
                      state.line.status.value)
    if event.amount <= 0:
        raise _reject("amount_must_be_positive", where, "amount", "positive", event.amount)
    if event.term_months < 1:
        raise _reject("term_must_be_positive", where, "term", "at least 1 month", event.term_months)
    dpd = dpd_as_of(state, event.occurred_on)
    if dpd > 0:
        raise _reject("account_past_due", where, "days past due", "0 to draw", dpd)
    if event.amount > state.available_credit:
        raise _reject("exceeds_available_limit", where, "amount",
                      f"at most the available credit {_money(state, state.available_credit)}",
                      _money(state, event.amount))
    schedule = build_schedule(event.amount, event.terms.annual_rate, event.term_months,
                              event.method, event.occurred_on)
    drawdown = Drawdown(
        seq=len(state.drawdowns) + 1,
        drawn_on=event.occurred_on,
        principal=event.amount,
        term_months=event.term_months,
        method=event.method,
        purpose=event.purpose,
        terms=event.terms,
        instalments=tuple(_instalment(s.number, s.due_on, s.principal, s.interest) for s in schedule),
    )
    return replace(state, drawdowns=(*state.drawdowns, drawdown))


def _instalment(number: int, due_on: date, principal: int, interest: int) -> Instalment:
    # An instalment with nothing to pay (a tiny drawdown at 0%) is settled from the start.
    settled_on = due_on if principal + interest == 0 else None
    return Instalment(number, due_on, principal, interest, settled_on=settled_on)


def _change_limit(state: LineState, event: LimitChanged) -> LineState:
    where = state.line.account_id
    if state.line.status is LineStatus.CLOSED:
        raise _reject("line_closed", where, "line status", "active or frozen", "closed")
    if event.new_limit < 0:
        raise _reject("limit_must_not_be_negative", where, "limit", "zero or positive",
                      event.new_limit)
    if event.new_limit == state.line.credit_limit:
        raise _reject("limit_unchanged", where, "limit",
                      f"different from the current limit {_money(state, event.new_limit)}",
                      _money(state, event.new_limit))
    return replace(state, line=replace(state.line, credit_limit=event.new_limit))


_ALLOWED_STATUS_MOVES = {
    (LineStatus.ACTIVE, LineStatus.FROZEN),
    (LineStatus.FROZEN, LineStatus.ACTIVE),
    (LineStatus.ACTIVE, LineStatus.CLOSED),
    (LineStatus.FROZEN, LineStatus.CLOSED),
}


def _change_status(state: LineState, event: StatusChanged) -> LineState:
    where = state.line.account_id
    move = (state.line.status, event.new_status)
    if move not in _ALLOWED_STATUS_MOVES:
        raise _reject("status_change_not_allowed", where, "status",
                      f"a valid move from {state.line.status.value}", event.new_status.value)
    if event.new_status is LineStatus.CLOSED and state.principal_outstanding > 0:
        raise _reject("balance_outstanding", where, "outstanding principal",
                      "zero to close the line", _money(state, state.principal_outstanding))
    return replace(state, line=replace(state.line, status=event.new_status))


# --- penalties ------------------------------------------------------------------


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
                inst = replace(inst, penalty_accrued=inst.penalty_accrued + add,
                               penalty_accrued_to=as_of)
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
        self.allocations.append(Allocation(
            self.event.idempotency_key, self.drawdowns[d].seq, inst.number, component,
            amount, self.event.occurred_on,
        ))

    def settle_due(self) -> None:
        on = self.event.occurred_on
        due = sorted(
            (inst.due_on, d, i)
            for d, rows in enumerate(self.rows)
            for i, inst in enumerate(rows)
            if inst.due_on <= on
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
        owed = sum(_future_payoff(replace(self.drawdowns[d], instalments=tuple(self.rows[d])), on)
                   for _, d, _ in current)
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
        del self.rows[d][index + 1:]
        self.pay(d, index, INTEREST, max(0, interest - inst.interest_paid))
        self.pay(d, index, PRINCIPAL, principal)

    def _prepay_principal(self, d: int, index: int) -> None:
        later = self.rows[d][index + 1:]
        if self.left <= 0 or not later:
            return
        remaining = sum(r.principal_due for r in later)
        prepaid = min(self.left, remaining)
        inst = self.rows[d][index]
        self.rows[d][index] = replace(inst, principal_due=inst.principal_due + prepaid,
                                      settled_on=None)
        self.pay(d, index, PRINCIPAL, prepaid)
        self.rows[d][index + 1:] = _reschedule(self.drawdowns[d], later, remaining - prepaid)

    def result(self, state: LineState) -> Posted:
        drawdowns = tuple(
            replace(dd, instalments=tuple(rows)) for dd, rows in zip(self.drawdowns, self.rows, strict=True)
        )
        return Posted(replace(state, drawdowns=drawdowns), tuple(self.allocations))


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
        _instalment(first + k, add_months(drawdown.drawn_on, first + k), part, interest)
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


def _repay(state: LineState, event: RepaymentPosted) -> Posted:
    where = state.line.account_id
    if event.amount <= 0:
        raise _reject("amount_must_be_positive", where, "amount", "positive", event.amount)
    owed = payoff_amount(state, event.occurred_on)
    if owed == 0:
        raise _reject("nothing_outstanding", where, "amount", "paid only while something is owed",
                      _money(state, event.amount))
    if event.amount > owed:
        raise _reject("exceeds_amount_outstanding", where, "amount",
                      f"at most the payoff amount {_money(state, owed)}",
                      _money(state, event.amount))
    allocator = _Allocator(accrue_penalties(state, event.occurred_on), event)
    allocator.settle_due()
    allocator.prepay()
    assert allocator.left == 0, "payoff bound guarantees full allocation"
    return allocator.result(state)


# --- replay ---------------------------------------------------------------------


def replay(events: Iterable[Event]) -> Posted:
    """Fold an account's events, in posting order, into its state.

    Reversed events are left out; the allocations returned are those of every
    repayment still in force. Raises :class:`LedgerRejected` when a reversal is
    invalid or leaves a later event impossible.
    """
    ordered = list(events)
    reversed_keys = _check_reversals(ordered)
    state: LineState | None = None
    allocations: list[Allocation] = []
    for event in ordered:
        if isinstance(event, Reversal):
            continue
        if event.idempotency_key in reversed_keys:
            continue
        posted = apply(state, event)
        state = posted.state
        allocations.extend(posted.allocations)
    if state is None:
        raise UnknownAccountError(ordered[0].account_id if ordered else "")
    last_on = max(e.occurred_on for e in ordered)
    return Posted(replace(state, last_event_on=last_on), tuple(allocations))


def _check_reversals(events: Sequence[Event]) -> set[str]:
    reversed_keys: set[str] = set()
    seen: dict[str, Event] = {}
    last_on: date | None = None
    for event in events:
        if isinstance(event, Reversal):
            target = seen.get(event.target_key)
            where = event.account_id
            if target is None or isinstance(target, LineOpened | Reversal):
                raise _reject("reversal_target_not_found", where, "target",
                              "an earlier drawdown, repayment, limit or status event of this account",
                              event.target_key)
            if event.target_key in reversed_keys:
                raise _reject("event_already_reversed", where, "target", "not yet reversed",
                              event.target_key)
            if last_on is not None and event.occurred_on < last_on:
                raise _reject("occurred_on_before_last_event", where, "occurred_on",
                              f"on or after the account's last event {last_on}",
                              event.occurred_on.isoformat())
            reversed_keys.add(event.target_key)
        seen[event.idempotency_key] = event
        last_on = event.occurred_on if last_on is None else max(last_on, event.occurred_on)
    return reversed_keys
