"""The drawdown preview: before borrowing, what it would cost and what it would do to the next review."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends

from linewise.ledger.bureau_file import record_json
from linewise.review.preview import preview_drawdown
from linewise.service.deps import STAFF, AccountAccess, Lang, ServicesDep, account_access
from linewise.service.schemas.common import error_responses
from linewise.service.schemas.preview import PreviewIn, PreviewInstalmentOut, PreviewOut, ReviewOut

__all__ = ["router"]

router = APIRouter(prefix="/accounts", tags=["preview"])

Reader = Annotated[AccountAccess, Depends(account_access("customer", *STAFF))]


def _review(decision: dict[str, Any]) -> ReviewOut:
    return ReviewOut(
        action=str(decision["action"]),
        current_limit=int(decision["current_limit"]),
        new_limit=int(decision["new_limit"]),
    )


@router.post("/{account_id}/drawdown-preview", responses=error_responses(401, 403, 404, 422))
def drawdown_preview(body: PreviewIn, access: Reader, services: ServicesDep, lang: Lang) -> PreviewOut:
    """What drawing ``amount`` over ``term_months`` would cost and do, as the ledger would have it; writes nothing.

    Refused as the drawdown itself would be (more than the available credit, a term the
    product does not offer, a line in arrears or frozen).
    """
    shown = preview_drawdown(
        services.engine,
        access.account_id,
        services.decider,
        services.product,
        amount=body.amount,
        term_months=body.term_months,
        as_of=services.event_day(body.on, "body.on"),
        method=body.method,
        purpose=body.purpose,
    )
    figures = shown.figures
    return PreviewOut(
        account_id=shown.account_id,
        currency=shown.currency,
        amount=figures.amount,
        term_months=figures.term_months,
        first_instalment=figures.first_instalment,
        total_interest=figures.total_interest,
        annualised_cost=float(figures.annualised_cost),
        available_after=figures.available_after,
        utilisation_after=figures.utilisation_after,
        debt_to_income_after=figures.debt_to_income_after,
        schedule=[
            PreviewInstalmentOut(
                number=i.number, due_on=i.due_on.isoformat(), principal_due=i.principal_due, interest_due=i.interest_due
            )
            for i in shown.schedule
        ],
        bureau_record=record_json(shown.bureau_record),
        next_review_without=_review(shown.now),
        next_review_with=_review(shown.after),
        lang=lang,
        text=shown.texts[lang],
    )
