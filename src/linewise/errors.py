"""One error hierarchy for every linewise package, and the catalogue of its codes.

Every error a user can cause carries a stable ``code`` (API, never renamed), a
``where`` (file:line, field or account id) and a ``detail``; its message follows
one template: ``<where>: <field> must be <rule>; got <value!r>``. Every code is in
:data:`ERROR_CODES` with its :class:`ErrorKind`, which says how an edge tells it (the
HTTP status, see :class:`ErrorKind`); a test reads the source to check that every
code raised is catalogued and every catalogued code is raised.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Self

__all__ = [
    "ERROR_CODES",
    "AccessDeniedError",
    "AccountExistsError",
    "ConfigurationError",
    "DatabaseNotInitialisedError",
    "DatabaseUnreachableError",
    "ErrorKind",
    "IdempotencyConflictError",
    "InputError",
    "InputFileError",
    "LedgerRejected",
    "LinewiseError",
    "Problem",
    "SchemaMismatchError",
    "StrategyValidationError",
    "UnknownAccountError",
    "kind_of",
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
    """Root of every error linewise raises on purpose; ``code`` (one of :data:`ERROR_CODES`) names it for programs."""

    code: str


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
    def for_field(cls, code: str, *, where: str, field: str, rule: str, value: Any) -> Self:
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
    """The count ("<n> problems") and the first :data:`PROBLEMS_SHOWN` problems, one per line."""
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
        super().__init__(f"{url}: database must be at the latest schema; run `linewise db upgrade`")


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

    def __init__(self, url: str, reason: str, *, code: str = "database_unreachable", rule: str = "reachable") -> None:
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


class AccessDeniedError(LinewiseError):
    """Who asks may not: not signed in, signed in with a role that may not, or asking too often.

    Unlike :class:`InputError` it says nothing about what was asked: the same request
    from someone else would be taken. Only the service raises it.

    Examples
    --------
    >>> raise AccessDeniedError("role_forbidden", where="POST /accounts",
    ...                         detail="role must be one of ['admin']; got 'customer'")
    Traceback (most recent call last):
    ...
    linewise.errors.AccessDeniedError: POST /accounts: role must be one of ['admin']; got 'customer'
    """

    def __init__(self, code: str, *, where: str, detail: str) -> None:
        self.code = code
        self.where = where
        self.detail = detail
        super().__init__(f"{where}: {detail}")


# --- the catalogue of codes ------------------------------------------------------------------


class ErrorKind(StrEnum):
    """What kind of refusal a code is, and so how an edge tells it.

    ===================  ===========  ===========================================================
    kind                 HTTP status  when
    ===================  ===========  ===========================================================
    ``not_found``        404          the account, run, model, portfolio or file named is not there
    ``conflict``         409          the request clashes with what is stored: an id taken, a key
                                      reused for other content, a line that moved on since
    ``invalid_input``    422          a value, file or option is malformed, out of range or
                                      does not fit the others
    ``refused_by_rule``  422          well-formed, but a lending rule refuses it (a drawdown above
                                      the available credit, a frozen line); 422 and not 403,
                                      which is for who asks, not for what is asked
    ``unavailable``      503          the database cannot be reached or is not at the latest
                                      schema (or the disk is full): the same request may succeed
                                      later (the command line exits 3 for the database)
    ``configuration``    500          linewise's own settings are wrong (a product file, the
                                      database URL): nothing the request can change
    ``unauthenticated``  401          who asks is not known: no token, a token that is not ours
                                      or has expired, a wrong username or password
    ``forbidden``        403          who asks is known, but their role may not do this
    ``rate_limited``     429          who asks has tried too often; the same request may be taken
                                      later
    ===================  ===========  ===========================================================
    """

    NOT_FOUND = "not_found"
    CONFLICT = "conflict"
    INVALID_INPUT = "invalid_input"
    REFUSED_BY_RULE = "refused_by_rule"
    UNAVAILABLE = "unavailable"
    CONFIGURATION = "configuration"
    UNAUTHENTICATED = "unauthenticated"
    FORBIDDEN = "forbidden"
    RATE_LIMITED = "rate_limited"

    @property
    def http_status(self) -> int:
        """The HTTP status the API answers a code of this kind with (see the table above)."""
        return _HTTP_STATUS[self]


_HTTP_STATUS = {
    ErrorKind.NOT_FOUND: 404,
    ErrorKind.CONFLICT: 409,
    ErrorKind.INVALID_INPUT: 422,
    ErrorKind.REFUSED_BY_RULE: 422,
    ErrorKind.UNAVAILABLE: 503,
    ErrorKind.CONFIGURATION: 500,
    ErrorKind.UNAUTHENTICATED: 401,
    ErrorKind.FORBIDDEN: 403,
    ErrorKind.RATE_LIMITED: 429,
}

# Every stable code linewise raises, by kind. A code written ``prefix_<field>`` is a
# family: the field it names is part of the code (``event_exists_with_different_amount``).
ERROR_CODES: dict[str, ErrorKind] = {
    **dict.fromkeys(
        (
            "account_not_found",
            "run_not_found",
            "month_not_found",
            "model_not_found",
            "portfolio_not_found",
            "file_not_found",
            "customer_not_found",
            "ledger_empty",
            "version_not_found",
        ),
        ErrorKind.NOT_FOUND,
    ),
    **dict.fromkeys(
        (
            "account_exists",
            "event_exists_with_different_<field>",
            "event_already_reversed",
            "occurred_on_before_last_event",
            "reversal_invalidates_later_event",
            "strategy_ref_reused",
            "model_ref_reused",
            "path_exists",
            "decision_stale",
            "username_taken",
        ),
        ErrorKind.CONFLICT,
    ),
    **dict.fromkeys(
        (
            "exceeds_available_limit",
            "account_past_due",
            "line_frozen",
            "line_closed",
            "below_drawdown_min",
            "above_drawdown_max",
            "term_not_offered",
            "method_not_offered",
            "purpose_not_offered",
            "purpose_not_permitted",
            "balance_outstanding",
            "status_change_not_allowed",
            "nothing_outstanding",
            "exceeds_amount_outstanding",
            "limit_unchanged",
            "model_not_exportable",
        ),
        ErrorKind.REFUSED_BY_RULE,
    ),
    **dict.fromkeys(
        (
            "database_unreachable",
            "database_folder_missing",
            "database_not_initialised",
            "disk_full",
        ),
        ErrorKind.UNAVAILABLE,
    ),
    **dict.fromkeys(("configuration_invalid", "database_url_invalid"), ErrorKind.CONFIGURATION),
    # who asks (the service)
    **dict.fromkeys(
        ("not_authenticated", "token_invalid", "token_expired", "credentials_invalid"), ErrorKind.UNAUTHENTICATED
    ),
    # admin_required: a strategy or model activated by someone who is not an admin user
    **dict.fromkeys(("role_forbidden", "admin_required", "csrf_token_invalid"), ErrorKind.FORBIDDEN),
    **dict.fromkeys(("login_rate_limited", "request_rate_limited"), ErrorKind.RATE_LIMITED),
    **dict.fromkeys(
        (
            # decisions and customer facts
            "amount_out_of_range",
            "number_out_of_range",
            "apply_needs_ledger",
            "apply_needs_log",
            "chunk_size_invalid",
            "consent_source_unknown",
            "income_source_unknown",
            "evidence_malformed",
            "currencies_mixed",
            "currency_required",
            "decision_action_unknown",
            "decision_incomplete",
            "decision_limit_inconsistent",
            "decision_version_invalid",
            "model_features_missing",
            "source_required",
            # values a person types
            "id_malformed",
            "key_malformed",
            "reason_malformed",
            "code_malformed",
            "date_malformed",
            "date_out_of_range",
            "date_after_today",
            "month_malformed",
            "month_not_over",
            "amount_not_a_number",
            "amount_has_too_many_decimals",
            "amount_too_large",
            "amount_must_be_positive",
            "currency_not_supported",
            "language_unknown",
            "trigger_unknown",
            "model_kind_unknown",
            "export_format_unknown",
            "sql_dialect_unknown",
            "special_code_not_a_number",
            "cv_folds_too_few",
            "cv_folds_too_many",
            "baseline_out_of_range",
            "target_out_of_range",
            "alpha_out_of_range",
            "power_out_of_range",
            "challenger_share_out_of_range",
            # events the ledger cannot take as they are
            "account_id_required",
            "customer_id_required",
            "limit_must_not_be_negative",
            "term_must_be_positive",
            "occurred_on_before_line_opened",
            "as_of_before_line_opened",
            "reversal_needs_history",
            "reversal_target_not_found",
            # inputs that do not fit each other
            "currency_mismatch",
            "model_mismatch",
            "feature_unknown",
            "feature_missing",
            "no_features",
            "outcome_missing",
            "history_missing",
            "decisions_empty",
            "account_twice",
            "run_mixed",
            "model_not_fitted",
            "sql_name_empty",
            "strategy_repeated",
            "strategy_mismatch",
            "pd_horizon_unknown",
            "budget_infeasible",
            # options one of which is needed
            "account_required",
            "log_required",
            "target_required",
            "data_or_portfolio_required",
            "strategy_required",
            # files
            "file_is_a_directory",
            "file_unreadable",
            "file_not_utf8",
            "file_too_large",
            "file_too_deep",
            "file_type_unknown",
            "file_error",
            "yaml_alias_not_allowed",
            "mapping_not_toml",
            "schema_mismatch",
            "strategy_invalid",
            "model_invalid",
            "portfolio_manifest_invalid",
            "path_under_a_file",
            "path_malformed",
            "permission_denied",
            "read_only_file_system",
            "out_is_a_directory",
            "out_is_a_file",
            "out_under_a_file",
            "out_not_writable",
            "out_must_be_parquet",
            # the synthetic portfolio's settings
            "accounts_out_of_range",
            "months_out_of_range",
            "horizon_months_out_of_range",
            "seed_out_of_range",
            "panel_rows_out_of_range",
            "last_month_not_a_month_end",
            "lookback_months_out_of_range",
            "min_months_out_of_range",
            # a book posted in batches (post_book)
            "batch_out_of_range",
            # users of the service, and its requests
            "role_unknown",
            "customer_required",
            "customer_not_allowed",
            "password_too_short",
            "password_too_long",
            "password_required",
            "request_invalid",
            "run_too_large",
            # strategy and model versions
            "ref_malformed",
            "note_malformed",
            "host_malformed",
            # the command line itself
            "argument_has_nul",
            "usage_invalid",
            "option_missing",
            "option_misused",
            "option_unknown",
            "option_invalid",
            "option_not_a_whole_number",
            "option_out_of_range",
        ),
        ErrorKind.INVALID_INPUT,
    ),
}

_FAMILIES = [
    (re.compile(re.escape(code.split("<")[0]) + "[a-z0-9_]+"), kind)
    for code, kind in ERROR_CODES.items()
    if "<" in code
]


def kind_of(code: str) -> ErrorKind:
    """The kind of ``code`` (and so its HTTP status: ``kind_of(code).http_status``).

    Raises ``KeyError`` for a code not in :data:`ERROR_CODES`.

    Examples
    --------
    >>> kind_of("account_not_found").http_status
    404
    >>> kind_of("event_exists_with_different_amount")
    <ErrorKind.CONFLICT: 'conflict'>
    """
    kind = ERROR_CODES.get(code)
    if kind is not None:
        return kind
    for pattern, family_kind in _FAMILIES:
        if pattern.fullmatch(code):
            return family_kind
    raise KeyError(f"error code {code!r} is not in linewise.errors.ERROR_CODES")
