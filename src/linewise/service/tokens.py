"""Bearer tokens: a JWT signed with HS256, naming the user, its role and customer, and when it ends."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import jwt

from linewise.errors import AccessDeniedError

__all__ = ["Principal", "issue_token", "read_token"]

_ALGORITHM = "HS256"
_ISSUER = "linewise"


@dataclass(frozen=True)
class Principal:
    """Who asks: a username, its role and, for a customer, the customer it is."""

    username: str
    role: str
    customer_id: str | None

    @property
    def is_customer(self) -> bool:
        """Whether this is a customer (who sees only its own lines)."""
        return self.role == "customer"


def issue_token(principal: Principal, *, secret: str, now: datetime, minutes: int) -> str:
    """A token for ``principal`` valid from ``now`` for ``minutes``."""
    claims: dict[str, Any] = {
        "iss": _ISSUER,
        "sub": principal.username,
        "role": principal.role,
        "cid": principal.customer_id,
        "iat": int(now.timestamp()),
        "exp": int((now + timedelta(minutes=minutes)).timestamp()),
    }
    return jwt.encode(claims, secret, algorithm=_ALGORITHM)


def read_token(token: str, *, secret: str, now: datetime) -> Principal:
    """The principal ``token`` names; AccessDeniedError ``token_invalid`` or ``token_expired`` otherwise.

    Expiry is checked against ``now`` (the service's clock), not PyJWT's own.
    """
    try:
        claims = jwt.decode(
            token,
            secret,
            algorithms=[_ALGORITHM],
            issuer=_ISSUER,
            options={"verify_exp": False, "require": ["iss", "sub", "role", "exp", "iat"]},
        )
    except jwt.PyJWTError:
        raise _refused("token_invalid", "a token this service signed") from None
    expires = claims["exp"]
    if not isinstance(expires, int) or not isinstance(claims["sub"], str) or not isinstance(claims["role"], str):
        raise _refused("token_invalid", "a token this service signed")
    if expires <= now.timestamp():
        raise _refused("token_expired", "a token that has not expired (sign in again at POST /auth/token)")
    customer = claims.get("cid")
    return Principal(claims["sub"], claims["role"], customer if isinstance(customer, str) else None)


def _refused(code: str, rule: str) -> AccessDeniedError:
    return AccessDeniedError(code, where="Authorization", detail=f"bearer token must be {rule}")
