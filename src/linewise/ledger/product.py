"""Product settings: what a drawdown may be, what it costs, how repayments are applied."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from linewise.calendar import DayCount
from linewise.errors import LedgerRejected
from linewise.ledger.schedule import Method, annualised_cost, build_schedule
from linewise.money import CURRENCY_EXPONENTS, format_amount

__all__ = [
    "FORBIDDEN_PURPOSES",
    "Prepayment",
    "Product",
    "Purpose",
]

Rate = Annotated[Decimal, Field(ge=0, le=1)]

# A consumer cash line may not fund these (China's consumer-finance rules, and most
# lenders' policies elsewhere): they are refused whatever a product lists.
FORBIDDEN_PURPOSES: frozenset[str] = frozenset(
    {
        "house_purchase",
        "house_down_payment",
        "securities",
        "futures",
        "wealth_management",
        "equity_investment",
        "gambling",
        "business_operation",
    }
)


class Purpose(StrEnum):
    """Declared purposes a consumer drawdown may serve."""

    DAILY_CONSUMPTION = "daily_consumption"
    EDUCATION = "education"
    TRAVEL = "travel"
    HOME_FURNISHING = "home_furnishing"
    RENOVATION = "renovation"
    MEDICAL = "medical"
    WEDDING = "wedding"
    ELECTRONICS = "electronics"


class Prepayment(StrEnum):
    """What money beyond what is due does to the rest of a schedule."""

    SHORTEN_TERM = "shorten_term"
    LOWER_INSTALMENT = "lower_instalment"


# The reference drawdown on which a product's annualised cost is checked.
_COST_CHECK_PRINCIPAL = 1_000_000
_REFERENCE_DATE = date(2000, 1, 31)


class Product(BaseModel):
    """A revolving cash-line product; validated on construction.

    Amounts are minor units of ``currency``. A product whose schedule's annualised
    cost (12 x monthly IRR, to 0.01%) is above ``cost_ceiling_annual`` for any
    allowed term and method is refused.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    currency: str = "CNY"
    drawdown_min: int = Field(default=50_000, gt=0)
    drawdown_max: int = Field(default=5_000_000, gt=0)
    terms_months: tuple[int, ...] = (3, 6, 12, 24)
    annual_rate: Rate = Decimal("0.18")
    day_count: DayCount = DayCount.ACT_365
    methods: tuple[Method, ...] = tuple(Method)
    purposes: tuple[str, ...] = tuple(p.value for p in Purpose)
    grace_days: int = Field(default=3, ge=0, le=30)
    penalty_rate: Rate = Decimal("0.27")
    prepayment: Prepayment = Prepayment.SHORTEN_TERM
    cost_ceiling_annual: Rate = Decimal("0.24")

    @model_validator(mode="after")
    def _check(self) -> Self:
        problems = self._problems()
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def _problems(self) -> list[str]:
        problems: list[str] = []
        if self.currency not in CURRENCY_EXPONENTS:
            problems.append(f"currency must be one of {sorted(CURRENCY_EXPONENTS)}; got {self.currency!r}")
        if self.drawdown_min > self.drawdown_max:
            problems.append(f"drawdown_min must be at most drawdown_max {self.drawdown_max}; got {self.drawdown_min}")
        if not self.terms_months or any(t < 1 or t > 360 for t in self.terms_months):
            problems.append(f"terms_months must be months between 1 and 360; got {list(self.terms_months)!r}")
        if not self.methods:
            problems.append("methods must name at least one repayment method; got []")
        bad = sorted(set(self.purposes) & FORBIDDEN_PURPOSES)
        if bad:
            problems.append(f"purposes must not include purposes a consumer loan may not serve; got {bad!r}")
        if not problems:
            problems.extend(self._cost_problems())
        return problems

    def _cost_problems(self) -> list[str]:
        worst = Decimal(0)
        for method in self.methods:
            for term in self.terms_months:
                schedule = build_schedule(
                    _COST_CHECK_PRINCIPAL,
                    self.annual_rate,
                    term,
                    method,
                    drawn_on=_REFERENCE_DATE,
                )
                cost = annualised_cost(_COST_CHECK_PRINCIPAL, [i.amount for i in schedule])
                worst = max(worst, cost.quantize(Decimal("0.0001")))
        if worst > self.cost_ceiling_annual:
            return [
                f"annual_rate must give an annualised cost of at most "
                f"{self.cost_ceiling_annual:.2%}; got {self.annual_rate} "
                f"(annualised cost {worst:.2%})"
            ]
        return []

    def check_drawdown(self, *, amount: int, term_months: int, method: str, purpose: str, where: str) -> None:
        """Raise :class:`LedgerRejected` if the product does not offer this drawdown."""
        if amount < self.drawdown_min or amount > self.drawdown_max:
            code = "below_drawdown_min" if amount < self.drawdown_min else "above_drawdown_max"
            raise LedgerRejected.for_field(
                code,
                where=where,
                field="amount",
                rule=f"between {self.describe_limits()}",
                value=format_amount(amount, self.currency),
            )
        if term_months not in self.terms_months:
            raise LedgerRejected.for_field(
                "term_not_offered",
                where=where,
                field="term",
                rule=f"one of {list(self.terms_months)} months",
                value=term_months,
            )
        if method not in {m.value for m in self.methods}:
            raise LedgerRejected.for_field(
                "method_not_offered",
                where=where,
                field="method",
                rule=f"one of {[m.value for m in self.methods]}",
                value=method,
            )
        if purpose in FORBIDDEN_PURPOSES:
            raise LedgerRejected.for_field(
                "purpose_not_permitted",
                where=where,
                field="purpose",
                rule="a purpose a consumer loan may serve",
                value=purpose,
            )
        if purpose not in self.purposes:
            raise LedgerRejected.for_field(
                "purpose_not_offered", where=where, field="purpose", rule=f"one of {list(self.purposes)}", value=purpose
            )

    def describe_limits(self) -> str:
        """The drawdown range in major units, for messages."""
        return (
            f"{format_amount(self.drawdown_min, self.currency)} and {format_amount(self.drawdown_max, self.currency)}"
        )
