"""Signing in, who is signed in, and the audit log."""

from __future__ import annotations

from typing import Any

from linewise.service.schemas.common import Out, PageOut

__all__ = ["AuditEntryOut", "AuditPageOut", "MeOut", "TokenOut"]


class TokenOut(Out):
    """A bearer token (OAuth2's token response) and the role it carries."""

    access_token: str
    token_type: str = "bearer"
    expires_in: int
    role: str


class MeOut(Out):
    """The signed-in user."""

    username: str
    role: str
    customer_id: str | None


class AuditEntryOut(Out):
    """One row of the audit log."""

    at: str
    actor: str
    action: str
    target: str
    ref: str | None
    reason: str | None
    detail: dict[str, Any]


class AuditPageOut(PageOut):
    """A page of the audit log, newest first."""

    items: list[AuditEntryOut]
