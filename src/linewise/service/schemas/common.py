"""Shapes every part of the API shares: errors, pages, amounts and dates."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from linewise.calendar import FIRST_YEAR, LAST_YEAR
from linewise.inputs import ID_MAX_LENGTH, KEY_MAX_LENGTH, REASON_MAX_LENGTH
from linewise.ledger.store.customers import EVIDENCE_MAX_LENGTH
from linewise.money import CURRENCY_EXPONENTS, MAX_AMOUNT_MINOR

__all__ = [
    "CURRENCIES",
    "DATE_PATTERN",
    "EVIDENCE_PATTERN",
    "ID_PATTERN",
    "KEY_PATTERN",
    "MONTH_PATTERN",
    "PAGE_MAX",
    "REASON_PATTERN",
    "REF_PATTERN",
    "CurrencyText",
    "DateText",
    "ErrorOut",
    "EvidenceText",
    "HealthOut",
    "IdText",
    "In",
    "MinorUnits",
    "Out",
    "PageOut",
    "PositiveMinorUnits",
    "ReasonNote",
    "ReasonText",
    "error_responses",
]

# Rows one page may hold: a line of two years holds about a hundred events.
PAGE_MAX = 200

# What the service's parsers take (linewise.inputs, linewise.calendar, the customer
# store), told in the OpenAPI description as patterns, so that a client made from it
# sends what is read. Only told: the parsers still check every value and refuse with
# their own codes (id_malformed, key_malformed, date_malformed, ...), which a pattern
# checked by Pydantic would turn into request_invalid.
_YEAR = "(19[0-9]{2}|2[01][0-9]{2})"
assert (FIRST_YEAR, LAST_YEAR) == (1900, 2199), "_YEAR spells the years linewise.calendar takes"
ID_PATTERN = rf"^[A-Za-z0-9][A-Za-z0-9._:-]{{0,{ID_MAX_LENGTH - 1}}}$"
KEY_PATTERN = rf"^[A-Za-z0-9][A-Za-z0-9._:-]{{0,{KEY_MAX_LENGTH - 1}}}$"
REASON_PATTERN = rf"^[a-z][a-z0-9_]{{0,{REASON_MAX_LENGTH - 1}}}$"
EVIDENCE_PATTERN = rf"^[A-Za-z0-9][A-Za-z0-9._:/#-]{{0,{EVIDENCE_MAX_LENGTH - 1}}}$"
DATE_PATTERN = rf"^{_YEAR}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$"
MONTH_PATTERN = rf"^{_YEAR}-(0[1-9]|1[0-2])$"
# A strategy's or model's id@version (linewise.ledger.store.versions.check_ref), with a maxLength of 128.
REF_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:-]*@[A-Za-z0-9._:-]+$"
CURRENCIES = sorted(CURRENCY_EXPONENTS)

# Money is an integer of minor units (fen, cents): strict, so that 100.5, "100" and
# true are refused rather than turned into a number.
MinorUnits = Annotated[
    int, Field(strict=True, ge=0, le=MAX_AMOUNT_MINOR, description="Minor units (fen, cents) of the line's currency.")
]
PositiveMinorUnits = Annotated[
    int, Field(strict=True, gt=0, le=MAX_AMOUNT_MINOR, description="Minor units (fen, cents), more than 0.")
]
# Dates travel as YYYY-MM-DD text and are parsed by linewise.inputs, as the CLI's are
# (Pydantic would also take a number of seconds as a date).
DateText = Annotated[
    str,
    Field(
        max_length=10,
        json_schema_extra={"format": "date", "pattern": DATE_PATTERN},
        description=f"YYYY-MM-DD, in the years {FIRST_YEAR} to {LAST_YEAR}",
        examples=["2026-01-10"],
    ),
]
# An account or customer id, and a reason code (snake_case), as linewise.inputs reads them.
IdText = Annotated[str, Field(max_length=ID_MAX_LENGTH, json_schema_extra={"pattern": ID_PATTERN})]
ReasonText = Annotated[
    str,
    Field(
        max_length=REASON_MAX_LENGTH,
        json_schema_extra={"pattern": REASON_PATTERN},
        description="A reason code (snake_case).",
    ),
]
EvidenceText = Annotated[
    str,
    Field(
        max_length=EVIDENCE_MAX_LENGTH,
        json_schema_extra={"pattern": EVIDENCE_PATTERN},
        description="Reference of the document that proves it (e.g. payslip-2026-03), not the document.",
    ),
]
CurrencyText = Annotated[str, Field(max_length=3, json_schema_extra={"enum": CURRENCIES})]
# A free-text note an admin adds to a change by hand, kept in the audit log.
ReasonNote = Annotated[str, Field(max_length=500, description="Why, in words, for the audit log.")]


class In(BaseModel):
    """A request body: a field it does not declare is refused, so none can be slipped in."""

    model_config = ConfigDict(extra="forbid")


class Out(BaseModel):
    """A response body."""


class ErrorOut(Out):
    """Every refusal: a stable code, where the problem is, and what is wrong."""

    code: str = Field(description="Stable name of the refusal (linewise.errors.ERROR_CODES).")
    where: str = Field(description="The field, header, account or setting at fault.")
    detail: str = Field(description="<field> must be <rule>; got <value>.")


class HealthOut(Out):
    """The process answers: ``status`` is always ``ok``, with the version of linewise it runs."""

    status: Literal["ok"]
    version: str


class PageOut(Out):
    """Where a page sits: the rows it holds are ``offset`` to ``offset + limit`` of ``total``."""

    limit: int
    offset: int
    total: int


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The OpenAPI ``responses`` of a route that may refuse with ``statuses``: each an :class:`ErrorOut`."""
    return {status: {"model": ErrorOut} for status in statuses}
