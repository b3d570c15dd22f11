"""What calls for a decision, and which accounts each trigger calls it for.

A trigger is one entry in :data:`TRIGGERS`: its name (what the decision log and the
strategy's rules see), the help text commands show, and the rule that picks the
accounts due. A new trigger is a new entry here (plus, when the strategy should treat
it apart, a rule in the strategy engine).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

import pandas as pd

from linewise.calendar import add_months, month_end
from linewise.errors import InputError
from linewise.features.events import arrears_cleared, income_verified_in
from linewise.ledger.dpd import dpd_as_of
from linewise.ledger.model import LineState

if TYPE_CHECKING:
    from linewise.review.log import DecisionLog

__all__ = ["TRIGGERS", "DueQuery", "Trigger", "trigger_named"]


@dataclass(frozen=True)
class DueQuery:
    """What a trigger's rule may look at: the accounts decidable as of the date, and the book.

    ``as_of`` is the day decided; ``month`` the month end the panel's last month
    describes (the same day for a portfolio, that month's end for a ledger read
    mid-month, whose last month is the month so far).
    """

    accounts: pd.Index
    panel: pd.DataFrame
    customers: pd.DataFrame
    as_of: date
    log: DecisionLog | None
    cycle_days: int
    month: date | None = None

    @property
    def month_described(self) -> date:
        """The date the panel's events are read as of."""
        return self.as_of if self.month is None else self.month


@dataclass(frozen=True)
class Trigger:
    """One reason to decide: its name, what it means, and which accounts it calls for.

    ``one_account``: the trigger is one customer's act and needs the account named.
    ``counts_requests``: the customer's requests within the strategy's window are
    counted from the decision log (this one included).
    ``could_be_due``: from a line's state alone, whether ``due`` might pick it on a
    day; ``False`` only when it certainly would not. It spares a caller that holds the
    state (the service, right after posting an event) reading the book for nothing.
    """

    name: str
    help: str
    due: Callable[[DueQuery], pd.Index]
    one_account: bool = False
    counts_requests: bool = False
    could_be_due: Callable[[LineState, date], bool] = lambda _state, _as_of: True


def _review_due(query: DueQuery) -> pd.Index:
    if query.cycle_days <= 0:
        return query.accounts
    if query.log is None:
        raise InputError.for_field(
            "log_required",
            where="--cycle-days",
            field="--log",
            rule="on: the review cycle is read from the decision log",
            value=False,
        )
    last = query.log.last_decided_on("review").reindex(query.accounts)
    days = (pd.Timestamp(query.as_of) - last).dt.days
    due: pd.Index = query.accounts[(last.isna() | (days >= query.cycle_days)).to_numpy()]
    return due


def _arrears_cleared(query: DueQuery) -> pd.Index:
    return query.accounts.intersection(arrears_cleared(query.panel, query.month_described))


def _arrears_may_have_cleared(state: LineState, as_of: date) -> bool:
    """What :func:`_arrears_cleared` asks of the panel, read from the line: past due at the last month end, current now."""
    if dpd_as_of(state, as_of) > 0:
        return False
    return dpd_as_of(state, month_end(add_months(as_of, -1))) > 0


def _income_verified(query: DueQuery) -> pd.Index:
    return query.accounts.intersection(income_verified_in(query.customers, query.month_described))


def _nobody(_query: DueQuery) -> pd.Index:
    raise InputError.for_field(
        "account_required",
        where="--trigger request",
        field="--account",
        rule="the account of the customer asking",
        value=None,
    )


TRIGGERS: dict[str, Trigger] = {
    trigger.name: trigger
    for trigger in (
        Trigger(
            "review",
            "the periodic review (with a cycle, only the accounts whose last review is that "
            "many days old or that were never reviewed)",
            _review_due,
        ),
        Trigger(
            "repayment",
            "accounts whose arrears a repayment cleared in the as-of month",
            _arrears_cleared,
            could_be_due=_arrears_may_have_cleared,
        ),
        Trigger("income_proof", "accounts whose income was verified in the as-of month", _income_verified),
        Trigger(
            "request",
            "one customer asking for more (the account is needed)",
            _nobody,
            one_account=True,
            counts_requests=True,
        ),
    )
}


def trigger_named(name: str) -> Trigger:
    """The trigger called ``name``; raises InputError naming the known ones."""
    if name not in TRIGGERS:
        raise InputError.for_field(
            "trigger_unknown", where="--trigger", field="trigger", rule=f"one of {', '.join(TRIGGERS)}", value=name
        )
    return TRIGGERS[name]
