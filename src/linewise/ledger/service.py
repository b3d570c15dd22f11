"""Posting through the store: load, apply, save, commit; idempotent and all-or-nothing."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd
from pydantic import ValidationError
from sqlalchemy import Connection, Engine
from sqlalchemy.exc import IntegrityError

from linewise.calendar import month_ends
from linewise.errors import (
    ConfigurationError,
    DatabaseNotInitialisedError,
    IdempotencyConflictError,
    InputError,
    LedgerRejected,
    UnknownAccountError,
)
from linewise.ledger.dpd import bucket_of, dpd_as_of
from linewise.ledger.events import (
    DrawdownPosted,
    Event,
    LimitChanged,
    LineOpened,
    RepaymentPosted,
    Reversal,
    StatusChanged,
    check_fields,
    event_payload,
)
from linewise.ledger.model import DrawdownTerms, LineState
from linewise.ledger.posting import (
    Allocation,
    Posted,
    accrue_penalties,
    apply,
    payoff_amount,
    replay,
)
from linewise.ledger.product import Product
from linewise.ledger.schedule import Method
from linewise.ledger.snapshot import month_end_panel
from linewise.ledger.store import UnitOfWork, is_at_head, read_snapshot
from linewise.ledger.store.book_writes import NewLines
from linewise.ledger.store.repository import (
    find_event,
    load_account_events,
    load_for_posting,
    load_frames,
    load_lines_for_update,
    load_state,
    rebuild_projections,
    save_posting,
)

__all__ = [
    "BookPosted",
    "PostingResult",
    "Statement",
    "drawdown_event",
    "export_panel",
    "load_product",
    "post_book",
    "post_event",
    "post_events",
    "posting_result",
    "read_state",
    "require_schema",
    "statement",
    "trial_posting",
]

# A posting that loses a race on a unique key is retried; three tries is plenty
# because the second try sees the winner's committed row.
_RETRIES = 3
# A batch of post_book is one transaction, its rows held in memory until written:
# 10,000 lines of a year's events are about 300,000 events and a million rows.
_BATCH_MAX = 10_000


@dataclass(frozen=True)
class PostingResult:
    """What posting an event returned; ``duplicate`` when its key was seen before.

    ``state`` is the line just after the event (``None`` for a duplicate, which
    posted nothing).
    """

    result: dict[str, Any]
    duplicate: bool
    state: LineState | None = None


def load_product(path: Path | None) -> Product:
    """The product from a JSON file, or the default product when ``path`` is None."""
    if path is None:
        return Product()
    try:
        # Bytes, not text: a file that is not UTF-8 is then one more invalid JSON document.
        return Product.model_validate_json(path.read_bytes())
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'product'}: {e['msg']}" for e in exc.errors())
        raise ConfigurationError(f"{path}: {problems}") from None


def require_schema(engine: Engine) -> None:
    """Raise :class:`DatabaseNotInitialisedError` unless migrations are at head."""
    if not is_at_head(engine):
        raise DatabaseNotInitialisedError(engine.url.render_as_string(hide_password=True))


def drawdown_event(
    product: Product,
    state: LineState | None,
    *,
    account_id: str,
    amount: int,
    term_months: int,
    method: str,
    purpose: str,
    occurred_on: date,
    idempotency_key: str,
) -> DrawdownPosted:
    """A drawdown event the product offers, carrying the product's terms for replay."""
    if state is not None and state.line.currency != product.currency:
        raise LedgerRejected.for_field(
            "currency_mismatch",
            where=account_id,
            field="currency",
            rule=f"the product's {product.currency}",
            value=state.line.currency,
        )
    product.check_drawdown(amount=amount, term_months=term_months, method=method, purpose=purpose, where=account_id)
    terms = DrawdownTerms.from_product(product)
    return DrawdownPosted(
        account_id=account_id,
        occurred_on=occurred_on,
        idempotency_key=idempotency_key,
        amount=amount,
        term_months=term_months,
        method=Method(method),
        purpose=purpose,
        terms=terms,
    )


def posting_result(event: Event, before: LineState | None, posted: Posted) -> dict[str, Any]:
    """What posting ``event`` on ``before`` returns, and is stored with the event for its duplicates."""
    state = posted.state
    result: dict[str, Any] = {
        "account_id": state.line.account_id,
        "kind": event.kind,
        "idempotency_key": event.idempotency_key,
        "occurred_on": event.occurred_on.isoformat(),
        "currency": state.line.currency,
        "credit_limit": state.line.credit_limit,
        "status": state.line.status.value,
        "principal_outstanding": state.principal_outstanding,
        "available_credit": state.available_credit,
    }
    if isinstance(event, DrawdownPosted):
        drawdown = state.drawdowns[-1]
        result["drawdown_seq"] = drawdown.seq
        result["first_due_on"] = drawdown.instalments[0].due_on.isoformat()
        result["first_instalment"] = drawdown.instalments[0].amount_due
    if isinstance(event, RepaymentPosted):
        result["allocated"] = _allocated(posted.allocations)
    if isinstance(event, LimitChanged) and before is not None:
        result["previous_credit_limit"] = before.line.credit_limit
    if isinstance(event, StatusChanged) and before is not None:
        result["previous_status"] = before.line.status.value
    return result


def _allocated(allocations: Sequence[Allocation]) -> dict[str, int]:
    totals = {"penalty": 0, "interest": 0, "principal": 0}
    for allocation in allocations:
        totals[allocation.component] += allocation.amount
    return totals


def _check_duplicate(stored_event: Event, event: Event) -> None:
    original, new = event_payload(stored_event), event_payload(event)
    for field in sorted(set(original) | set(new)):
        if original.get(field) != new.get(field):
            raise IdempotencyConflictError(event.idempotency_key, field, original.get(field), new.get(field))


def _limits(events: Sequence[Event]) -> list[tuple[date, int, str]]:
    reversed_keys = {e.target_key for e in events if isinstance(e, Reversal)}
    out: list[tuple[date, int, str]] = []
    for e in events:
        if e.idempotency_key in reversed_keys:
            continue
        if isinstance(e, LineOpened):
            out.append((e.occurred_on, e.credit_limit, e.idempotency_key))
        elif isinstance(e, LimitChanged):
            out.append((e.occurred_on, e.new_limit, e.idempotency_key))
    return out


def _post(
    conn: Connection, event: Event, cache: dict[str, LineState | None], owner: str | None = None
) -> PostingResult:
    check_fields(event)
    if event.account_id in cache:
        before = cache[event.account_id]
        existing = find_event(conn, event.account_id, event.idempotency_key)
    else:
        before, existing = load_for_posting(conn, event.account_id, event.idempotency_key)
    # Before the duplicate check: a key seen on another customer's line tells nothing of it.
    if owner is not None and (before is None or before.line.customer_id != owner):
        raise UnknownAccountError(event.account_id)
    if existing is not None:
        _check_duplicate(existing.event, event)
        return PostingResult(existing.result, duplicate=True)
    if isinstance(event, Reversal):
        if before is None:
            raise UnknownAccountError(event.account_id)
        history = [*load_account_events(conn, event.account_id), event]
        posted = replay(history)
        result = posting_result(event, before, posted)
        rebuild_projections(conn, event, posted, _limits(history), result)
    else:
        posted = apply(before, event)
        result = posting_result(event, before, posted)
        save_posting(conn, before, posted, event, result)
    cache[event.account_id] = posted.state
    return PostingResult(result, duplicate=False, state=posted.state)


def post_event(engine: Engine, event: Event, *, owner: str | None = None) -> PostingResult:
    """Post one event in its own transaction.

    Idempotency keys are scoped to the account. The same key on the same account
    with the same event returns the first result (``duplicate``) and writes nothing;
    with a different event it raises IdempotencyConflictError. A field not in its
    form (see :func:`~linewise.ledger.events.check_fields`) raises InputError and a
    rejected event LedgerRejected; neither writes anything. With ``owner`` (a customer
    posting on their own line), a line of another customer is refused as unknown
    (UnknownAccountError), as the line is read for posting.
    """
    return post_events(engine, [event], owner=owner)[0]


@contextmanager
def trial_posting(engine: Engine, event: Event) -> Iterator[tuple[Connection, PostingResult, LineState]]:
    """``event`` posted in a transaction that is rolled back, never kept: what the ledger would hold.

    Inside the block, reads on the connection given see the event posted (the line
    locked against other postings meanwhile); the result and the line's state after
    it come with it. An event the ledger refuses raises as :func:`post_event` would.
    """
    with UnitOfWork(engine) as uow:
        cache: dict[str, LineState | None] = {}
        posted = _post(uow.conn, event, cache)
        state = cache[event.account_id]
        assert state is not None
        yield uow.conn, posted, state
        # Not committed: the unit of work rolls the posting back on leaving.


def post_events(engine: Engine, events: Sequence[Event], *, owner: str | None = None) -> list[PostingResult]:
    """Post events in order in one transaction: all are written, or none (``owner``: see :func:`post_event`)."""
    for attempt in range(_RETRIES):
        try:
            with UnitOfWork(engine) as uow:
                cache: dict[str, LineState | None] = {}
                results = [_post(uow.conn, event, cache, owner) for event in events]
                uow.commit()
                return results
        except IntegrityError:
            if attempt == _RETRIES - 1:
                raise
    raise AssertionError("unreachable")  # pragma: no cover


@dataclass(frozen=True)
class BookPosted:
    """What :func:`post_book` posted: lines (items of its input), events, and duplicates among them."""

    lines: int = 0
    events: int = 0
    duplicates: int = 0


def post_book(
    engine: Engine,
    lines: Iterable[Sequence[Event]],
    *,
    batch: int = 1_000,
    on_batch: Callable[[int], None] | None = None,
) -> BookPosted:
    """Post many lines' events, ``batch`` lines a transaction: the rows ``post_events`` per line leaves.

    Each item of ``lines`` is what one :func:`post_events` call would post (a line's
    events, in order). The store ends exactly as if each item had been posted so, one
    after another: same events, projections and line versions; events, allocations
    and limit changes get their ids in posting order (one posting's allocations, which
    ``post_events`` sends PostgreSQL in one statement, in no set order there). But a
    line not yet in the store is posted in memory, and its rows are written with the
    batch's other new lines in a few multi-row statements (``COPY`` on PostgreSQL);
    events on lines already stored, and reversals, are posted one by one.

    All or nothing per batch: a bad event raises what ``post_events`` raises for it
    (InputError, LedgerRejected, UnknownAccountError, IdempotencyConflictError) and
    nothing of its batch is written; earlier batches stay posted. ``on_batch`` is told
    how many lines each committed batch held.
    """
    if not 1 <= batch <= _BATCH_MAX:
        raise InputError.for_field(
            "batch_out_of_range", where="post_book", field="batch", rule=f"from 1 to {_BATCH_MAX:,} lines", value=batch
        )
    total = BookPosted()
    for chunk in _batches(lines, batch):
        events = [event for item in chunk for event in item]
        duplicates = _post_batch(engine, events)
        total = BookPosted(total.lines + len(chunk), total.events + len(events), total.duplicates + duplicates)
        if on_batch is not None:
            on_batch(len(chunk))
    return total


def _batches(lines: Iterable[Sequence[Event]], size: int) -> Iterator[list[Sequence[Event]]]:
    chunk: list[Sequence[Event]] = []
    for line in lines:
        chunk.append(line)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _post_batch(engine: Engine, events: Sequence[Event]) -> int:
    """Post ``events`` in order in one transaction; how many were duplicates."""
    # Every event's form is checked before anything is read.
    for event in events:
        check_fields(event)
    for attempt in range(_RETRIES):
        try:
            with UnitOfWork(engine) as uow:
                duplicates = _post_many(uow.conn, events)
                uow.commit()
                return duplicates
        except IntegrityError:
            if attempt == _RETRIES - 1:
                raise
    raise AssertionError("unreachable")  # pragma: no cover


def _post_many(conn: Connection, events: Sequence[Event]) -> int:
    """Post ``events``: new lines in memory (see :class:`NewLines`), the others through :func:`_post`."""
    # Lines already stored are posted one event at a time; so is, once written, every line
    # a reversal or such a line's event made us write.
    one_by_one = set(load_lines_for_update(conn, {event.account_id for event in events}))
    new = NewLines()
    seen: dict[tuple[str, str], tuple[Event, dict[str, Any]]] = {}
    duplicates = 0
    for event in events:
        account_id = event.account_id
        if account_id in one_by_one or isinstance(event, Reversal):
            if len(new):
                one_by_one.update(new.accounts())
                new.write(conn)
                seen.clear()
            one_by_one.add(account_id)
            duplicates += _post(conn, event, {}).duplicate
            continue
        before = new.state(account_id) if account_id in new else None
        stored = seen.get((account_id, event.idempotency_key))
        if stored is not None:
            _check_duplicate(stored[0], event)
            duplicates += 1
            continue
        posted = apply(before, event)
        result = posting_result(event, before, posted)
        new.add(posted, event, result)
        seen[(account_id, event.idempotency_key)] = (event, result)
    new.write(conn)
    return duplicates


def read_state(engine: Engine, account_id: str) -> LineState:
    """The line's current state; raises UnknownAccountError if there is none."""
    with read_snapshot(engine) as conn:
        state = load_state(conn, account_id, for_update=False)
    if state is None:
        raise UnknownAccountError(account_id)
    return state


@dataclass(frozen=True)
class Statement:
    """An account as of a date: its state, what it owes and how late it is."""

    as_of: date
    state: LineState
    dpd: int
    bucket: str
    payoff: int
    repayments: list[tuple[date, str, int, dict[str, int]]]


def statement(engine: Engine, account_id: str, as_of: date) -> Statement:
    """The account replayed from its events up to ``as_of``, penalties accrued to that day."""
    with read_snapshot(engine) as conn:
        history = load_account_events(conn, account_id)
    if not history:
        raise UnknownAccountError(account_id)
    events = [e for e in history if e.occurred_on <= as_of]
    if not events:
        raise InputError.for_field(
            "as_of_before_line_opened",
            where=account_id,
            field="as_of",
            rule=f"on or after the day the line opened, {history[0].occurred_on}",
            value=as_of.isoformat(),
        )
    posted = replay(events)
    reversed_keys = {e.target_key for e in events if isinstance(e, Reversal)}
    by_key: dict[str, list[Allocation]] = {}
    for allocation in posted.allocations:
        by_key.setdefault(allocation.event_key, []).append(allocation)
    repayments = [
        (e.occurred_on, e.idempotency_key, e.amount, _allocated(by_key.get(e.idempotency_key, [])))
        for e in events
        if isinstance(e, RepaymentPosted) and e.idempotency_key not in reversed_keys
    ]
    state = accrue_penalties(posted.state, as_of)
    dpd = dpd_as_of(state, as_of)
    return Statement(as_of, state, dpd, bucket_of(dpd), payoff_amount(posted.state, as_of), repayments)


def export_panel(engine: Engine, as_of: date, account_id: str | None = None) -> pd.DataFrame:
    """Panel rows for every complete month end up to ``as_of`` (one account or all), read on ``as_of``.

    An instalment pending on ``as_of`` (not settled, its deadline not passed) has not
    fallen due in any row (see :mod:`linewise.ledger.snapshot`).
    """
    with read_snapshot(engine) as conn:
        frames = load_frames(conn, account_id, up_to=as_of)
    if account_id is not None and frames["lines"].empty:
        raise UnknownAccountError(account_id)
    if frames["lines"].empty:
        return month_end_panel(frames, [])
    first = min(frames["lines"]["opened_on"])
    months = [m for m in month_ends(first, as_of) if m <= as_of]
    return month_end_panel(frames, months, as_of)
