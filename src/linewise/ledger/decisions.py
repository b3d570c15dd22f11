"""A decision takes effect on its credit line as ledger events.

A decision to raise or cut a limit becomes a :class:`LimitChanged`; a freeze a
:class:`StatusChanged` to frozen (after the cut, when it cuts too); a decision that
is not a freeze lifts a freeze that an earlier decision put on the line. A freeze
put on by hand (a status change without a decision reference) is an operator's to
lift: it stays, and the outcome says so.

Three promises hold for every decision:

- **Idempotent by decision.** The events' keys derive from the decision's reference
  (``<ref>:limit``, ``<ref>:status``), so applying a decision again writes nothing and
  gives back the first outcome, marked ``duplicate``.
- **Refused when stale** (``decision_stale``): the line moved since the decision was
  made (its version, its limit, or a later event than the decision's day). Decide again.
- **Judged under the line's lock.** The line's row is locked (``SELECT ... FOR UPDATE``
  on PostgreSQL, the write lock on SQLite) before it is read, so a drawdown racing the
  decision comes either before it (and the decision is stale) or after it (and is
  checked against the new limit and status).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal, get_args

from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError

from linewise.errors import (
    IdempotencyConflictError,
    InputError,
    LedgerRejected,
    UnknownAccountError,
)
from linewise.inputs import (
    KEY_MAX_LENGTH,
    MAX_AMOUNT_MINOR,
    check_year,
    parse_id,
    parse_key,
    parse_reason,
)
from linewise.ledger.events import (
    Event,
    LimitChanged,
    Reversal,
    StatusChanged,
    event_payload,
)
from linewise.ledger.model import LineState, LineStatus
from linewise.ledger.posting import Posted, apply
from linewise.ledger.service import posting_result
from linewise.ledger.store import UnitOfWork, read_snapshot
from linewise.ledger.store.repository import (
    StoredEvent,
    find_events,
    load_events_of_kinds,
    load_line_versions,
    load_lines_for_update,
    save_line_postings,
)

__all__ = [
    "DECISIONS_PER_CHUNK",
    "FREEZE_LIFTED",
    "Action",
    "Applied",
    "LineDecision",
    "Refused",
    "apply_decision",
    "apply_decisions",
    "line_versions",
]

Action = Literal["increase", "hold", "decrease", "freeze"]
_ACTIONS: tuple[str, ...] = get_args(Action)

# The reason code of the status change that lifts a decision's freeze.
FREEZE_LIFTED = "freeze_lifted"
# Decisions applied per transaction: one lock set, a few reads and one write for the
# chunk. A thousand keeps a transaction's locks and memory small (a few MB of rows)
# while the per-transaction cost is spread thin.
DECISIONS_PER_CHUNK = 1_000
# Postings that lose a race on a unique key are retried, as post_events does.
_RETRIES = 3
_LIMIT_SUFFIX, _STATUS_SUFFIX = ":limit", ":status"
# A reference leaves room for the longest suffix within an idempotency key.
DECISION_REF_MAX_LENGTH = KEY_MAX_LENGTH - len(_STATUS_SUFFIX)


@dataclass(frozen=True, slots=True, kw_only=True)
class LineDecision:
    """A decision to apply to one line, checked when built (:class:`InputError`).

    Parameters
    ----------
    account_id
        The line.
    decision_ref
        A stable id of the logged decision (e.g. ``"decision:123"``); the events'
        idempotency keys derive from it.
    action
        ``increase`` or ``decrease`` (``new_limit`` above or below ``current_limit``),
        ``hold`` (equal) or ``freeze`` (``new_limit`` at most ``current_limit``).
    current_limit, new_limit
        The limit the decision was made from, and the limit it decided.
    decided_on
        The day of the decision: the events' ``occurred_on``.
    seen_version
        The line's ``version`` the decision was made from (see :func:`line_versions`);
        None skips that check (the limit and the day are checked all the same).
    reason_code
        The decision's headline reason, snake_case: the events' ``reason_code``.
    """

    account_id: str
    decision_ref: str
    action: Action
    current_limit: int
    new_limit: int
    decided_on: date
    seen_version: int | None
    reason_code: str

    def __post_init__(self) -> None:
        parse_id(self.account_id, "account_id")
        where = self.account_id
        parse_key(self.decision_ref, "decision_ref")
        if len(self.decision_ref) > DECISION_REF_MAX_LENGTH:
            raise InputError.for_field(
                "key_malformed",
                where=where,
                field="decision_ref",
                rule=f"at most {DECISION_REF_MAX_LENGTH} characters",
                value=self.decision_ref,
            )
        parse_reason(self.reason_code, "reason_code")
        check_year(self.decided_on, "decided_on")
        if self.action not in _ACTIONS:
            raise InputError.for_field(
                "decision_action_unknown",
                where=where,
                field="action",
                rule=f"one of {', '.join(_ACTIONS)}",
                value=self.action,
            )
        for name in ("current_limit", "new_limit"):
            value = getattr(self, name)
            if not (_is_int(value) and 0 <= value <= MAX_AMOUNT_MINOR):
                raise InputError.for_field(
                    "limit_must_not_be_negative",
                    where=where,
                    field=name,
                    rule=f"an integer from 0 to {MAX_AMOUNT_MINOR}",
                    value=value,
                )
        if not _limits_fit(self.action, self.current_limit, self.new_limit):
            raise InputError.for_field(
                "decision_limit_inconsistent",
                where=where,
                field="new_limit",
                rule=f"{_LIMIT_RULES[self.action]} the current limit {self.current_limit} "
                f"for a decision to {self.action}",
                value=self.new_limit,
            )
        version: object = self.seen_version
        if version is not None and not (isinstance(version, int) and not isinstance(version, bool) and version >= 1):
            raise InputError.for_field(
                "decision_version_invalid",
                where=where,
                field="seen_version",
                rule="a line version (an integer from 1) or None",
                value=self.seen_version,
            )

    @property
    def limit_key(self) -> str:
        """The idempotency key of the decision's limit change."""
        return self.decision_ref + _LIMIT_SUFFIX

    @property
    def status_key(self) -> str:
        """The idempotency key of the decision's status change."""
        return self.decision_ref + _STATUS_SUFFIX

    def limit_event(self) -> LimitChanged:
        """The limit change this decision means, if the line's limit differs from ``new_limit``."""
        return LimitChanged(
            account_id=self.account_id,
            occurred_on=self.decided_on,
            idempotency_key=self.limit_key,
            new_limit=self.new_limit,
            reason_code=self.reason_code,
            decision_ref=self.decision_ref,
        )

    def status_event(self) -> StatusChanged:
        """The status change this decision means, if the line's status must move: a freeze, or its lifting."""
        if self.action == "freeze":
            status, reason = LineStatus.FROZEN, self.reason_code
        else:
            status, reason = LineStatus.ACTIVE, FREEZE_LIFTED
        return StatusChanged(
            account_id=self.account_id,
            occurred_on=self.decided_on,
            idempotency_key=self.status_key,
            new_status=status,
            reason_code=reason,
            decision_ref=self.decision_ref,
        )


def _is_int(value: object) -> bool:
    """Whether ``value`` is an integer (a bool is not, though Python says it is)."""
    return isinstance(value, int) and not isinstance(value, bool)


_LIMIT_RULES = {"increase": "above", "decrease": "below", "hold": "equal to", "freeze": "at most"}


def _limits_fit(action: str, current: int, new: int) -> bool:
    if action == "increase":
        return new > current
    if action == "decrease":
        return new < current
    if action == "hold":
        return new == current
    return new <= current


@dataclass(frozen=True, slots=True)
class Applied:
    """What applying a decision did to its line.

    ``events`` are the kinds posted (in order; empty when nothing had to change).
    ``duplicate``: the decision had been applied before; nothing was written and this
    is the first outcome. ``kept_frozen_by_hand``: the line was frozen by hand and
    stays frozen though the decision would have it open.
    """

    account_id: str
    decision_ref: str
    events: tuple[str, ...]
    limit_before: int
    limit_after: int
    status_before: LineStatus
    status_after: LineStatus
    duplicate: bool = False
    kept_frozen_by_hand: bool = False


@dataclass(frozen=True, slots=True)
class Refused:
    """A decision the ledger refused; nothing of it was written. ``error.code`` says why."""

    account_id: str
    decision_ref: str
    error: LedgerRejected

    @property
    def code(self) -> str:
        """The refusal's stable code, e.g. ``decision_stale``."""
        return self.error.code


Outcome = Applied | Refused


def apply_decision(engine: Engine, decision: LineDecision) -> Applied:
    """Apply one decision to its line in one transaction.

    Raises :class:`LedgerRejected` (``decision_stale``, ``account_not_found``,
    ``line_closed``, ``event_exists_with_different_<field>``, ...) and writes nothing
    when the ledger refuses it.
    """
    [outcome] = apply_decisions(engine, [decision])
    if isinstance(outcome, Refused):
        raise outcome.error
    return outcome


def apply_decisions(
    engine: Engine,
    decisions: Sequence[LineDecision],
    *,
    on_progress: Callable[[int, int], None] | None = None,
    chunk_size: int = DECISIONS_PER_CHUNK,
) -> list[Applied | Refused]:
    """Apply decisions in order, one transaction per ``chunk_size`` of them; an outcome each.

    A refused decision (see :func:`apply_decision`) is returned as :class:`Refused`
    and the others go on: a decision either has all its events written or none.
    Decisions on one line are applied in the order given (a second decision made
    from the same version is then stale). ``on_progress(done, total)`` is called
    after each chunk commits.
    """
    if chunk_size < 1:
        raise InputError.for_field(
            "chunk_size_invalid", where="apply_decisions", field="chunk_size", rule="at least 1", value=chunk_size
        )
    outcomes: list[Outcome] = []
    for chunk in _chunks(decisions, chunk_size):
        outcomes += _apply_chunk(engine, chunk)
        if on_progress is not None:
            on_progress(len(outcomes), len(decisions))
    return outcomes


def line_versions(engine: Engine, account_ids: Sequence[str] | None = None) -> dict[str, int]:
    """The current ``version`` of each line (every line when ``account_ids`` is None).

    A decision records the version of the state it was made from as ``seen_version``;
    read it in the same snapshot as that state.
    """
    with read_snapshot(engine) as conn:
        return load_line_versions(conn, account_ids)


def _chunks(items: Sequence[LineDecision], size: int) -> Iterator[Sequence[LineDecision]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


# --- one chunk: read under lock, decide the events, write ----------------------------


@dataclass
class _Book:
    """What a chunk reads under the lock, updated as its decisions are applied in order."""

    lines: dict[str, tuple[LineState, int]]
    stored: dict[tuple[str, str], StoredEvent]
    # The decision that froze each frozen line (None: frozen by hand).
    frozen_by: dict[str, str | None]
    postings: list[tuple[LineState, Posted, Event, dict[str, Any]]] = field(default_factory=list)


def _apply_chunk(engine: Engine, chunk: Sequence[LineDecision]) -> list[Outcome]:
    for attempt in range(_RETRIES):
        try:
            with UnitOfWork(engine) as uow:
                conn = uow.conn
                accounts = {d.account_id for d in chunk}
                lines = load_lines_for_update(conn, accounts)
                keys = [(d.account_id, k) for d in chunk for k in (d.limit_key, d.status_key)]
                frozen = [a for a, (s, _) in lines.items() if s.line.status is LineStatus.FROZEN]
                history = load_events_of_kinds(conn, frozen, (StatusChanged.kind, Reversal.kind))
                book = _Book(lines, find_events(conn, keys), {a: _freezing_ref(history.get(a, [])) for a in frozen})
                outcomes = [_apply_one(book, d) for d in chunk]
                save_line_postings(conn, book.postings)
                uow.commit()
                return outcomes
        except IntegrityError:
            if attempt == _RETRIES - 1:
                raise
    raise AssertionError("unreachable")  # pragma: no cover


def _freezing_ref(events: Sequence[Event]) -> str | None:
    """The decision reference of the status change in force that froze the line (None: by hand)."""
    reversed_keys = {e.target_key for e in events if isinstance(e, Reversal)}
    for event in reversed(events):
        if isinstance(event, StatusChanged) and event.idempotency_key not in reversed_keys:
            return event.decision_ref if event.new_status is LineStatus.FROZEN else None
    return None


def _apply_one(book: _Book, decision: LineDecision) -> Outcome:
    try:
        first = _first_outcome(book, decision)
        return first if first is not None else _post(book, decision)
    except LedgerRejected as exc:
        return Refused(decision.account_id, decision.decision_ref, exc)


def _first_outcome(book: _Book, decision: LineDecision) -> Applied | None:
    """The outcome of the decision's first application, or None if it was never applied."""
    limit = book.stored.get((decision.account_id, decision.limit_key))
    status = book.stored.get((decision.account_id, decision.status_key))
    if limit is None and status is None:
        return None
    found = [
        (s, make()) for s, make in ((limit, decision.limit_event), (status, decision.status_event)) if s is not None
    ]
    for original, event in found:
        _check_same(original.event, event)
    first, last = found[0][0].result, found[-1][0].result
    status_after = LineStatus(last["status"])
    return Applied(
        decision.account_id,
        decision.decision_ref,
        events=tuple(s.event.kind for s, _ in found),
        limit_before=limit.result["previous_credit_limit"] if limit else first["credit_limit"],
        limit_after=last["credit_limit"],
        status_before=LineStatus(status.result["previous_status"] if status and not limit else first["status"]),
        status_after=status_after,
        duplicate=True,
        # Without a status change, a line left frozen by a decision that is not a freeze
        # was frozen by hand: a decision's freeze would have been lifted.
        kept_frozen_by_hand=(status is None and status_after is LineStatus.FROZEN and decision.action != "freeze"),
    )


def _check_same(stored: Event, event: Event) -> None:
    original, new = event_payload(stored), event_payload(event)
    for name in sorted(set(original) | set(new)):
        if original.get(name) != new.get(name):
            raise IdempotencyConflictError(event.idempotency_key, name, original.get(name), new.get(name))


def _post(book: _Book, decision: LineDecision) -> Applied:
    """Post the events the decision means on the line as the book has it now."""
    where = decision.account_id
    if where not in book.lines:
        raise UnknownAccountError(where)
    state, version = book.lines[where]
    _check_fresh(decision, state, version)
    status = state.line.status
    events: list[Event] = []
    if decision.new_limit != state.line.credit_limit:
        events.append(decision.limit_event())
    kept_by_hand = False
    if decision.action == "freeze" and status is LineStatus.ACTIVE:
        events.append(decision.status_event())
    elif decision.action != "freeze" and status is LineStatus.FROZEN:
        if book.frozen_by.get(where) is not None:
            events.append(decision.status_event())
        else:
            kept_by_hand = True
    after = state
    postings: list[tuple[LineState, Posted, Event, dict[str, Any]]] = []
    for event in events:  # every event is checked before any is kept
        posted = apply(after, event)
        postings.append((after, posted, event, posting_result(event, after, posted)))
        after = posted.state
    book.postings += postings
    for _, _, event, result in postings:
        book.stored[(where, event.idempotency_key)] = StoredEvent(event, result)
    book.lines[where] = (after, version + len(events))
    if after.line.status is LineStatus.FROZEN and status is LineStatus.ACTIVE:
        book.frozen_by[where] = decision.decision_ref
    return Applied(
        where,
        decision.decision_ref,
        tuple(e.kind for e in events),
        state.line.credit_limit,
        after.line.credit_limit,
        status,
        after.line.status,
        duplicate=False,
        kept_frozen_by_hand=kept_by_hand,
    )


def _check_fresh(decision: LineDecision, state: LineState, version: int) -> None:
    """Raise ``decision_stale`` if the line moved since the decision was made."""
    where = decision.account_id
    ref = decision.decision_ref
    if state.line.status is LineStatus.CLOSED:
        raise LedgerRejected.for_field(
            "line_closed", where=where, field="line status", rule=f"active or frozen for decision {ref}", value="closed"
        )
    if decision.seen_version is not None and version != decision.seen_version:
        raise _stale(
            decision, "the line's version", f"{decision.seen_version}, the version {ref} was made from", version
        )
    if state.line.credit_limit != decision.current_limit:
        raise _stale(
            decision,
            "the line's limit",
            f"{decision.current_limit}, the limit {ref} was made from",
            state.line.credit_limit,
        )
    last_on = state.last_event_on
    if last_on is not None and decision.decided_on < last_on:
        raise _stale(
            decision, "decided_on", f"on or after the line's last event {last_on}", decision.decided_on.isoformat()
        )


def _stale(decision: LineDecision, field_: str, rule: str, value: object) -> LedgerRejected:
    return LedgerRejected.for_field(
        "decision_stale",
        where=decision.account_id,
        field=field_,
        rule=f"{rule} (the line has moved since: decide again)",
        value=value,
    )
