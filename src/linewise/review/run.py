"""The decision workflow every caller shares.

Which accounts are due, their context, the checks, deciding in batches, and logging
the run.

Callers (the ``linewise review`` and ``decide`` commands, the service, the batch
runners, the strategy lab) parse their input, call :func:`decide_book` and present
what it returns; none of them decides anything itself.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pandas as pd

from linewise.decide import BATCH, decide
from linewise.decision_schema import DECISION_COLUMNS
from linewise.errors import InputError
from linewise.features.projection import History, history_from_window, history_records
from linewise.models.base import RiskModel
from linewise.review.log import DecisionLog
from linewise.review.sources import Book, month_described
from linewise.review.triggers import DueQuery, trigger_named
from linewise.strategy.compiled import Strategy
from linewise.strategy.evaluate import Context

__all__ = ["Decided", "Decider", "ReviewRequest", "check_fit", "decide_book", "summary"]


@dataclass(frozen=True)
class Decider:
    """A model and a strategy, with the names their files go by in messages."""

    model: RiskModel
    model_ref: str
    strategy: Strategy
    model_source: str = "model"
    strategy_source: str = "default strategy"
    model_currency: str | None = None


@dataclass(frozen=True)
class ReviewRequest:
    """What to decide: the trigger, one account or all due, the review cycle, recourse, logging."""

    trigger: str = "review"
    account: str | None = None
    cycle_days: int = 0
    recourse: bool = True
    log: bool = True


@dataclass(frozen=True)
class Decided:
    """A run's decisions (the decision contract's columns), what they were made from, and its log id.

    ``decisions`` is empty when no account was due. ``context`` holds, per account,
    the last limit change and the requests counted (and, for a ledger book, the line's
    status and version as read).
    """

    decisions: pd.DataFrame
    features: pd.DataFrame
    context: pd.DataFrame
    book: Book
    trigger: str
    run_id: int | None


def check_fit(book: Book, decider: Decider) -> None:
    """Raise InputError unless the strategy and model are made for the book's currency."""
    strategy_currency = decider.strategy.loaded.spec.currency
    if strategy_currency != book.currency:
        raise InputError.for_field(
            "currency_mismatch",
            where=decider.strategy_source,
            field="currency",
            rule=f"the book's currency {book.currency} ({book.source})",
            value=strategy_currency,
        )
    if decider.model_currency is not None and decider.model_currency != book.currency:
        raise InputError.for_field(
            "currency_mismatch",
            where=decider.model_source,
            field="currency",
            rule=f"the book's currency {book.currency} ({book.source})",
            value=decider.model_currency,
        )


def decide_book(
    book: Book,
    decider: Decider,
    request: ReviewRequest,
    *,
    log: DecisionLog | None,
    on_progress: Callable[[int, int], None] | None = None,
) -> Decided:
    """Decide every account ``request`` calls for in ``book``; logged in ``log`` unless it is None.

    Raises InputError before deciding anything when the strategy or model does not fit
    the book, the trigger is unknown, the account named has no panel row in the month
    decided, or the trigger needs what is missing (an account, the log). ``on_progress``
    is told (done, total) after each batch.
    """
    trigger = trigger_named(request.trigger)
    check_fit(book, decider)
    if request.log and log is None:
        raise InputError.for_field(
            "log_required", where="review", field="log", rule="a decision log when the run is to be logged", value=None
        )
    window = book.window()
    features = book.features(window)
    missing = [name for name in decider.model.features_ if name not in features.columns]
    if missing:
        raise InputError.for_field(
            "model_features_missing",
            where=decider.model_source,
            field="features",
            rule=f"computable from {book.source}",
            value=missing[:5],
        )
    due = _due(features.index, book, trigger.name, request, log)
    if len(due) == 0:
        empty = pd.DataFrame({name: pd.Series(dtype=object) for name in DECISION_COLUMNS})
        return Decided(empty, features.iloc[:0], pd.DataFrame(index=due), book, trigger.name, None)
    if not features.index.equals(due):
        features = features.loc[due]
    context_frame = book.last_limit_change_on(due).to_frame("last_limit_change_on")
    if trigger.counts_requests:
        policy = decider.strategy.policies[str(decider.strategy.assign_arms(due.to_numpy())[0])]
        context_frame["requests_in_window"] = _requests_in_window(log, due, book, policy.request_window_days)
    so_far = month_described(book) != book.as_of
    context = Context(
        as_of=book.as_of,
        trigger=trigger.name,
        last_limit_change_on=context_frame["last_limit_change_on"],
        requests_in_window=context_frame.get("requests_in_window"),
        month_so_far=so_far,
    )
    history = history_from_window(window, book.customers) if request.recourse else None
    decisions = _decide_in_batches(
        features, decider, context, history, recourse=request.recourse, on_progress=on_progress
    )
    if so_far:
        context_frame["month_so_far"] = True
    if book.lines is not None:
        # Each line's row by account, as a left join on the accounts would give it.
        for column in ("status", "version"):
            context_frame[f"line_{column}"] = book.lines[column].reindex(context_frame.index)
    run_id = None
    if request.log and log is not None:
        records = (
            None
            if history is None
            else history_records(history.rows(history.position_of(pd.Index(decisions["account_id"]))))
        )
        run_id = log.save_run(
            decisions,
            features,
            strategy_text=decider.strategy.loaded.text,
            with_recourse=request.recourse,
            context=context_frame,
            history=records,
        )
    return Decided(decisions, features, context_frame, book, trigger.name, run_id)


def _due(accounts: pd.Index, book: Book, trigger: str, request: ReviewRequest, log: DecisionLog | None) -> pd.Index:
    """The accounts ``trigger`` calls a decision for; of ``request.account`` alone when given.

    A named account is decided only when its trigger calls for it (a repayment that
    cleared its arrears, an income verified this month), so that an event never
    brings a decision its trigger does not: a partial repayment is never answered
    with a cut. A request always calls for one.
    """
    if request.account is not None:
        if request.account not in accounts:
            raise InputError.for_field(
                "account_not_found",
                where=book.source,
                field="account",
                rule=f"an account with a panel row in the month decided ({month_described(book)})",
                value=request.account,
            )
        accounts = pd.Index([request.account], name="account_id", dtype="str")
        if trigger_named(trigger).one_account:
            return accounts
    query = DueQuery(
        accounts=accounts,
        panel=book.panel,
        customers=book.customers,
        as_of=book.as_of,
        log=log,
        cycle_days=request.cycle_days,
        month=month_described(book),
    )
    return trigger_named(trigger).due(query)


def _requests_in_window(log: DecisionLog | None, accounts: pd.Index, book: Book, window_days: int) -> pd.Series:
    """Requests for more within the window, this one included (counted from the decision log)."""
    if log is None:
        raise InputError.for_field(
            "log_required",
            where="--trigger request",
            field="--log",
            rule="on: earlier requests are counted from the decision log",
            value=False,
        )
    earlier = log.decisions_since(
        "request", book.as_of - timedelta(days=window_days), book.as_of, [str(a) for a in accounts]
    )
    return (earlier.reindex(accounts).fillna(0) + 1).astype("float64")


def _decide_in_batches(
    features: pd.DataFrame,
    decider: Decider,
    context: Context,
    history: History | None,
    *,
    recourse: bool,
    on_progress: Callable[[int, int], None] | None,
) -> pd.DataFrame:
    parts = []
    for start in range(0, len(features), BATCH):
        chunk = features.iloc[start : start + BATCH]
        parts.append(
            decide(
                chunk,
                model=decider.model,
                model_ref=decider.model_ref,
                strategy=decider.strategy,
                context=context,
                history=history,
                recourse=recourse,
            )
        )
        if on_progress is not None:
            on_progress(min(start + BATCH, len(features)), len(features))
    if len(parts) == 1 and tuple(parts[0].columns) == DECISION_COLUMNS:
        return parts[0]  # decide's own frame: nothing to join or reorder
    decided: pd.DataFrame = pd.concat(parts, ignore_index=True)[list(DECISION_COLUMNS)]
    return decided


def summary(decided: Decided) -> dict[str, Any]:
    """The run in numbers: accounts by action, limit added, lines not raised and how many have a way up."""
    from linewise.strategy.evaluate import ACTIONS

    decisions = decided.decisions
    not_increased = decisions["action"] != "increase"
    return {
        "accounts": len(decisions),
        "actions": {a: int((decisions["action"] == a).sum()) for a in ACTIONS},
        "limit_added_minor": int((decisions["new_limit"] - decisions["current_limit"]).clip(lower=0).sum())
        if len(decisions)
        else 0,
        "currency": decided.book.currency,
        "not_increased": int(not_increased.sum()),
        "with_recourse": int(decisions.loc[not_increased, "recourse_limit"].notna().sum()),
    }
