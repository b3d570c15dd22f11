"""The application layer: the decision workflow every caller shares.

Sources give a :class:`Book` (a portfolio directory, the ledger database); triggers
say which accounts are due; :func:`decide_book` decides them in batches and logs the
run through a :class:`DecisionLog`; :mod:`linewise.review.runs` reads logged runs back
(replay, notices, samples). Adapters (CLI, service, batch runners) parse, call one
function here, and present.
"""

from linewise.review.log import DecisionLog, MemoryDecisionLog
from linewise.review.run import (
    Decided,
    Decider,
    ReviewRequest,
    check_fit,
    decide_book,
    summary,
)
from linewise.review.sources import Book, book_from_portfolio
from linewise.review.triggers import TRIGGERS, Trigger, trigger_named

__all__ = [
    "TRIGGERS",
    "Book",
    "Decided",
    "Decider",
    "DecisionLog",
    "MemoryDecisionLog",
    "ReviewRequest",
    "Trigger",
    "book_from_portfolio",
    "check_fit",
    "decide_book",
    "summary",
    "trigger_named",
]
