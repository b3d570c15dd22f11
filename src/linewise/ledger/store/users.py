"""Users of the service and the audit log.

A user has a unique username, an argon2 hash of its password (hashed by the caller:
the store never sees a password), a role (:data:`USER_ROLES`) and, for a customer
user, the customer it is: one of the ledger's ``lines.customer_id``. Staff (analysts
and admins) have no customer.

The audit log is append-only: who did what to which target, when, why, and the
details as JSON. A row carrying a ``ref`` (the idempotency key of the ledger event an
action posted) is written once per target and ref, so that a retried request
completes a trail a failure cut short and never doubles it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, func, insert, select
from sqlalchemy.exc import IntegrityError

from linewise.errors import InputError
from linewise.inputs import parse_id, parse_reason
from linewise.ledger.store.customers import customer_accounts
from linewise.ledger.store.tables import USER_ROLES, audit_log, users
from linewise.ledger.store.unit_of_work import UnitOfWork, read_snapshot

__all__ = [
    "USER_ROLES",
    "AuditEntry",
    "NewUser",
    "User",
    "add_user",
    "check_role",
    "find_login",
    "read_audit",
    "record_audit",
    "write_audit",
]

# An action's name is a code; a target names what it acted on ("account:A1", "user:ann").
_TARGET_MAX = 128
# The details of one audit row, as JSON: an action's fields, never a document.
_DETAIL_MAX_CHARS = 4_000


@dataclass(frozen=True)
class User:
    """A user as the service knows it (never the password nor its hash)."""

    user_id: int
    username: str
    role: str
    customer_id: str | None
    created_at: datetime


@dataclass(frozen=True)
class NewUser:
    """A user to add: its name, role, the customer a customer user is, and its password's hash."""

    username: str
    role: str
    password_hash: str
    customer_id: str | None = None


@dataclass(frozen=True)
class AuditEntry:
    """One row of the audit log."""

    at: datetime
    actor: str
    action: str
    target: str
    ref: str | None
    reason: str | None
    detail: dict[str, Any]


def check_role(role: str, customer_id: str | None, field: str = "role") -> None:
    """Raise InputError unless ``role`` is a role and ``customer_id`` is given exactly for a customer.

    Codes: ``role_unknown``, ``customer_required`` (a customer without its customer id),
    ``customer_not_allowed`` (staff with one).
    """
    if role not in USER_ROLES:
        raise InputError.for_field(
            "role_unknown", where=field, field=field, rule=f"one of {list(USER_ROLES)}", value=role
        )
    if role == "customer" and customer_id is None:
        raise InputError.for_field(
            "customer_required", where=field, field="customer", rule="given for a customer user", value=None
        )
    if role != "customer" and customer_id is not None:
        raise InputError.for_field(
            "customer_not_allowed",
            where=field,
            field="customer",
            rule=f"left out for a user of role {role} (staff see every line)",
            value=customer_id,
        )


def add_user(engine: Engine, new: NewUser, *, actor: str, now: datetime) -> User:
    """Add ``new`` and its audit row in one transaction; the user stored.

    Raises ``id_malformed`` for a username outside the id alphabet, the codes of
    :func:`check_role`, ``customer_not_found`` for a customer with no line in the
    ledger, and ``username_taken`` (a conflict) for a username in use. Nothing is
    written on any of them.
    """
    username = parse_id(new.username, "username")
    customer_id = None if new.customer_id is None else parse_id(new.customer_id, "customer")
    check_role(new.role, customer_id)
    try:
        with _writing(engine) as conn:
            if customer_id is not None:
                customer_accounts(conn, customer_id)
            row = {
                "username": username,
                "password_hash": new.password_hash,
                "role": new.role,
                "customer_id": customer_id,
                "created_at": now,
            }
            user_id = conn.execute(insert(users).values(row).returning(users.c.id)).scalar_one()
            record_audit(
                conn,
                actor=actor,
                action="user_added",
                target=f"user:{username}",
                at=now,
                detail={"role": new.role, "customer_id": customer_id},
            )
    except IntegrityError:
        raise InputError.for_field(
            "username_taken", where="username", field="username", rule="not yet in use", value=username
        ) from None
    return User(int(user_id), username, new.role, customer_id, now)


@contextmanager
def _writing(engine: Engine) -> Iterator[Connection]:
    with UnitOfWork(engine) as uow:
        yield uow.conn
        uow.commit()


def find_login(engine: Engine, username: str) -> tuple[User, str] | None:
    """The user called ``username`` and its password hash; None when there is none."""
    with read_snapshot(engine) as conn:
        row = conn.execute(select(users).where(users.c.username == username)).mappings().first()
    if row is None:
        return None
    user = User(int(row["id"]), row["username"], row["role"], row["customer_id"], row["created_at"])
    return user, str(row["password_hash"])


def record_audit(
    conn: Connection,
    *,
    actor: str,
    action: str,
    target: str,
    at: datetime,
    reason: str | None = None,
    ref: str | None = None,
    detail: dict[str, Any] | None = None,
) -> bool:
    """Append an audit row in the caller's transaction; False when (target, ref) is already logged.

    ``action`` and ``reason`` are codes; ``detail`` plain JSON data.
    """
    parse_reason(action, "action")
    if reason is not None:
        parse_reason(reason, "reason")
    text = json.dumps(detail or {}, sort_keys=True, ensure_ascii=False, default=str)
    assert len(target) <= _TARGET_MAX, target
    assert len(text) <= _DETAIL_MAX_CHARS, len(text)
    if ref is not None:
        logged = conn.execute(
            select(func.count()).select_from(audit_log).where(audit_log.c.target == target, audit_log.c.ref == ref)
        ).scalar_one()
        if logged:
            return False
    conn.execute(
        insert(audit_log).values(at=at, actor=actor, action=action, target=target, ref=ref, reason=reason, detail=text)
    )
    return True


def write_audit(
    engine: Engine,
    *,
    actor: str,
    action: str,
    target: str,
    at: datetime,
    reason: str | None = None,
    ref: str | None = None,
    detail: dict[str, Any] | None = None,
) -> bool:
    """:func:`record_audit` in a transaction of its own (for an effect another transaction made)."""
    try:
        with _writing(engine) as conn:
            return record_audit(
                conn, actor=actor, action=action, target=target, at=at, reason=reason, ref=ref, detail=detail
            )
    except IntegrityError:  # a concurrent retry logged the same (target, ref) first
        return False


def read_audit(engine: Engine, *, target: str | None, limit: int, offset: int) -> tuple[list[AuditEntry], int]:
    """A page of the audit log (of one target, when given), newest first, and how many rows there are."""
    where = [] if target is None else [audit_log.c.target == target]
    with read_snapshot(engine) as conn:
        total = conn.execute(select(func.count()).select_from(audit_log).where(*where)).scalar_one()
        rows = conn.execute(
            select(audit_log).where(*where).order_by(audit_log.c.id.desc()).limit(limit).offset(offset)
        ).mappings()
        entries = [
            AuditEntry(
                row["at"],
                row["actor"],
                row["action"],
                row["target"],
                row["ref"],
                row["reason"],
                json.loads(row["detail"]),
            )
            for row in rows
        ]
    return entries, int(total)
