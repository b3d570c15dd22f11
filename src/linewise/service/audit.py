"""The audit rows of staff actions on lines, written beside the ledger events they posted."""

from __future__ import annotations

from typing import Any

from linewise.ledger.service import PostingResult
from linewise.ledger.store.users import write_audit
from linewise.service.deps import Services
from linewise.service.tokens import Principal

__all__ = ["audit_posting"]


def audit_posting(
    services: Services,
    who: Principal,
    action: str,
    posted: PostingResult,
    *,
    reason: str | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    """Log ``action`` by ``who`` on the posted event's line, keyed by the event's idempotency key.

    The ledger posts an event in a transaction of its own, so the row follows it in
    another; keyed by the event, a retry of the request (a duplicate posting) writes
    the row a failure in between left out, and never a second one.
    """
    result = posted.result
    write_audit(
        services.engine,
        actor=who.username,
        action=action,
        target=f"account:{result['account_id']}",
        at=services.now(),
        reason=reason,
        ref=str(result["idempotency_key"]),
        detail={"kind": result["kind"], "occurred_on": result["occurred_on"], **(detail or {})},
    )
