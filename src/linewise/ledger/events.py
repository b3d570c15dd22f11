"""Typed ledger events. Posted events are never changed; corrections are reversals."""

from __future__ import annotations

from dataclasses import dataclass, fields, is_dataclass
from datetime import date
from decimal import Decimal
from typing import Any, ClassVar

from linewise.calendar import DayCount
from linewise.inputs import check_year, parse_code, parse_id, parse_key, parse_reason
from linewise.ledger.model import DrawdownTerms, LineStatus
from linewise.ledger.product import Prepayment
from linewise.ledger.schedule import Method

__all__ = [
    "DrawdownPosted",
    "Event",
    "LimitChanged",
    "LineOpened",
    "RepaymentPosted",
    "Reversal",
    "StatusChanged",
    "check_fields",
    "event_from_payload",
    "event_payload",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class Event:
    """What every event carries: the account, the day it happened and its key."""

    kind: ClassVar[str] = "event"
    account_id: str
    occurred_on: date
    idempotency_key: str


@dataclass(frozen=True, slots=True, kw_only=True)
class LineOpened(Event):
    """A new line with its first limit."""

    kind: ClassVar[str] = "line_opened"
    customer_id: str
    currency: str
    credit_limit: int
    reason_code: str = "line_opened"
    decision_ref: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class DrawdownPosted(Event):
    """Money drawn, with the product terms in force when it was drawn."""

    kind: ClassVar[str] = "drawdown"
    amount: int
    term_months: int
    method: Method
    purpose: str
    terms: DrawdownTerms


@dataclass(frozen=True, slots=True, kw_only=True)
class RepaymentPosted(Event):
    """Money received from the customer."""

    kind: ClassVar[str] = "repayment"
    amount: int


@dataclass(frozen=True, slots=True, kw_only=True)
class LimitChanged(Event):
    """A new credit limit, with why and which decision asked for it."""

    kind: ClassVar[str] = "limit_changed"
    new_limit: int
    reason_code: str
    decision_ref: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class StatusChanged(Event):
    """A freeze, unfreeze or closure, with why and which decision asked for it."""

    kind: ClassVar[str] = "status_changed"
    new_status: LineStatus
    reason_code: str
    decision_ref: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Reversal(Event):
    """Takes back an earlier event of the same account (e.g. a bounced payment)."""

    kind: ClassVar[str] = "reversal"
    target_key: str
    reason_code: str


_KINDS: dict[str, type[Event]] = {
    cls.kind: cls for cls in (LineOpened, DrawdownPosted, RepaymentPosted, LimitChanged, StatusChanged, Reversal)
}


def check_fields(event: Event) -> None:
    """Raise :class:`~linewise.errors.InputError` unless every typed field of ``event`` has its form.

    The forms are :mod:`linewise.inputs`'s: ids, keys and decision references in
    their alphabet and length, reasons and purposes as snake_case codes, the date in
    the year range. A new event is checked before anything is read or written, so
    every database stores the same values (and a legacy event is never re-checked).
    """
    parse_id(event.account_id, "account_id")
    parse_key(event.idempotency_key, "idempotency_key")
    check_year(event.occurred_on, "occurred_on")
    if isinstance(event, LineOpened):
        parse_id(event.customer_id, "customer_id")
    if isinstance(event, DrawdownPosted):
        parse_code(event.purpose, "purpose")
    if isinstance(event, Reversal):
        parse_key(event.target_key, "target_key")
    if isinstance(event, LineOpened | LimitChanged | StatusChanged | Reversal):
        parse_reason(event.reason_code, "reason_code")
    if isinstance(event, LineOpened | LimitChanged | StatusChanged) and event.decision_ref is not None:
        parse_key(event.decision_ref, "decision_ref")


def event_payload(event: Event) -> dict[str, Any]:
    """A JSON-ready dict of the event (dates ISO, decimals as strings)."""
    return {"kind": event.kind, **_to_json(event)}


def _to_json(value: Any) -> Any:
    # Field by field rather than dataclasses.asdict, whose deep copies were most of
    # the cost of writing an event.
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: _to_json(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, date | Decimal):
        return str(value)
    return value


def event_from_payload(payload: dict[str, Any]) -> Event:
    """Rebuild an event from :func:`event_payload`'s output."""
    data = dict(payload)
    cls = _KINDS[data.pop("kind")]
    data["occurred_on"] = date.fromisoformat(data["occurred_on"])
    if cls is DrawdownPosted:
        data["method"] = Method(data["method"])
        terms = data["terms"]
        data["terms"] = DrawdownTerms(
            annual_rate=Decimal(terms["annual_rate"]),
            day_count=DayCount(terms["day_count"]),
            grace_days=int(terms["grace_days"]),
            penalty_rate=Decimal(terms["penalty_rate"]),
            prepayment=Prepayment(terms["prepayment"]),
        )
    if cls is StatusChanged:
        data["new_status"] = LineStatus(data["new_status"])
    names = {f.name for f in fields(cls)}
    return cls(**{k: v for k, v in data.items() if k in names})
