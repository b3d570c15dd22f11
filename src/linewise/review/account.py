"""One line decided from the ledger now: the door the CLI's ``decide`` and the service share."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import Engine

from linewise.explain.formatting import Language
from linewise.ledger.decisions import Applied, Refused
from linewise.ledger.model import LineState
from linewise.ledger.store.decision_log import SqlDecisionLog, StoredRun
from linewise.review.apply import apply_decided
from linewise.review.log import DecisionLog
from linewise.review.run import Decided, Decider, ReviewRequest, decide_book
from linewise.review.runs import Notice, notice_of
from linewise.review.sources import book_from_ledger
from linewise.review.triggers import trigger_named

__all__ = ["AccountDecision", "could_be_due", "decide_account"]


@dataclass(frozen=True)
class AccountDecision:
    """A logged decision on one line, its notice, and what applying it did (``None``: not applied).

    ``notice`` and ``stored`` (the decision as the log holds it) are ``None`` when the
    trigger did not call for a decision on the line (a repayment trigger on a line that
    was not in arrears): nothing was decided or logged.
    """

    decided: Decided
    notice: Notice | None
    outcome: Applied | Refused | None
    stored: StoredRun | None = None

    @property
    def due(self) -> bool:
        """Whether the trigger called for a decision on the line."""
        return self.notice is not None


def decide_account(
    store: Engine,
    account_id: str,
    decider: Decider,
    *,
    as_of: date,
    trigger: str = "review",
    apply: bool = False,
    language: Language = "zh",
    recourse: bool = True,
    log: DecisionLog | None = None,
) -> AccountDecision:
    """Decide ``account_id`` from the ledger as of ``as_of``, log it, and apply it when asked.

    Raises UnknownAccountError for a line the ledger does not hold, InputError for a
    trigger that does not exist or a model and strategy that do not fit the book. The
    decision goes to ``log`` (default: the store's own decision log).
    """
    log = log or SqlDecisionLog(store)
    book = book_from_ledger(store, as_of, account_id)
    decided = decide_book(book, decider, ReviewRequest(trigger=trigger, account=account_id, recourse=recourse), log=log)
    if decided.run_id is None:
        return AccountDecision(decided, None, None)
    outcome = apply_decided(store, decided)[0] if apply else None
    stored = log.load_run(decided.run_id)
    notice = notice_of(stored, 0, language, strategy=decider.strategy)
    return AccountDecision(decided, notice, outcome, stored)


def could_be_due(trigger: str, state: LineState, as_of: date) -> bool:
    """Whether ``trigger`` might call for a decision on the line in ``state`` on ``as_of``.

    ``False`` only when :func:`decide_account` would certainly find the line not due,
    so a caller holding the line's state (just posted) may skip asking. Raises
    InputError for a trigger that does not exist.
    """
    return trigger_named(trigger).could_be_due(state, as_of)
