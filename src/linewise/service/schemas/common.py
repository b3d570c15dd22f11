"""Shapes every part of the API shares: errors, pages, amounts and dates."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from linewise.money import MAX_AMOUNT_MINOR

__all__ = [
    "PAGE_MAX",
    "DateText",
    "ErrorOut",
    "In",
    "MinorUnits",
    "Out",
    "PageOut",
    "PositiveMinorUnits",
    "ReasonNote",
    "error_responses",
]

# Rows one page may hold: a line of two years holds about a hundred events.
PAGE_MAX = 200

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
    str, Field(max_length=10, json_schema_extra={"format": "date"}, description="YYYY-MM-DD", examples=["2026-01-10"])
]
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


class PageOut(Out):
    """Where a page sits: the rows it holds are ``offset`` to ``offset + limit`` of ``total``."""

    limit: int
    offset: int
    total: int


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The OpenAPI ``responses`` of a route that may refuse with ``statuses``: each an :class:`ErrorOut`."""
    return {status: {"model": ErrorOut} for status in statuses}
