"""Days past due, delinquency buckets and on-time repayment, as of a date."""

from __future__ import annotations

from datetime import date, timedelta

from linewise.ledger.model import Drawdown, Instalment, LineState

__all__ = ["BUCKETS", "bucket_of", "dpd_as_of", "is_instalment_on_time", "settled_by"]

BUCKETS: tuple[str, ...] = ("current", "1-30", "31-60", "61-90", "90+")


def dpd_as_of(state: LineState, as_of: date) -> int:
    """Days past due on ``as_of``: days since the oldest instalment still unpaid was due.

    Counted from the due date itself; grace days waive penalty and lateness, not DPD.
    ``state`` must hold only events up to ``as_of``.
    """
    oldest: date | None = None
    for drawdown in state.drawdowns:
        for instalment in drawdown.instalments:
            if instalment.due_on >= as_of:
                break
            if not settled_by(instalment, as_of) and (oldest is None or instalment.due_on < oldest):
                oldest = instalment.due_on
                break
    return 0 if oldest is None else (as_of - oldest).days


def settled_by(instalment: Instalment, as_of: date) -> bool:
    """Whether ``instalment`` was paid in full on or before ``as_of``."""
    return instalment.settled_on is not None and instalment.settled_on <= as_of


def bucket_of(dpd: int) -> str:
    """The delinquency bucket of a DPD count: current, 1-30, 31-60, 61-90 or 90+."""
    if dpd <= 0:
        return "current"
    if dpd <= 30:
        return "1-30"
    if dpd <= 60:
        return "31-60"
    if dpd <= 90:
        return "61-90"
    return "90+"


def is_instalment_on_time(drawdown: Drawdown, instalment: Instalment, as_of: date) -> bool | None:
    """Whether ``instalment`` was paid in full by its due date plus grace.

    ``None`` while that can not yet be known on ``as_of`` (unpaid, grace not over).
    """
    deadline = instalment.due_on + timedelta(days=drawdown.terms.grace_days)
    if instalment.settled_on is not None and instalment.settled_on <= as_of:
        return instalment.settled_on <= deadline
    if as_of > deadline:
        return False
    return None
