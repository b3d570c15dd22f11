"""The portfolio tables of DESIGN.md: panel, customers and outcomes, column by column.

A schema is data, not code: each column has a kind, whether it may be missing, and
the range or the values it may take. :mod:`linewise.data.validate` checks a frame
against it and lists every problem.

Amounts are integer minor units of the portfolio's currency. Months are month ends.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

__all__ = [
    "CUSTOMER_SCHEMA",
    "INCOME_SOURCES",
    "OUTCOME_SCHEMA",
    "PANEL_SCHEMA",
    "PROTECTED_ATTRIBUTES",
    "Column",
    "Schema",
]

Kind = Literal["id", "month", "date", "int", "float", "bool", "category"]


@dataclass(frozen=True)
class Column:
    """One column: its kind, whether it may be missing, its range or allowed values."""

    name: str
    kind: Kind
    nullable: bool = False
    minimum: float | None = None
    maximum: float | None = None
    allowed: tuple[str, ...] = ()
    description: str = ""


@dataclass(frozen=True)
class Schema:
    """A table: its required columns, optional columns and row key."""

    name: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]
    optional: tuple[Column, ...] = field(default=())

    def column(self, name: str) -> Column:
        """The column called ``name`` (required or optional)."""
        for column in (*self.columns, *self.optional):
            if column.name == name:
                return column
        raise KeyError(name)

    @property
    def required_names(self) -> list[str]:
        """Names of the columns every file must have, in order."""
        return [column.name for column in self.columns]


PANEL_SCHEMA = Schema(
    name="panel",
    key=("account_id", "month"),
    columns=(
        Column("account_id", "id", description="the credit line"),
        Column("month", "month", description="month end the row describes"),
        Column("credit_limit", "int", minimum=0, description="limit at month end"),
        Column("balance", "int", description="outstanding at month end; negative is a credit in the customer's favour"),
        Column(
            "amount_due",
            "int",
            nullable=True,
            minimum=0,
            description="what fell due in the month (missing when the source does not say)",
        ),
        Column("amount_paid", "int", nullable=True, minimum=0, description="paid in the month"),
        Column("drawn_amount", "int", nullable=True, minimum=0, description="new drawings in the month"),
        Column("dpd", "int", minimum=0, maximum=3650, description="days past due at month end"),
        Column(
            "on_time",
            "bool",
            nullable=True,
            description="everything due in the month paid by due date + grace; missing if nothing fell due",
        ),
    ),
)

INCOME_SOURCES = ("income_proof", "bank_statement", "declared")

# Sensitive attributes some sources carry: kept for fairness monitoring, never a feature.
PROTECTED_ATTRIBUTES = ("sex", "education", "marital_status", "age")

CUSTOMER_SCHEMA = Schema(
    name="customers",
    key=("account_id",),
    columns=(
        Column("account_id", "id"),
        Column("customer_id", "id"),
        Column("opened_on", "date", nullable=True, description="line opened; missing when the source starts mid-life"),
    ),
    optional=(
        Column("income_monthly", "int", nullable=True, minimum=0),
        Column("income_verified_on", "date", nullable=True),
        Column("income_source", "category", nullable=True, allowed=INCOME_SOURCES),
        Column("assets", "int", nullable=True, minimum=0),
        Column("bureau_enquiries_6m", "int", nullable=True, minimum=0, maximum=1000),
        Column("external_debt", "int", nullable=True, minimum=0),
        Column("external_dpd_max_12m", "int", nullable=True, minimum=0, maximum=3650),
        Column("bureau_score", "float", nullable=True, minimum=0, maximum=1000),
        Column("consent_income", "bool"),
        Column("consent_bureau", "bool"),
        Column("consent_assets", "bool"),
        Column("sex", "category", nullable=True),
        Column("education", "category", nullable=True),
        Column("marital_status", "category", nullable=True),
        Column("age", "int", nullable=True, minimum=16, maximum=120),
    ),
)

OUTCOME_SCHEMA = Schema(
    name="outcomes",
    key=("account_id",),
    columns=(
        Column("account_id", "id"),
        Column("as_of", "month", description="month end at which the outcome window opens"),
        Column("horizon_months", "int", minimum=1, maximum=60),
        Column("default", "bool", description="went bad within the horizon"),
    ),
)
