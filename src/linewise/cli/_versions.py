"""What `linewise strategy` and `linewise model` share for versions: activate, list, and how a stored one is told."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from rich.markup import escape
from rich.table import Table
from sqlalchemy import Engine

from linewise.cli._common import console, emit
from linewise.ledger.store.versions import LIST_MAX, Activation, StoredVersion

__all__ = ["activate", "stored", "versions"]


def _at(when: datetime) -> str:
    return f"{when:%Y-%m-%d %H:%M} UTC"


def _activation(made: Activation | None) -> dict[str, Any] | None:
    if made is None:
        return None
    return {
        "activation": made.id,
        "ref": made.ref,
        "activated_by": made.activated_by,
        "activated_at": made.activated_at.isoformat(),
        "note": made.note,
    }


def stored(version: StoredVersion, *, created: bool, as_json: bool) -> None:
    """Tell a version stored (or found stored already)."""
    payload = {
        "kind": version.kind,
        "ref": version.ref,
        "sha256": version.sha256,
        "created": created,
        "stored_at": version.stored_at.isoformat(),
        "stored_by": version.stored_by,
    }
    if version.kind == "model":
        payload |= {"model_kind": version.model_kind, "currency": version.currency}
    told = (
        f"stored {version.kind} {version.ref} (sha256 {version.sha256[:12]})"
        if created
        else f"{version.kind} {version.ref} is stored already, with the same content: nothing written"
    )
    emit(as_json, payload, lambda: console.print(told))


def activate(engine: Engine, kind: str, ref: str, *, by: str, note: str | None, as_json: bool) -> None:
    """Activate the stored ``ref`` of ``kind`` by ``by`` and tell it (refusals raise, for user_errors)."""
    from linewise.review.versions import activate_version

    made = activate_version(engine, kind, ref, by=by, note=note, now=datetime.now(UTC))
    told = (
        f"{kind} {made.ref} is active (activation {made.id}, by {made.activated_by} at {_at(made.activated_at)}); "
        "a running service decides with it from its next look at the database (within "
        "LINEWISE_DECIDER_CHECK_SECONDS)"
    )
    emit(as_json, {"kind": kind, **(_activation(made) or {})}, lambda: console.print(told))


def versions(engine: Engine, kind: str, *, as_json: bool) -> None:
    """List the stored versions of ``kind`` (the newest LIST_MAX), the active one marked."""
    from linewise.review.versions import list_stored

    listed = list_stored(engine, kind, limit=LIST_MAX, offset=0)
    rows = [
        {
            "ref": entry.version.ref,
            "sha256": entry.version.sha256,
            "currency": entry.currency,
            "model_kind": entry.version.model_kind,
            "stored_at": entry.version.stored_at.isoformat(),
            "stored_by": entry.version.stored_by,
            "active": entry.is_active,
            "last_activation": _activation(entry.last_activation),
        }
        for entry in listed.items
    ]
    payload = {"kind": kind, "active": _activation(listed.active), "total": listed.total, "versions": rows}

    def render() -> None:
        if listed.active is None:
            console.print(f"no {kind} is active in the database")
        else:
            made = listed.active
            note = f": {escape(made.note)}" if made.note else ""
            console.print(
                f"active {kind}: {made.ref}, activated by {made.activated_by} at {_at(made.activated_at)}{note}"
            )
        shown = f"{len(rows)} of {listed.total}" if listed.total > len(rows) else f"{listed.total}"
        table = Table(title=f"stored {kind} versions ({shown}, newest first)", title_justify="left")
        for column in ("", "ref", "currency", "stored", "by", "last activated"):
            table.add_column(column)
        for entry in listed.items:
            last = entry.last_activation
            table.add_row(
                "*" if entry.is_active else "",
                entry.version.ref,
                entry.currency or "-",
                _at(entry.version.stored_at),
                entry.version.stored_by or "(decision log)",
                "-" if last is None else f"{_at(last.activated_at)} by {last.activated_by}",
            )
        console.print(table)

    emit(as_json, payload, render)
