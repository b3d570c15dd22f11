"""The economic assumptions a simulation prices decisions with, and their file.

An assumptions file is YAML; every field is optional and falls back to the default
below. Rates are annual and written as fractions (0.18 is 18% a year).

The balance response to a limit change is the share of the limit added that a line
has drawn ``m`` months after the change, for an average borrower: by default 11% after
a quarter and 28% after three years, the path a randomised limit-increase trial found
(Aydin, "Consumption Response to Credit Expansions: Evidence from Experimental
Assignment of 45,307 Credit Lines", American Economic Review 2022), linear between
the points given and flat after the last. The riskier a grade, the more of a new limit
it draws (Agarwal, Chomsisengphet, Mahoney and Stroebel, "Do Banks Pass through Credit
Expansions to Consumers Who Want to Borrow?", QJE 2018, found the marginal propensity
to borrow falling steeply with the credit score): each account's path is multiplied
by a factor that runs geometrically, by the rank of its PD in the portfolio, from
``response_by_risk``'s first value (the safest account) to its second (the riskiest).
The defaults average about 1 over a portfolio, so the average path stays Aydin's. The
response belongs to the borrower, not to a strategy: two strategies compared on one
portfolio give an account the same factor.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from linewise.errors import Problem, SchemaMismatchError
from linewise.textfiles import parse_yaml, read_text

__all__ = ["Assumptions", "read_assumptions", "read_assumptions_file"]


class Assumptions(BaseModel):
    """What a simulation assumes about money, borrowers and the model's uncertainty."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    horizon_months: int = Field(12, ge=1, le=60, description="months the figures cover")
    pd_horizon_months: int | None = Field(
        None, ge=1, le=60, description="months the model's PD covers (default: the portfolio's outcome horizon)"
    )
    lgd: float = Field(0.85, ge=0, le=1, description="share of the exposure lost when a line defaults")
    ccf: float | None = Field(
        None,
        ge=0,
        le=1,
        description="share of the undrawn limit drawn by default (default: estimated from the portfolio's defaulters)",
    )
    ccf_fallback: float = Field(0.5, ge=0, le=1, description="the CCF when the portfolio has too few defaulters")
    apr: float = Field(0.18, ge=0, le=1, description="interest on the balance carried over, a year")
    revolving_share: float | None = Field(
        None,
        ge=0,
        le=1,
        description="share of the balance carried over and charged interest (default: the portfolio's own)",
    )
    fee_rate: float = Field(0.0, ge=0, le=1, description="fees on the drawn balance, a year")
    cost_of_funds: float = Field(0.04, ge=0, le=1, description="what funding the drawn balance costs, a year")
    response_months: tuple[int, ...] = Field((3, 36), description="months after a change where the path is given")
    response_share: tuple[float, ...] = Field(
        (0.11, 0.28), description="share of the limit added drawn by then, for an average grade"
    )
    response_by_risk: tuple[float, float] = Field(
        (0.25, 2.5),
        description="the path's factor for the portfolio's safest and riskiest account (geometric between, by PD rank)",
    )
    pd_log_odds_sd: float = Field(
        0.1, ge=0, le=2, description="uncertainty of the PD's level, a standard deviation in log-odds"
    )
    interval: float = Field(0.9, gt=0, lt=1, description="coverage of the intervals reported")

    @field_validator("response_share")
    @classmethod
    def _shares_grow(cls, shares: tuple[float, ...]) -> tuple[float, ...]:
        if not shares or any(not 0 <= s <= 1 for s in shares) or list(shares) != sorted(shares):
            raise ValueError("shares between 0 and 1 that never fall")
        return shares

    @field_validator("response_months")
    @classmethod
    def _months_rise(cls, months: tuple[int, ...]) -> tuple[int, ...]:
        if not months or months[0] < 1 or any(b <= a for a, b in itertools.pairwise(months)):
            raise ValueError("months of at least 1, each after the one before")
        return months

    @field_validator("response_by_risk")
    @classmethod
    def _factors_positive(cls, factors: tuple[float, float]) -> tuple[float, float]:
        if any(f <= 0 or f > 10 for f in factors):
            raise ValueError("factors above 0 and at most 10")
        return factors

    @model_validator(mode="after")
    def _path_complete(self) -> Assumptions:
        if len(self.response_months) != len(self.response_share):
            raise ValueError("response_months and response_share of the same length")
        return self


def read_assumptions(text: str, source: str) -> Assumptions:
    """The assumptions in YAML ``text``; ``source`` names it in problems.

    Raises SchemaMismatchError listing every field that is unknown or out of range,
    with its line.
    """
    try:
        document = parse_yaml(text, source)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        told = getattr(exc, "problem", None) or str(exc)
        raise SchemaMismatchError([Problem(source, line, "file", "valid YAML", told)]) from None
    data = {} if document.data is None else document.data
    if not isinstance(data, dict):
        raise SchemaMismatchError([Problem(source, 1, "file", "a mapping of assumption fields", type(data).__name__)])
    lines = dict(_key_lines(document.node))
    try:
        return Assumptions.model_validate(data)
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            name = str(error["loc"][0]) if error["loc"] else "file"
            rule = (
                "a field of the assumptions format (is it misspelt?)"
                if error["type"] == "extra_forbidden"
                else str(error["msg"]).removeprefix("Value error, ").removeprefix("Input should be ")
            )
            value = error.get("input")
            problems.append(
                Problem(source, lines.get(name), name, rule, type(value).__name__ if isinstance(value, dict) else value)
            )
        raise SchemaMismatchError(sorted(problems, key=lambda problem: problem.row or 0)) from None


def read_assumptions_file(path: Path | None) -> Assumptions:
    """The assumptions in the YAML file at ``path`` (read within the bounds of :mod:`linewise.textfiles`); the defaults when None."""
    return Assumptions() if path is None else read_assumptions(read_text(path), str(path))


def _key_lines(node: Any) -> Iterator[tuple[str, int]]:
    """The top-level keys of a mapping node, with the lines they are written on."""
    if isinstance(node, yaml.MappingNode):
        for key, _ in node.value:
            yield str(key.value), key.start_mark.line + 1
