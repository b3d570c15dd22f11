"""Decisions made on a ledger book take effect on their lines.

Each logged decision becomes a :class:`~linewise.ledger.decisions.LineDecision`
referenced ``decision:<run>:<account>``, so applying it again writes nothing, and
carrying the line's version as the decision read it, so a line that moved since is
refused (``decision_stale``) rather than changed on an old picture.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pandas as pd
from sqlalchemy import Engine

from linewise.errors import InputError
from linewise.ledger.decisions import Applied, LineDecision, Refused, apply_decisions
from linewise.review.run import Decided

__all__ = ["apply_decided", "decision_ref", "outcome_record"]


def decision_ref(run_id: int, account_id: str) -> str:
    """The stable reference of a logged decision: what its ledger events are keyed by."""
    return f"decision:{run_id}:{account_id}"


def apply_decided(
    engine: Engine, decided: Decided, *, on_progress: Callable[[int, int], None] | None = None
) -> list[Applied | Refused]:
    """Apply every decision of a logged run on a ledger book; one outcome per decision, in order.

    Raises InputError (``apply_needs_ledger``, ``apply_needs_log``) when the decisions
    were not made on a ledger book or were not logged: a change to a line must name the
    decision that made it.
    """
    if decided.book.lines is None:
        raise InputError.for_field(
            "apply_needs_ledger",
            where=decided.book.source,
            field="--apply",
            rule="used on decisions made from the ledger (--ledger or decide)",
            value=True,
        )
    if decided.run_id is None:
        raise InputError.for_field(
            "apply_needs_log",
            where="--apply",
            field="--log",
            rule="on: a change to a line names the logged decision that made it",
            value=False,
        )
    versions = decided.context.get("line_version", pd.Series(dtype="float64"))
    records: list[dict[str, Any]] = decided.decisions.to_dict("records")  # type: ignore[assignment]
    decisions = [
        LineDecision(
            account_id=str(row["account_id"]),
            decision_ref=decision_ref(decided.run_id, str(row["account_id"])),
            action=row["action"],
            current_limit=int(row["current_limit"]),
            new_limit=int(row["new_limit"]),
            decided_on=decided.book.as_of,
            seen_version=_version(versions.get(str(row["account_id"]))),
            reason_code=_headline(row["reasons"], str(row["action"])),
        )
        for row in records
    ]
    return apply_decisions(engine, decisions, on_progress=on_progress)


def _version(value: Any) -> int | None:
    return None if value is None or pd.isna(value) else int(value)


def _headline(reasons: Any, action: str) -> str:
    """The code a limit or status event carries: the decision's first reason, else its action."""
    codes = list(reasons)
    return str(codes[0]) if codes else f"decision_{action}"


def outcome_record(outcome: Applied | Refused) -> dict[str, Any]:
    """An outcome as plain data (what ``--json`` prints)."""
    if isinstance(outcome, Refused):
        return {
            "account_id": outcome.account_id,
            "decision_ref": outcome.decision_ref,
            "applied": False,
            "refused": outcome.code,
            "detail": str(outcome.error),
        }
    return {
        "account_id": outcome.account_id,
        "decision_ref": outcome.decision_ref,
        "applied": bool(outcome.events) and not outcome.duplicate,
        "events": list(outcome.events),
        "limit_before": outcome.limit_before,
        "limit_after": outcome.limit_after,
        "status_before": outcome.status_before.value,
        "status_after": outcome.status_after.value,
        "duplicate": outcome.duplicate,
        "kept_frozen_by_hand": outcome.kept_frozen_by_hand,
    }
