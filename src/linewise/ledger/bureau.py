"""What the lender reports to the credit bureau each month: one record per loan, one for the line.

Pure: one account's events in, records out. The records are the customer's
credit-report view and, one per line of a file, the bureau's monthly reporting file
(:mod:`linewise.ledger.bureau_file`).

How a line is reported (written down once)
------------------------------------------
Every drawdown is a **loan** of its own, with its amount, term and schedule, as the
PBOC credit reference centre reports each loan drawn under a revolving facility
(循环额度下分账户) and Metro 2 an instalment account. The line itself is reported too,
as a **line** record: a revolving account with its credit limit, whose balance is the
sum of its loans' (PBOC's credit agreement with its limit, Metro 2's revolving
account). A bureau needs the limit to see how much of it is used; a loan record alone
does not carry it.

Each record is as of the reporting month's end and as the ledger knows the account
then: its events up to that day, a reversed event left out (as the ledger replays
them). Amounts are integer minor units: ``balance`` is the principal outstanding (the
panel's balance); ``amount_past_due`` the principal and interest of instalments due
before the month end and not paid by it (penalty excluded, as the panel's
``amount_due`` excludes it); ``scheduled_payment`` and ``actual_payment`` what fell
due in the month and what was paid in it (penalty included, as the panel's
``amount_paid``).

The repayment history
---------------------
:data:`HISTORY_MONTHS` characters, **oldest month first, the reporting month last**,
so it reads left to right as time passes (``//NN1N``: drawn four months ago, a
month late two months ago). Each is the record's standing at that month end:

- ``/`` not yet open (a loan drawn, a line opened, after that month end);
- ``N`` open and not past due;
- ``1``-``7`` past due, in months: 1 for 1-30 days past due, 2 for 31-60, ... 7 for
  181 or more (:func:`months_late`), from the ledger's own days past due
  (:func:`~linewise.ledger.dpd.dpd_as_of`) of the loan's instalments;
- ``C`` paid off (a loan: every instalment settled) or closed (a line).

The ledger has no write-off: a loan not repaid stays past due, at 7 from its
seventh month on.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date
from enum import StrEnum

from linewise.calendar import add_months, month_end
from linewise.ledger.dpd import dpd_as_of, settled_by
from linewise.ledger.events import Event, Reversal
from linewise.ledger.model import Drawdown, LineState, LineStatus
from linewise.ledger.posting import Allocation, apply

__all__ = [
    "HISTORY_MONTHS",
    "MONTHS_LATE_MAX",
    "BureauRecord",
    "RecordType",
    "ReportStatus",
    "account_records",
    "history_month_ends",
    "is_reported",
    "loan_ref",
    "months_late",
]

# Months in a repayment history: the 24 a PBOC report and a Metro 2 record show.
HISTORY_MONTHS = 24
# Lateness is told in months up to this; PBOC's 7 is "180 days or more".
MONTHS_LATE_MAX = 7
DAYS_PER_MONTH_LATE = 30

NOT_OPEN, ON_TIME, CLOSED = "/", "N", "C"


class RecordType(StrEnum):
    """What a record reports: the revolving line, or one loan drawn on it."""

    LINE = "line"
    LOAN = "loan"


class ReportStatus(StrEnum):
    """A record's standing at the month end.

    ``current`` open and not past due; ``past_due`` open with an instalment unpaid after
    its due date (``months_late`` says how long); ``paid_off`` a loan whose every
    instalment is settled; ``closed`` a line closed.
    """

    CURRENT = "current"
    PAST_DUE = "past_due"
    PAID_OFF = "paid_off"
    CLOSED = "closed"


@dataclass(frozen=True, slots=True)
class BureauRecord:
    """One line of the bureau file: a line or a loan as of a month end.

    Fields that do not apply to a record type are ``None`` (a line has no term, a loan
    no credit limit of its own). :data:`linewise.ledger.bureau_file.FIELDS` describes
    each field for the file's readers.
    """

    month: date
    record_type: RecordType
    record_ref: str
    account_id: str
    loan_seq: int | None
    customer_id: str
    currency: str
    opened_on: date
    credit_limit: int | None
    original_amount: int | None
    term_months: int | None
    matures_on: date | None
    balance: int
    scheduled_payment: int
    actual_payment: int
    amount_past_due: int
    days_past_due: int
    months_late: int
    status: ReportStatus
    closed_on: date | None
    last_payment_on: date | None
    history: str


def months_late(dpd: int) -> int:
    """Days past due told in months: 0 when not past due, 1 for 1-30 days, 2 for 31-60, ... at most 7.

    It refines the ledger's buckets: months 1, 2 and 3 are the buckets 1-30, 31-60 and
    61-90, and 4 to 7 split 90+.
    """
    if dpd <= 0:
        return 0
    return min(MONTHS_LATE_MAX, -(-dpd // DAYS_PER_MONTH_LATE))


def history_month_ends(month: date) -> list[date]:
    """The :data:`HISTORY_MONTHS` month ends a history covers, oldest first, ``month``'s last."""
    first = date(month.year, month.month, 1)
    return [month_end(add_months(first, -back)) for back in range(HISTORY_MONTHS - 1, -1, -1)]


def loan_ref(account_id: str, seq: int) -> str:
    """A loan's reference in the file: its account, ``/`` and its number on the line (``A1/2``).

    ``/`` is not in the alphabet of account ids, so no loan's reference is another
    account's id.
    """
    return f"{account_id}/{seq}"


def is_reported(record: BureauRecord) -> bool:
    """Whether the month's file holds ``record``: it was open at some time in the month.

    A loan is reported from the month it was drawn to the month it was paid off, and a
    line to the month it was closed; the credit-report view shows closed ones too.
    """
    return record.closed_on is None or record.closed_on >= record.month.replace(day=1)


# --- folding the events -----------------------------------------------------------


@dataclass(frozen=True)
class _Folded:
    """The account at each month end of a history, and what is known at the last one."""

    states: list[LineState | None]
    allocations: list[Allocation]
    line_closed_on: date | None


def _fold(events: Sequence[Event], ends: Sequence[date]) -> _Folded:
    """The state after the events up to each of ``ends``, reversed ones left out, as ``replay`` folds them."""
    last = ends[-1]
    known = [e for e in events if e.occurred_on <= last]
    reversed_keys = {e.target_key for e in known if isinstance(e, Reversal)}
    live = [e for e in known if not isinstance(e, Reversal) and e.idempotency_key not in reversed_keys]
    states: list[LineState | None] = []
    allocations: list[Allocation] = []
    state: LineState | None = None
    closed_on: date | None = None
    position = 0
    for end in ends:
        while position < len(live) and live[position].occurred_on <= end:
            event = live[position]
            posted = apply(state, event)
            state = posted.state
            allocations.extend(posted.allocations)
            if closed_on is None and state.line.status is LineStatus.CLOSED:
                closed_on = event.occurred_on
            position += 1
        states.append(state)
    return _Folded(states, allocations, closed_on)


# --- standing at a month end -------------------------------------------------------


def _is_paid_off(drawdown: Drawdown, end: date) -> bool:
    return all(settled_by(i, end) for i in drawdown.instalments)


def _loan_dpd(state: LineState, drawdown: Drawdown, end: date) -> int:
    """The ledger's days past due of one loan: the line's rule applied to this drawdown alone."""
    return dpd_as_of(replace(state, drawdowns=(drawdown,)), end)


def _loan_standing(state: LineState, drawdown: Drawdown, end: date) -> tuple[ReportStatus, int]:
    if _is_paid_off(drawdown, end):
        return ReportStatus.PAID_OFF, 0
    dpd = _loan_dpd(state, drawdown, end)
    return (ReportStatus.PAST_DUE if dpd > 0 else ReportStatus.CURRENT), dpd


def _line_standing(state: LineState, end: date) -> tuple[ReportStatus, int]:
    dpd = dpd_as_of(state, end)
    if state.line.status is LineStatus.CLOSED:
        return ReportStatus.CLOSED, dpd
    return (ReportStatus.PAST_DUE if dpd > 0 else ReportStatus.CURRENT), dpd


def _symbol(status: ReportStatus, dpd: int) -> str:
    if status in (ReportStatus.PAID_OFF, ReportStatus.CLOSED):
        return CLOSED
    late = months_late(dpd)
    return str(late) if late else ON_TIME


def _loan_symbol(state: LineState | None, seq: int, end: date) -> str:
    # Drawdowns are only ever appended, numbered from 1: loan ``seq`` is at ``seq - 1``.
    if state is None or len(state.drawdowns) < seq:
        return NOT_OPEN
    return _symbol(*_loan_standing(state, state.drawdowns[seq - 1], end))


def _line_symbol(state: LineState | None, end: date) -> str:
    if state is None:
        return NOT_OPEN
    return _symbol(*_line_standing(state, end))


# --- the records ------------------------------------------------------------------


def _in_month(day: date, end: date) -> bool:
    return day.year == end.year and day.month == end.month


def _scheduled(drawdown: Drawdown, end: date) -> int:
    return sum(i.amount_due for i in drawdown.instalments if _in_month(i.due_on, end))


def _past_due(drawdown: Drawdown, end: date) -> int:
    return sum(i.outstanding for i in drawdown.instalments if i.due_on < end and not settled_by(i, end))


def _paid(allocations: Sequence[Allocation], end: date) -> tuple[int, date | None]:
    """What ``allocations`` paid in ``end``'s month, and the day of the last of them."""
    in_month = sum(a.amount for a in allocations if _in_month(a.posted_on, end))
    return in_month, max((a.posted_on for a in allocations), default=None)


def _loan_record(state: LineState, drawdown: Drawdown, folded: _Folded, ends: Sequence[date]) -> BureauRecord:
    end = ends[-1]
    line = state.line
    status, dpd = _loan_standing(state, drawdown, end)
    paid, last_paid_on = _paid([a for a in folded.allocations if a.drawdown_seq == drawdown.seq], end)
    closed_on = max(i.settled_on or end for i in drawdown.instalments) if status is ReportStatus.PAID_OFF else None
    return BureauRecord(
        month=end,
        record_type=RecordType.LOAN,
        record_ref=loan_ref(line.account_id, drawdown.seq),
        account_id=line.account_id,
        loan_seq=drawdown.seq,
        customer_id=line.customer_id,
        currency=line.currency,
        opened_on=drawdown.drawn_on,
        credit_limit=None,
        original_amount=drawdown.principal,
        term_months=drawdown.term_months,
        matures_on=drawdown.instalments[-1].due_on,
        balance=drawdown.principal_outstanding,
        scheduled_payment=_scheduled(drawdown, end),
        actual_payment=paid,
        amount_past_due=_past_due(drawdown, end),
        days_past_due=dpd,
        months_late=months_late(dpd),
        status=status,
        closed_on=closed_on,
        last_payment_on=last_paid_on,
        history="".join(_loan_symbol(s, drawdown.seq, e) for s, e in zip(folded.states, ends, strict=True)),
    )


def _line_record(state: LineState, folded: _Folded, ends: Sequence[date]) -> BureauRecord:
    end = ends[-1]
    line = state.line
    status, dpd = _line_standing(state, end)
    paid, last_paid_on = _paid(folded.allocations, end)
    return BureauRecord(
        month=end,
        record_type=RecordType.LINE,
        record_ref=line.account_id,
        account_id=line.account_id,
        loan_seq=None,
        customer_id=line.customer_id,
        currency=line.currency,
        opened_on=line.opened_on,
        credit_limit=line.credit_limit,
        original_amount=None,
        term_months=None,
        matures_on=None,
        balance=state.principal_outstanding,
        scheduled_payment=sum(_scheduled(d, end) for d in state.drawdowns),
        actual_payment=paid,
        amount_past_due=sum(_past_due(d, end) for d in state.drawdowns),
        days_past_due=dpd,
        months_late=months_late(dpd),
        status=status,
        closed_on=folded.line_closed_on,
        last_payment_on=last_paid_on,
        history="".join(_line_symbol(s, e) for s, e in zip(folded.states, ends, strict=True)),
    )


def account_records(events: Sequence[Event], month: date) -> tuple[BureauRecord, ...]:
    """The line's record, then one per loan drawn by the end of ``month``'s month, in drawing order.

    ``events`` are one account's, in posting order, as the store keeps them; those after
    the month end are not read. Every loan drawn by then is there, paid off or not
    (:func:`is_reported` says which the month's file holds). Empty when the line opened
    after the month. The records' history is :data:`HISTORY_MONTHS` long, oldest first.
    """
    ends = history_month_ends(month)
    folded = _fold(events, ends)
    state = folded.states[-1]
    if state is None:
        return ()
    loans = [_loan_record(state, drawdown, folded, ends) for drawdown in state.drawdowns]
    return (_line_record(state, folded, ends), *loans)
