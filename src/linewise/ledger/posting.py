"""Pure posting: ``apply(state, event)`` gives the new state, or raises LedgerRejected.

Repayments are allocated as :mod:`linewise.ledger.repayment` describes.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date

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
    LineState,
    LineStatus,
)
from linewise.ledger.repayment import (
    Allocation,
    accrue_penalties,
    allocate_repayment,
    due_amount,
    new_instalment,
    payoff_amount,
)
from linewise.ledger.schedule import build_schedule
from linewise.money import currency_exponent, format_amount

# Allocation, accrue_penalties, due_amount and payoff_amount are re-exported from
# repayment so that callers have one place to import posting from.
__all__ = [
    "Allocation",
    "Posted",
    "accrue_penalties",
    "apply",
    "due_amount",
    "payoff_amount",
    "replay",
]


@dataclass(frozen=True, slots=True)
class Posted:
    """The state after an event, and how a repayment was allocated."""

    state: LineState
    allocations: tuple[Allocation, ...] = ()


# Why a line that is not active refuses a drawdown, by its status.
_NOT_ACTIVE = {LineStatus.FROZEN: "line_frozen", LineStatus.CLOSED: "line_closed"}


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
    if event.occurred_on < state.line.opened_on:
        raise _reject(
            "occurred_on_before_line_opened",
            event.account_id,
            "occurred_on",
            f"on or after the day the line opened, {state.line.opened_on}",
            event.occurred_on.isoformat(),
        )
    if state.last_event_on is not None and event.occurred_on < state.last_event_on:
        raise _reject(
            "occurred_on_before_last_event",
            event.account_id,
            "occurred_on",
            f"on or after the account's last event {state.last_event_on}",
            event.occurred_on.isoformat(),
        )
    posted = _dispatch(state, event)
    return Posted(replace(posted.state, last_event_on=event.occurred_on), posted.allocations)


def _dispatch(state: LineState, event: Event) -> Posted:
    if isinstance(event, DrawdownPosted):
        return Posted(_draw(state, event))
    if isinstance(event, RepaymentPosted):
        return Posted(*allocate_repayment(state, event))
    if isinstance(event, LimitChanged):
        return Posted(_change_limit(state, event))
    if isinstance(event, StatusChanged):
        return Posted(_change_status(state, event))
    if isinstance(event, Reversal):
        raise _reject("reversal_needs_history", event.account_id, "event", "posted through replay()", event.kind)
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
        raise _reject("limit_must_not_be_negative", where, "limit", "zero or positive", event.credit_limit)
    line = CreditLine(
        event.account_id, event.customer_id, event.currency, event.credit_limit, LineStatus.ACTIVE, event.occurred_on
    )
    return LineState(line=line, last_event_on=event.occurred_on)


def _money(state: LineState, amount: int) -> str:
    return format_amount(amount, state.line.currency)


def _draw(state: LineState, event: DrawdownPosted) -> LineState:
    where = state.line.account_id
    if state.line.status is not LineStatus.ACTIVE:
        raise _reject(_NOT_ACTIVE[state.line.status], where, "line status", "active", state.line.status.value)
    if event.amount <= 0:
        raise _reject("amount_must_be_positive", where, "amount", "positive", event.amount)
    if event.term_months < 1:
        raise _reject("term_must_be_positive", where, "term", "at least 1 month", event.term_months)
    dpd = dpd_as_of(state, event.occurred_on)
    if dpd > 0:
        raise _reject("account_past_due", where, "days past due", "0 to draw", dpd)
    if event.amount > state.available_credit:
        raise _reject(
            "exceeds_available_limit",
            where,
            "amount",
            f"at most the available credit {_money(state, state.available_credit)}",
            _money(state, event.amount),
        )
    schedule = build_schedule(event.amount, event.terms.annual_rate, event.term_months, event.method, event.occurred_on)
    drawdown = Drawdown(
        seq=len(state.drawdowns) + 1,
        drawn_on=event.occurred_on,
        principal=event.amount,
        term_months=event.term_months,
        method=event.method,
        purpose=event.purpose,
        terms=event.terms,
        instalments=tuple(new_instalment(s.number, s.due_on, s.principal, s.interest) for s in schedule),
    )
    return replace(state, drawdowns=(*state.drawdowns, drawdown))


def _change_limit(state: LineState, event: LimitChanged) -> LineState:
    where = state.line.account_id
    if state.line.status is LineStatus.CLOSED:
        raise _reject("line_closed", where, "line status", "active or frozen", "closed")
    if event.new_limit < 0:
        raise _reject("limit_must_not_be_negative", where, "limit", "zero or positive", event.new_limit)
    if event.new_limit == state.line.credit_limit:
        raise _reject(
            "limit_unchanged",
            where,
            "limit",
            f"different from the current limit {_money(state, event.new_limit)}",
            _money(state, event.new_limit),
        )
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
        raise _reject(
            "status_change_not_allowed",
            where,
            "status",
            f"a valid move from {state.line.status.value}",
            event.new_status.value,
        )
    if event.new_status is LineStatus.CLOSED and state.principal_outstanding > 0:
        raise _reject(
            "balance_outstanding",
            where,
            "outstanding principal",
            "zero to close the line",
            _money(state, state.principal_outstanding),
        )
    return replace(state, line=replace(state.line, status=event.new_status))


# --- replay ---------------------------------------------------------------------


def replay(events: Iterable[Event]) -> Posted:
    """Fold an account's events, in posting order, into its state.

    Reversed events are left out; the allocations returned are those of every
    repayment still in force. Raises :class:`LedgerRejected` when a reversal is
    invalid, or ``reversal_invalidates_later_event`` (naming that later event and
    why it would be refused) when one leaves a later event impossible.
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
        try:
            posted = apply(state, event)
        except LedgerRejected as exc:
            if not reversed_keys:
                raise
            raise _reversal_invalidates(ordered, event, exc) from exc
        state = posted.state
        allocations.extend(posted.allocations)
    if state is None:
        raise UnknownAccountError(ordered[0].account_id if ordered else "")
    last_on = max(e.occurred_on for e in ordered)
    return Posted(replace(state, last_event_on=last_on), tuple(allocations))


def _reversal_invalidates(ordered: Sequence[Event], later: Event, exc: LedgerRejected) -> LedgerRejected:
    """The error of a reversal without whose target ``later`` would be refused with ``exc``."""
    reversal = next(e for e in reversed(ordered) if isinstance(e, Reversal))
    return _reject(
        "reversal_invalidates_later_event",
        later.account_id,
        "target",
        f"an event no later event depends on (without it, {later.kind} {later.idempotency_key!r} "
        f"of {later.occurred_on} would be refused: {exc.code}; reverse that one first)",
        reversal.target_key,
    )


def _check_reversals(events: Sequence[Event]) -> set[str]:
    reversed_keys: set[str] = set()
    seen: dict[str, Event] = {}
    last_on: date | None = None
    for event in events:
        if isinstance(event, Reversal):
            target = seen.get(event.target_key)
            where = event.account_id
            if target is None or isinstance(target, LineOpened | Reversal):
                raise _reject(
                    "reversal_target_not_found",
                    where,
                    "target",
                    "an earlier drawdown, repayment, limit or status event of this account",
                    event.target_key,
                )
            if event.target_key in reversed_keys:
                raise _reject("event_already_reversed", where, "target", "not yet reversed", event.target_key)
            if last_on is not None and event.occurred_on < last_on:
                raise _reject(
                    "occurred_on_before_last_event",
                    where,
                    "occurred_on",
                    f"on or after the account's last event {last_on}",
                    event.occurred_on.isoformat(),
                )
            reversed_keys.add(event.target_key)
        seen[event.idempotency_key] = event
        last_on = event.occurred_on if last_on is None else max(last_on, event.occurred_on)
    return reversed_keys
