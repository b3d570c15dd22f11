"""The audit log, read by admins."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from linewise.inputs import parse_key
from linewise.ledger.store.users import read_audit
from linewise.service.deps import ServicesDep, role_in
from linewise.service.schemas.auth import AuditEntryOut, AuditPageOut
from linewise.service.schemas.common import KEY_PATTERN, PAGE_MAX, error_responses

__all__ = ["router"]

router = APIRouter(tags=["audit"])


@router.get("/audit", responses=error_responses(401, 403, 422), dependencies=[Depends(role_in("admin"))])
def audit_log(
    services: ServicesDep,
    target: Annotated[
        str | None, Query(max_length=128, description="e.g. account:A1", json_schema_extra={"pattern": KEY_PATTERN})
    ] = None,
    limit: Annotated[int, Query(ge=1, le=PAGE_MAX)] = 50,
    offset: Annotated[int, Query(ge=0, le=2**31)] = 0,
) -> AuditPageOut:
    """Who did what to which line or user, when and why; newest first (admin)."""
    target = None if target is None else parse_key(target, "target")
    entries, total = read_audit(services.engine, target=target, limit=limit, offset=offset)
    items = [
        AuditEntryOut(
            at=e.at.isoformat(),
            actor=e.actor,
            action=e.action,
            target=e.target,
            ref=e.ref,
            reason=e.reason,
            detail=e.detail,
        )
        for e in entries
    ]
    return AuditPageOut(items=items, limit=limit, offset=offset, total=total)
