"""The application layer: the decision workflow every caller shares.

Sources give a :class:`Book` (a portfolio directory, the ledger database); triggers
say which accounts are due; :func:`decide_book` decides them in batches and logs the
run through a :class:`DecisionLog`; :mod:`linewise.review.runs` reads logged runs back
(replay, notices, samples) and :mod:`linewise.review.apply` applies decisions to the
ledger's lines. Adapters (CLI, service, batch runners) parse, call one function here,
and present.

The names below are loaded on first use, so that a command's ``--help`` (which reads
only the triggers) does not import the decision core.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
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

_HOMES = {
    "DecisionLog": "log",
    "MemoryDecisionLog": "log",
    "Decided": "run",
    "Decider": "run",
    "ReviewRequest": "run",
    "check_fit": "run",
    "decide_book": "run",
    "summary": "run",
    "Book": "sources",
    "book_from_portfolio": "sources",
    "TRIGGERS": "triggers",
    "Trigger": "triggers",
    "trigger_named": "triggers",
}


def __getattr__(name: str) -> Any:
    if name not in _HOMES:
        raise AttributeError(f"module 'linewise.review' has no attribute {name!r}")
    return getattr(importlib.import_module(f"linewise.review.{_HOMES[name]}"), name)
