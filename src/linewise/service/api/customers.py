"""Proofs of income and assets (the customer, or an admin); each calls for a decision on the customer's lines."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends

from linewise.ledger.store.customers import record_assets, record_income
from linewise.ledger.store.users import write_audit
from linewise.service.deciding import follow_up
from linewise.service.deps import CustomerAccess, Lang, Services, ServicesDep, customer_access
from linewise.service.schemas.common import error_responses
from linewise.service.schemas.customers import AssetProofIn, IncomeProofIn, ProofOut
from linewise.service.schemas.decisions import FollowUpOut

__all__ = ["router"]

router = APIRouter(prefix="/customers", tags=["customers"])

_ERRORS = error_responses(401, 403, 404, 422)
# The trigger a proof calls a decision by: a verified income in the month decided is
# what makes a line due (an asset proof alone calls for one only with it).
_TRIGGER = "income_proof"

Prover = Annotated[CustomerAccess, Depends(customer_access("customer", "admin"))]


@router.post("/{customer_id}/income", status_code=201, responses=_ERRORS)
def prove_income(body: IncomeProofIn, access: Prover, services: ServicesDep, lang: Lang) -> ProofOut:
    """Record a verified monthly income, then decide each of the customer's lines by the income-proof trigger."""
    row = record_income(
        services.engine,
        access.customer_id,
        income_monthly=body.amount,
        verified_on=services.event_day(body.on, "body.on"),
        source=body.source,
        evidence=body.evidence,
        today=services.today(),
        currency=body.currency,
    )
    _audit_by_staff(services, access, "income_recorded", row)
    return ProofOut(
        customer_id=access.customer_id,
        kind="income",
        amount=row["income_monthly"],
        currency=row["currency"],
        verified_on=row["verified_on"].isoformat(),
        evidence=row["evidence"],
        source=row["source"],
        follow_ups=_decide_each(services, access, lang),
    )


@router.post("/{customer_id}/assets", status_code=201, responses=_ERRORS)
def prove_assets(body: AssetProofIn, access: Prover, services: ServicesDep, lang: Lang) -> ProofOut:
    """Record verified assets, then decide each of the customer's lines by the income-proof trigger."""
    row = record_assets(
        services.engine,
        access.customer_id,
        amount=body.amount,
        verified_on=services.event_day(body.on, "body.on"),
        evidence=body.evidence,
        today=services.today(),
        currency=body.currency,
    )
    _audit_by_staff(services, access, "assets_recorded", row)
    return ProofOut(
        customer_id=access.customer_id,
        kind="assets",
        amount=row["amount"],
        currency=row["currency"],
        verified_on=row["verified_on"].isoformat(),
        evidence=row["evidence"],
        follow_ups=_decide_each(services, access, lang),
    )


def _decide_each(services: Services, access: CustomerAccess, lang: Lang) -> dict[str, FollowUpOut]:
    analyst = not access.who.is_customer
    return {
        account: follow_up(services, account, trigger=_TRIGGER, lang=lang, analyst=analyst, duplicate=False)
        for account in access.accounts
    }


def _audit_by_staff(services: Services, access: CustomerAccess, action: str, row: dict[str, Any]) -> None:
    """An admin recording a customer's proof is audited (the customer's own is in the customer tables)."""
    if access.who.is_customer:
        return
    detail = {key: value.isoformat() if hasattr(value, "isoformat") else value for key, value in row.items()}
    write_audit(
        services.engine,
        actor=access.who.username,
        action=action,
        target=f"customer:{access.customer_id}",
        at=services.now(),
        ref=f"{action}:{row['id']}",
        detail=detail,
    )
