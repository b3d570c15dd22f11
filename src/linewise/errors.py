"""One error hierarchy for every linewise package.

Every error a user can cause carries a stable ``code`` (API, never renamed), a
``where`` (file:line, field or account id) and a ``detail``; its message follows
one template: ``<where>: <field> must be <rule>; got <value!r>``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Self

__all__ = [
    "AccountExistsError",
    "ConfigurationError",
    "DatabaseNotInitialisedError",
    "DatabaseUnreachableError",
    "IdempotencyConflictError",
    "InputError",
    "InputFileError",
    "LedgerRejected",
    "LinewiseError",
    "Problem",
    "SchemaMismatchError",
    "StrategyValidationError",
    "UnknownAccountError",
]


# A value echoed in a message is cut to this many characters: a message names the
# value, it does not repeat a megabyte of it.
SHOWN_VALUE_CHARS = 200


def shown(value: Any) -> str:
    """``repr(value)``, cut to :data:`SHOWN_VALUE_CHARS` characters with the full length said.

    Examples
    --------
    >>> shown("x" * 1000)[-25:]
    'xxx... (1,000 characters)'
    """
    text = repr(value)
    if len(text) <= SHOWN_VALUE_CHARS:
        return text
    length = len(value) if isinstance(value, str) else len(text)
    return f"{text[:SHOWN_VALUE_CHARS]}... ({length:,} characters)"


class LinewiseError(Exception):
    """Root of every error linewise raises on purpose; ``code`` names the kind for programs."""

    code = "linewise_error"


class InputError(LinewiseError, ValueError):
    """Bad input: names what is wrong and where.

    Examples
    --------
    >>> raise InputError("amount_must_be_positive", where="--amount",
    ...                  detail="amount must be > 0; got '-5'")
    Traceback (most recent call last):
    ...
    linewise.errors.InputError: --amount: amount must be > 0; got '-5'
    """

    def __init__(self, code: str, *, where: str, detail: str) -> None:
        self.code = code
        self.where = where
        self.detail = detail
        super().__init__(f"{where}: {detail}")

    @classmethod
    def for_field(
        cls, code: str, *, where: str, field: str, rule: str, value: Any
    ) -> Self:
        """Build an error with the one message template of linewise (long values cut, see :func:`shown`)."""
        return cls(code, where=where, detail=f"{field} must be {rule}; got {shown(value)}")


class LedgerRejected(InputError):
    """The ledger refused an event; nothing was written.

    Examples
    --------
    >>> raise LedgerRejected.for_field("exceeds_available_limit", where="A1",
    ...     field="amount", rule="at most the available credit 500.00", value="600.00")
    Traceback (most recent call last):
    ...
    linewise.errors.LedgerRejected: A1: amount must be at most the available credit 500.00; got '600.00'
    """


class UnknownAccountError(LedgerRejected):
    """The account id is not in the ledger.

    Examples
    --------
    >>> raise UnknownAccountError("A404")
    Traceback (most recent call last):
    ...
    linewise.errors.UnknownAccountError: A404: account_id must be an open account in the ledger; got 'A404'
    """

    def __init__(self, account_id: str) -> None:
        super().__init__(
            "account_not_found",
            where=account_id,
            detail=f"account_id must be an open account in the ledger; got {account_id!r}",
        )


class AccountExistsError(LedgerRejected):
    """A line with this account id is already open.

    Examples
    --------
    >>> raise AccountExistsError("A1")
    Traceback (most recent call last):
    ...
    linewise.errors.AccountExistsError: A1: account_id must be new; got 'A1'
    """

    def __init__(self, account_id: str) -> None:
        super().__init__(
            "account_exists",
            where=account_id,
            detail=f"account_id must be new; got {account_id!r}",
        )


class IdempotencyConflictError(LedgerRejected):
    """An idempotency key was reused for a different request.

    Examples
    --------
    >>> raise IdempotencyConflictError("k1", "amount", "100.00", "200.00")
    Traceback (most recent call last):
    ...
    linewise.errors.IdempotencyConflictError: key k1: amount must be '100.00' as first posted with this key; got '200.00'
    """

    def __init__(self, key: str, field: str, original: Any, value: Any) -> None:
        super().__init__(
            f"event_exists_with_different_{field}",
            where=f"key {key}",
            detail=f"{field} must be {original!r} as first posted with this key; got {value!r}",
        )


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input file: where, which column, which rule, what value."""

    source: str
    row: int | None
    column: str
    rule: str
    value: Any

    def __str__(self) -> str:
        where = self.source if self.row is None else f"{self.source}:{self.row}"
        return f"{where}: {self.column} must be {self.rule}; got {shown(self.value)}"


class SchemaMismatchError(InputError):
    """A file or frame broke its schema; every problem is listed and nothing was loaded.

    ``row`` numbers count data rows from 1, as a spreadsheet shows them below the header.

    Examples
    --------
    >>> raise SchemaMismatchError([Problem("panel.csv", 3, "dpd", "at least 0", -5)])
    Traceback (most recent call last):
    ...
    linewise.errors.SchemaMismatchError: panel.csv: 1 problem
      panel.csv:3: dpd must be at least 0; got -5
    """

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        source = problems[0].source if problems else "input"
        super().__init__("schema_mismatch", where=source, detail=_listing(problems))


class StrategyValidationError(InputError):
    """A strategy file is invalid; every problem is listed with its line and nothing is used.

    Examples
    --------
    >>> raise StrategyValidationError("s.yaml", [Problem("s.yaml", 42, "gates[3].value",
    ...                               "a number", "O.3")])
    Traceback (most recent call last):
    ...
    linewise.errors.StrategyValidationError: s.yaml: 1 problem
      s.yaml:42: gates[3].value must be a number; got 'O.3'
    """

    def __init__(self, source: str, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("strategy_invalid", where=source, detail=_listing(problems))


# Problems listed in one message; the count says how many more there are.
PROBLEMS_SHOWN = 50


def _listing(problems: list[Problem]) -> str:
    """"<n> problems" and the first :data:`PROBLEMS_SHOWN` of them, one per line."""
    noun = "problem" if len(problems) == 1 else "problems"
    lines = [f"  {problem}" for problem in problems[:PROBLEMS_SHOWN]]
    if len(problems) > PROBLEMS_SHOWN:
        lines.append(f"  ... and {len(problems) - PROBLEMS_SHOWN} more")
    return f"{len(problems)} {noun}\n" + "\n".join(lines)


class ConfigurationError(LinewiseError, ValueError):
    """A setting or product definition is invalid.

    Examples
    --------
    >>> raise ConfigurationError("product: annual_rate must be at most 0.24; got '0.36'")
    Traceback (most recent call last):
    ...
    linewise.errors.ConfigurationError: product: annual_rate must be at most 0.24; got '0.36'
    """

    code = "configuration_invalid"


class DatabaseNotInitialisedError(LinewiseError):
    """The database has no linewise schema (or an old one).

    Examples
    --------
    >>> raise DatabaseNotInitialisedError("sqlite:///x.db")
    Traceback (most recent call last):
    ...
    linewise.errors.DatabaseNotInitialisedError: sqlite:///x.db: database must be at the latest schema; run `linewise db upgrade`
    """

    code = "database_not_initialised"

    def __init__(self, url: str) -> None:
        super().__init__(
            f"{url}: database must be at the latest schema; run `linewise db upgrade`"
        )


class DatabaseUnreachableError(LinewiseError):
    """The database cannot be reached or opened: the server is down, refuses us, or the file's folder is missing.

    Unlike bad input, the same command may succeed once the database is back, so the
    command line exits with a status of its own (3). ``url`` is shown without its
    password.

    Examples
    --------
    >>> raise DatabaseUnreachableError("postgresql://u@db:5432/x", "connection refused")
    Traceback (most recent call last):
    ...
    linewise.errors.DatabaseUnreachableError: postgresql://u@db:5432/x: database must be reachable; got 'connection refused'
    """

    def __init__(self, url: str, reason: str, *, code: str = "database_unreachable",
                 rule: str = "reachable") -> None:
        self.code = code
        self.url = url
        self.reason = reason
        super().__init__(f"{url}: database must be {rule}; got {shown(reason)}")


class InputFileError(InputError):
    """A file a user gave cannot be read within linewise's bounds.

    It is missing, not a regular file, too large, not UTF-8, nested too deep, or uses
    YAML aliases; ``where`` is the file, with the line when one is known.

    Examples
    --------
    >>> raise InputFileError.for_field("file_too_large", where="s.yaml", field="file",
    ...                                rule="at most 1,000,000 bytes", value=4_000_000)
    Traceback (most recent call last):
    ...
    linewise.errors.InputFileError: s.yaml: file must be at most 1,000,000 bytes; got 4000000
    """
