"""Versions of strategies and models in the database, and which of each is active.

A strategy's text is stored once per ``id@version`` in ``strategies`` (the table the
decision log keeps the strategies of its runs in), a model's files once per
``id@version`` in ``model_versions``. Storing what is stored already writes nothing;
the same ref with other content is refused, so a ref always means one strategy or
one model.

``activations`` is append-only: the active version of a kind is that of its latest
activation, so the history of who activated what and when is the table itself. Each
activation and each version stored is written with its audit row in one
transaction; the row's target is the kind (``strategy`` or ``model``: what the
service decides with), the version's ref is in its details.

The store checks refs, notes and who activates; what a strategy or model holds is
checked above it (:mod:`linewise.review.versions`), before anything reaches here.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine, Table, func, insert, select
from sqlalchemy.exc import IntegrityError

from linewise.errors import InputError
from linewise.inputs import parse_id
from linewise.ledger.store.tables import VERSION_KINDS, activations, model_versions, strategies, users
from linewise.ledger.store.unit_of_work import UnitOfWork, read_snapshot
from linewise.ledger.store.users import record_audit

__all__ = [
    "LIST_MAX",
    "NOTE_MAX_CHARS",
    "REF_MAX_LENGTH",
    "VERSION_KINDS",
    "Activation",
    "ModelFiles",
    "StoredVersion",
    "active",
    "check_activator",
    "check_note",
    "check_ref",
    "files_sha256",
    "latest_activation_id",
    "latest_activations",
    "list_versions",
    "read_model_files",
    "read_strategy_text",
    "read_strategy_texts",
    "record_activation",
    "store_model",
    "store_strategy",
    "stored_version",
]

# The strategies' and model versions' ref columns.
REF_MAX_LENGTH = 128
# A note says why, in a sentence or a paragraph; it is no place for a document.
NOTE_MAX_CHARS = 500
# Versions listed at once: a strategy or model is versioned by hand, a few a month.
LIST_MAX = 200

_REF = re.compile(rf"(?=.{{3,{REF_MAX_LENGTH}}}\Z)[A-Za-z0-9][A-Za-z0-9._:-]*@[A-Za-z0-9._:-]+")
_REF_RULE = (
    f"id@version in at most {REF_MAX_LENGTH} ASCII letters, digits, '.', '_', ':' or '-' "
    "(the id starting with a letter or digit)"
)
# Control characters but the new line: a note is shown as it was typed.
_CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f\x7f]")


@dataclass(frozen=True)
class StoredVersion:
    """A stored strategy or model: its ref, the SHA-256 of its content, when and by whom it was stored.

    ``stored_by`` is None for a strategy the decision log stored with a run;
    ``model_kind`` and ``currency`` are a model's (its manifest's kind, and its
    currency when the manifest names one).
    """

    kind: str
    ref: str
    sha256: str
    stored_at: datetime
    stored_by: str | None
    model_kind: str | None = None
    currency: str | None = None


@dataclass(frozen=True)
class Activation:
    """One activation: from ``activated_at`` on, ``ref`` is the active version of ``kind``."""

    id: int
    kind: str
    ref: str
    activated_by: str
    activated_at: datetime
    note: str | None


@dataclass(frozen=True)
class ModelFiles:
    """A model version to store: its ref and kind (from its manifest), currency, and every file as text."""

    ref: str
    model_kind: str
    currency: str | None
    files: Mapping[str, str]


def check_ref(text: str, field: str) -> str:
    """``text`` if it is a version's ref (``id@version``); else ``ref_malformed``."""
    if _REF.fullmatch(text) is None:
        raise InputError.for_field("ref_malformed", where=field, field=field, rule=_REF_RULE, value=text)
    return text


def check_note(text: str | None, field: str) -> str | None:
    """``text`` if it may be an activation's note (None: no note); else ``note_malformed``."""
    if text is None:
        return None
    if len(text) > NOTE_MAX_CHARS or _CONTROL.search(text):
        raise InputError.for_field(
            "note_malformed",
            where=field,
            field=field,
            rule=f"at most {NOTE_MAX_CHARS} characters without control characters (new lines allowed)",
            value=text,
        )
    return text


def files_sha256(files: Mapping[str, str]) -> str:
    """The SHA-256 of a model's files: each name and text, in name order, each with its length."""
    digest = hashlib.sha256()
    for name in sorted(files):
        for part in (name.encode(), files[name].encode()):
            digest.update(len(part).to_bytes(8, "big"))
            digest.update(part)
    return digest.hexdigest()


# --- storing ---------------------------------------------------------------------------------


def store_strategy(engine: Engine, *, ref: str, text: str, by: str, now: datetime) -> tuple[StoredVersion, bool]:
    """Store a checked strategy's text under ``ref``; the version stored, and whether this call stored it.

    The same text stored again writes nothing; another text under a stored ref is
    refused (``strategy_ref_reused``). A new version is audited as ``strategy_stored``.
    """
    ref = check_ref(ref, "strategy")
    digest = hashlib.sha256(text.encode()).hexdigest()
    row = {"ref": ref, "sha256": digest, "text": text, "stored_at": now, "stored_by": by}
    return _store(engine, "strategy", strategies, row, code="strategy_ref_reused")


def store_model(engine: Engine, model: ModelFiles, *, by: str, now: datetime) -> tuple[StoredVersion, bool]:
    """Store a checked model's files under its ref; the version stored, and whether this call stored it.

    The same files and currency stored again write nothing; other files or another
    currency under a stored ref are refused (``model_ref_reused``). A new version is
    audited as ``model_stored``.
    """
    ref = check_ref(model.ref, "model")
    row = {
        "ref": ref,
        "sha256": files_sha256(model.files),
        "kind": model.model_kind,
        "currency": model.currency,
        "files": json.dumps(dict(model.files), ensure_ascii=False, sort_keys=True),
        "stored_at": now,
        "stored_by": by,
    }
    return _store(engine, "model", model_versions, row, code="model_ref_reused")


def _store(engine: Engine, kind: str, table: Table, row: dict[str, Any], *, code: str) -> tuple[StoredVersion, bool]:
    try:
        with _writing(engine) as conn:
            stored = _stored_or_none(conn, kind, row["ref"])
            if stored is not None:
                return _same(stored, row, code), False
            conn.execute(insert(table).values(row))
            stored = _version(kind, {"kind": None, "currency": None, **row})
            record_audit(
                conn,
                actor=row["stored_by"],
                action=f"{kind}_stored",
                target=kind,
                at=row["stored_at"],
                detail={"ref": row["ref"], "sha256": row["sha256"]},
            )
    except IntegrityError:  # stored by someone else since we looked: the same rule holds
        with read_snapshot(engine) as conn:
            stored = stored_version(conn, kind, row["ref"])
        return _same(stored, row, code), False
    return stored, True


def _same(stored: StoredVersion, row: Mapping[str, Any], code: str) -> StoredVersion:
    """``stored`` when ``row`` holds what it holds; else ``code`` naming what differs."""
    what = "text" if stored.kind == "strategy" else "files"
    if stored.sha256 != row["sha256"]:
        raise InputError.for_field(
            code,
            where=f"{stored.kind} {stored.ref}",
            field=what,
            rule=f"the {what} stored under {stored.ref} (raise the version when they change)",
            value=f"sha256 {row['sha256'][:12]}, not the stored {stored.sha256[:12]}",
        )
    if stored.kind == "model" and stored.currency != row["currency"]:
        raise InputError.for_field(
            code,
            where=f"{stored.kind} {stored.ref}",
            field="currency",
            rule=f"the currency stored with {stored.ref}, {stored.currency or 'none'}",
            value=row["currency"],
        )
    return stored


@contextmanager
def _writing(engine: Engine) -> Iterator[Connection]:
    with UnitOfWork(engine) as uow:
        yield uow.conn
        uow.commit()


# --- reading ---------------------------------------------------------------------------------


def _kind(kind: str) -> str:
    assert kind in VERSION_KINDS, kind
    return kind


def _utc(at: datetime) -> datetime:
    """``at`` with its zone: SQLite hands back the UTC times it was given without one."""
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)


def _version(kind: str, row: Mapping[Any, Any]) -> StoredVersion:
    stored_at = _utc(row["stored_at"])
    if kind == "model":
        return StoredVersion(
            "model", row["ref"], row["sha256"], stored_at, row["stored_by"], row["kind"], row["currency"]
        )
    return StoredVersion("strategy", row["ref"], row["sha256"], stored_at, row["stored_by"])


def _columns(kind: str) -> list[Any]:
    if _kind(kind) == "model":
        c = model_versions.c
        return [c.ref, c.sha256, c.stored_at, c.stored_by, c.kind, c.currency]
    s = strategies.c
    return [s.ref, s.sha256, s.stored_at, s.stored_by]


def _table(kind: str) -> Table:
    return model_versions if _kind(kind) == "model" else strategies


def _stored_or_none(conn: Connection, kind: str, ref: str) -> StoredVersion | None:
    row = conn.execute(select(*_columns(kind)).where(_table(kind).c.ref == ref)).mappings().first()
    return None if row is None else _version(kind, row)


def stored_version(conn: Connection, kind: str, ref: str) -> StoredVersion:
    """The stored version ``ref`` of ``kind``; ``ref_malformed``, or ``version_not_found`` when it was never stored."""
    stored = _stored_or_none(conn, kind, check_ref(ref, kind))
    if stored is None:
        command = "linewise strategy store FILE" if kind == "strategy" else "linewise model store DIR"
        raise InputError.for_field(
            "version_not_found",
            where=f"{kind} {ref}",
            field=kind,
            rule=f"a stored version (store it first: {command})",
            value=ref,
        )
    return stored


def read_strategy_text(conn: Connection, ref: str) -> tuple[StoredVersion, str]:
    """The stored strategy ``ref`` and its text (``version_not_found`` when never stored)."""
    stored = stored_version(conn, "strategy", ref)
    text = conn.execute(select(strategies.c.text).where(strategies.c.ref == ref)).scalar_one()
    return stored, str(text)


def read_model_files(conn: Connection, ref: str) -> tuple[StoredVersion, dict[str, str]]:
    """The stored model ``ref`` and its files as stored: name -> text (``version_not_found`` when never stored).

    The files are what was stored; they are not checked here (a model is built from
    them above the store, which refuses files that are not a model's).
    """
    stored = stored_version(conn, "model", ref)
    text = conn.execute(select(model_versions.c.files).where(model_versions.c.ref == ref)).scalar_one()
    try:
        files = json.loads(text)
    except ValueError:
        files = None
    if not isinstance(files, dict) or not all(isinstance(v, str) for v in files.values()):
        raise InputError.for_field(
            "model_invalid",
            where=f"model {ref}",
            field="stored files",
            rule="a JSON object of file names and texts, as `linewise model store` stores them",
            value=text[:40],
        )
    return stored, files


def list_versions(conn: Connection, kind: str, *, limit: int, offset: int) -> tuple[list[StoredVersion], int]:
    """A page of the stored versions of ``kind``, newest first, and how many there are."""
    table = _table(kind)
    total = conn.execute(select(func.count()).select_from(table)).scalar_one()
    rows = conn.execute(
        select(*_columns(kind)).order_by(table.c.stored_at.desc(), table.c.ref).limit(limit).offset(offset)
    ).mappings()
    return [_version(kind, row) for row in rows], int(total)


def read_strategy_texts(conn: Connection, refs: list[str]) -> dict[str, str]:
    """The text of each stored strategy of ``refs`` (a ref never stored is left out)."""
    rows = conn.execute(select(strategies.c.ref, strategies.c.text).where(strategies.c.ref.in_(refs))).all()
    return {row.ref: str(row.text) for row in rows}


def _activation(row: Any) -> Activation:
    return Activation(int(row.id), row.kind, row.ref, row.activated_by, _utc(row.activated_at), row.note)


def active(conn: Connection, kind: str) -> Activation | None:
    """The latest activation of ``kind``: its ref is the active version (None: none was ever activated)."""
    row = conn.execute(
        select(activations).where(activations.c.kind == _kind(kind)).order_by(activations.c.id.desc()).limit(1)
    ).first()
    return None if row is None else _activation(row)


def latest_activations(conn: Connection, kind: str, refs: list[str]) -> dict[str, Activation]:
    """The latest activation of each of ``refs`` that was ever activated."""
    rows = conn.execute(
        select(activations)
        .where(activations.c.kind == _kind(kind), activations.c.ref.in_(refs))
        .order_by(activations.c.id)
    ).all()
    return {row.ref: _activation(row) for row in rows}


def latest_activation_id(conn: Connection) -> int | None:
    """The id of the latest activation of any kind (None: none yet): it changes when anything is activated."""
    found = conn.execute(select(func.max(activations.c.id))).scalar_one_or_none()
    return None if found is None else int(found)


# --- activating ------------------------------------------------------------------------------


def check_activator(conn: Connection, username: str, field: str) -> str:
    """``username`` if it names an admin user of the service; else ``id_malformed`` or ``admin_required``."""
    parse_id(username, field)
    role = conn.execute(select(users.c.role).where(users.c.username == username)).scalar_one_or_none()
    if role != "admin":
        told = "no user of the service" if role is None else f"a user of role {role}"
        raise InputError.for_field(
            "admin_required",
            where=field,
            field=field,
            rule=f"an admin user of the service (linewise user add NAME --role admin), not {told}",
            value=username,
        )
    return username


def record_activation(conn: Connection, kind: str, ref: str, *, by: str, note: str | None, at: datetime) -> Activation:
    """Make ``ref`` the active version of ``kind`` in the caller's transaction, with its audit row.

    Raises ``admin_required`` unless ``by`` is an admin user, ``ref_malformed``, or
    ``version_not_found`` when ``ref`` was never stored, ``note_malformed`` for a note
    past its bounds.
    """
    check_activator(conn, by, "by")
    note = check_note(note, "note")
    stored = stored_version(conn, kind, ref)
    activation_id = conn.execute(
        insert(activations)
        .values(kind=kind, ref=ref, activated_by=by, activated_at=at, note=note)
        .returning(activations.c.id)
    ).scalar_one()
    record_audit(
        conn,
        actor=by,
        action=f"{kind}_activated",
        target=kind,
        at=at,
        ref=f"activation:{activation_id}",
        detail={"ref": ref, "activation": int(activation_id), "sha256": stored.sha256, "note": note},
    )
    return Activation(int(activation_id), kind, ref, by, at, note)
