"""Lines: open (admin), show, draw and repay (their customer, admin), statement, events, limit and status by hand.

Each route parses, calls the ledger's own functions (the ones ``linewise line``,
``draw``, ``repay`` and ``statement`` call) and presents what they return. The
``Idempotency-Key`` header is the ledger's idempotency key, as the CLI's ``--key``.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from linewise.inputs import parse_id, parse_iso_date, parse_reason
from linewise.ledger.dpd import dpd_as_of
from linewise.ledger.events import LimitChanged, LineOpened, RepaymentPosted, StatusChanged
from linewise.ledger.service import drawdown_event, post_event, statement
from linewise.service.audit import audit_posting
from linewise.service.deciding import follow_up
from linewise.service.deps import (
    STAFF,
    AccountAccess,
    AdminUser,
    IdempotencyKey,
    Lang,
    PostingAccess,
    ServicesDep,
    account_access,
    posting_access,
)
from linewise.service.reads import events_page
from linewise.service.schemas.common import DATE_PATTERN, PAGE_MAX, error_responses
from linewise.service.schemas.lines import (
    DrawdownIn,
    EventOut,
    EventsPageOut,
    LimitIn,
    LineOpenIn,
    LineOut,
    PostingOut,
    RepaymentIn,
    RepaymentOut,
    StatementOut,
    StatusIn,
)
from linewise.service.views import line_out, posting_out, statement_out

__all__ = ["router"]

router = APIRouter(prefix="/accounts", tags=["lines"])

_ERRORS = error_responses(401, 403, 404, 409, 422)

Reader = Annotated[AccountAccess, Depends(account_access("customer", *STAFF))]
Mover = Annotated[AccountAccess, Depends(account_access("customer", "admin"))]
Admin = Annotated[AccountAccess, Depends(account_access("admin"))]
Poster = Annotated[PostingAccess, Depends(posting_access("customer", "admin"))]


@router.post("", status_code=201, responses=_ERRORS)
def open_line(body: LineOpenIn, who: AdminUser, services: ServicesDep, key: IdempotencyKey) -> PostingOut:
    """Open a credit line for a customer (admin; audited)."""
    event = LineOpened(
        account_id=parse_id(body.account_id, "body.account_id"),
        occurred_on=services.event_day(body.on, "body.on"),
        idempotency_key=key,
        customer_id=parse_id(body.customer_id, "body.customer_id"),
        currency=body.currency,
        credit_limit=body.credit_limit,
    )
    posted = post_event(services.engine, event)
    audit_posting(services, who, "line_opened", posted, detail={"customer_id": event.customer_id})
    return posting_out(posted)


@router.get("/{account_id}", responses=_ERRORS)
def show_line(access: Reader, services: ServicesDep) -> LineOut:
    """The line now: limit, status, outstanding principal, available credit, days past due."""
    return line_out(access.state, dpd_as_of(access.state, services.today()))


@router.post("/{account_id}/drawdowns", status_code=201, responses=_ERRORS)
def draw(body: DrawdownIn, access: Mover, services: ServicesDep, key: IdempotencyKey) -> PostingOut:
    """Draw money against the line, on terms the product offers (its customer, or an admin: audited)."""
    event = drawdown_event(
        services.product,
        access.state,
        account_id=access.account_id,
        amount=body.amount,
        term_months=body.term_months,
        method=body.method,
        purpose=body.purpose,
        occurred_on=services.event_day(body.on, "body.on"),
        idempotency_key=key,
    )
    posted = post_event(services.engine, event)
    if not access.who.is_customer:
        audit_posting(services, access.who, "drawdown_by_staff", posted, detail={"amount": body.amount})
    return posting_out(posted)


@router.post("/{account_id}/repayments", status_code=201, responses=_ERRORS)
def repay(body: RepaymentIn, access: Poster, services: ServicesDep, key: IdempotencyKey, lang: Lang) -> RepaymentOut:
    """Post a repayment (its customer, or an admin: audited); then decide the line as the repayment trigger calls for.

    The decision is applied to the line when one is made; a decision that fails is told
    in ``follow_up.error`` and leaves the repayment posted.
    """
    event = RepaymentPosted(
        account_id=access.account_id,
        occurred_on=services.event_day(body.on, "body.on"),
        idempotency_key=key,
        amount=body.amount,
    )
    posted = post_event(services.engine, event, owner=access.owner)
    if not access.who.is_customer:
        audit_posting(services, access.who, "repayment_by_staff", posted, detail={"amount": body.amount})
    decided = follow_up(
        services,
        access.account_id,
        trigger="repayment",
        lang=lang,
        analyst=not access.who.is_customer,
        duplicate=posted.duplicate,
        state=posted.state,
    )
    return RepaymentOut(**posting_out(posted).model_dump(), follow_up=decided)


@router.get("/{account_id}/statement", responses=_ERRORS)
def show_statement(
    access: Reader,
    services: ServicesDep,
    as_of: Annotated[
        str | None,
        Query(
            max_length=10,
            description="YYYY-MM-DD; today when left out.",
            json_schema_extra={"format": "date", "pattern": DATE_PATTERN},
        ),
    ] = None,
) -> StatementOut:
    """Schedules, payments, days past due and the payoff of the line as of a day."""
    day = services.today() if as_of is None else parse_iso_date(as_of, "as_of")
    return statement_out(statement(services.engine, access.account_id, day))


@router.get("/{account_id}/events", responses=_ERRORS)
def list_events(
    access: Reader,
    services: ServicesDep,
    limit: Annotated[int, Query(ge=1, le=PAGE_MAX)] = 50,
    offset: Annotated[int, Query(ge=0, le=2**31)] = 0,
) -> EventsPageOut:
    """The line's events in posting order, a page at a time (at most 200 a page)."""
    rows, total = events_page(services.engine, access.account_id, limit=limit, offset=offset)
    items = [EventOut(**{**row.__dict__, "posted_at": row.posted_at.isoformat()}) for row in rows]
    return EventsPageOut(account_id=access.account_id, items=items, limit=limit, offset=offset, total=total)


@router.put("/{account_id}/limit", responses=_ERRORS)
def set_limit(body: LimitIn, access: Admin, services: ServicesDep, key: IdempotencyKey) -> PostingOut:
    """Set the line's limit by hand, with a reason code and a note (admin; audited)."""
    reason = parse_reason(body.reason, "body.reason")
    event = LimitChanged(
        account_id=access.account_id,
        occurred_on=services.event_day(body.on, "body.on"),
        idempotency_key=key,
        new_limit=body.credit_limit,
        reason_code=reason,
    )
    posted = post_event(services.engine, event)
    detail = {
        "credit_limit": body.credit_limit,
        "previous": posted.result.get("previous_credit_limit"),
        "note": body.note,
    }
    audit_posting(services, access.who, "limit_set_by_hand", posted, reason=reason, detail=detail)
    return posting_out(posted)


@router.put("/{account_id}/status", responses=_ERRORS)
def set_status(body: StatusIn, access: Admin, services: ServicesDep, key: IdempotencyKey) -> PostingOut:
    """Freeze, unfreeze or close the line by hand, with a reason code and a note (admin; audited)."""
    reason = parse_reason(body.reason, "body.reason")
    event = StatusChanged(
        account_id=access.account_id,
        occurred_on=services.event_day(body.on, "body.on"),
        idempotency_key=key,
        new_status=body.status,
        reason_code=reason,
    )
    posted = post_event(services.engine, event)
    detail = {"status": body.status.value, "previous": posted.result.get("previous_status"), "note": body.note}
    audit_posting(services, access.who, "status_set_by_hand", posted, reason=reason, detail=detail)
    return posting_out(posted)
