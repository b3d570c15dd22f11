"""Decisions the service asks for: through :func:`linewise.review.account.decide_account`, presented.

:func:`decide_now` is a decision asked for (its refusals are the request's);
:func:`follow_up` is the decision an event calls for after it was posted, whose
failure is told beside the event and never undoes it.
"""

from __future__ import annotations

import logging

from sqlalchemy.exc import OperationalError

from linewise.errors import DatabaseUnreachableError, LinewiseError
from linewise.explain.formatting import Language
from linewise.ledger.model import LineState
from linewise.review.account import could_be_due, decide_account
from linewise.service.deps import Services
from linewise.service.errors import error_out
from linewise.service.schemas.decisions import DecideOut, FollowUpOut
from linewise.service.views import decision_out

__all__ = ["decide_now", "follow_up"]

logger = logging.getLogger(__name__)


def decide_now(
    services: Services,
    account_id: str,
    *,
    trigger: str,
    apply: bool,
    lang: Language,
    analyst: bool,
    recourse: bool = True,
) -> DecideOut:
    """Decide the line as of today, log it, apply it when asked; the decision as the caller may see it."""
    made = decide_account(
        services.engine,
        account_id,
        services.decider,
        as_of=services.today(),
        trigger=trigger,
        apply=apply,
        language=lang,
        recourse=recourse,
    )
    if made.stored is None:
        return DecideOut(due=False)
    view = decision_out(made.stored, lang, analyst=analyst, strategy=services.decider.strategy, outcome=made.outcome)
    return DecideOut(due=True, decision=view)


def follow_up(
    services: Services,
    account_id: str,
    *,
    trigger: str,
    lang: Language,
    analyst: bool,
    duplicate: bool,
    state: LineState | None = None,
) -> FollowUpOut:
    """The decision ``trigger`` calls for on the line after an event, applied; a failure is told, not raised.

    A retried event (``duplicate``) asks for none: its decision was asked for when it
    was first posted. With the line's ``state`` after the event, a line the trigger
    certainly does not call for is answered not due without reading the book.
    """
    if duplicate:
        return FollowUpOut(asked=False, due=False)
    if state is not None and not could_be_due(trigger, state, services.today()):
        return FollowUpOut(asked=True, due=False)
    try:
        made = decide_now(services, account_id, trigger=trigger, apply=True, lang=lang, analyst=analyst)
    except LinewiseError as exc:
        logger.warning("%s decision on %s failed: %s [%s]", trigger, account_id, exc, exc.code)
        return FollowUpOut(asked=True, due=False, error=error_out(exc))
    except OperationalError as exc:
        logger.error("%s decision on %s lost the database: %s", trigger, account_id, exc)
        lost = DatabaseUnreachableError("database", "lost mid-request")
        return FollowUpOut(asked=True, due=False, error=error_out(lost))
    return FollowUpOut(asked=True, due=made.due, decision=made.decision)
