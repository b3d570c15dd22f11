"""The credit report: what the lender tells the bureau about a line and its loans."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from linewise.ledger.bureau_file import last_reported_month, parse_reporting_month, record_json
from linewise.ledger.credit_report import account_report
from linewise.service.deps import STAFF, AccountAccess, ServicesDep, account_access
from linewise.service.schemas.common import MONTH_PATTERN, error_responses
from linewise.service.schemas.lines import CreditReportOut

__all__ = ["router"]

router = APIRouter(prefix="/accounts", tags=["bureau"])

Reader = Annotated[AccountAccess, Depends(account_access("customer", *STAFF))]


@router.get("/{account_id}/credit-report", responses=error_responses(401, 403, 404, 422))
def credit_report(
    access: Reader,
    services: ServicesDep,
    month: Annotated[
        str | None,
        Query(
            max_length=7,
            description="YYYY-MM, a month over; last month when left out.",
            json_schema_extra={"pattern": MONTH_PATTERN},
        ),
    ] = None,
) -> CreditReportOut:
    """The line's record and each loan's as reported to the bureau for a month (as ``linewise bureau show``)."""
    today = services.today()
    end = last_reported_month(today) if month is None else parse_reporting_month(month, "month", today=today)
    records = account_report(services.engine, access.account_id, end)
    return CreditReportOut(
        account_id=access.account_id, month=f"{end:%Y-%m}", records=[record_json(r) for r in records]
    )
