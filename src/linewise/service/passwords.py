"""Passwords: checked, hashed with argon2id, verified in the same time whether the user exists."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from linewise.errors import InputError

__all__ = ["PASSWORD_MAX_CHARS", "PASSWORD_MIN_CHARS", "check_password", "hash_password", "verify_password"]

# NIST SP 800-63B: at least 8 characters, and take long passphrases; the upper bound
# keeps one login from costing the server more than hashing a passphrase does.
PASSWORD_MIN_CHARS = 8
PASSWORD_MAX_CHARS = 256

# argon2-cffi's defaults (RFC 9106's second recommended option: argon2id, 64 MiB, 3
# passes): about 50 ms a hash on this project's machines.
_HASHER = PasswordHasher()
# Verified against when the username is unknown, so that a wrong username costs what a
# wrong password does and the answer's timing does not tell which users exist.
_UNKNOWN_USER_HASH = _HASHER.hash("linewise: no such user")


def check_password(password: str, field: str = "password") -> str:
    """``password`` if its length is within the bounds; else ``password_too_short`` or ``password_too_long``."""
    if len(password) < PASSWORD_MIN_CHARS:
        raise InputError.for_field(
            "password_too_short",
            where=field,
            field=f"{field} length",
            rule=f"at least {PASSWORD_MIN_CHARS} characters",
            value=len(password),
        )
    if len(password) > PASSWORD_MAX_CHARS:
        raise InputError.for_field(
            "password_too_long",
            where=field,
            field=f"{field} length",
            rule=f"at most {PASSWORD_MAX_CHARS} characters",
            value=len(password),
        )
    return password


def hash_password(password: str) -> str:
    """The argon2id hash of ``password`` (checked by :func:`check_password` first)."""
    return _HASHER.hash(check_password(password))


def verify_password(password_hash: str | None, password: str) -> bool:
    """Whether ``password`` is the one ``password_hash`` was made from (None: an unknown user, never)."""
    if len(password) > PASSWORD_MAX_CHARS:
        return False
    try:
        _HASHER.verify(_UNKNOWN_USER_HASH if password_hash is None else password_hash, password)
    except (VerificationError, InvalidHashError):
        return False
    return password_hash is not None
