"""The drawdown preview: what borrowing would cost and do, before the customer borrows."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from linewise.service.schemas.common import DateText, In, Out, PositiveMinorUnits

__all__ = ["PreviewIn", "PreviewInstalmentOut", "PreviewOut", "ReviewOut"]


class PreviewIn(In):
    """A drawdown the customer is thinking of: nothing is posted."""

    amount: PositiveMinorUnits
    term_months: int = Field(strict=True, ge=1, le=600, description="Months; the product says which it offers.")
    method: str = Field("equal_instalment", max_length=32)
    purpose: str = Field("daily_consumption", max_length=64)
    on: DateText | None = None


class PreviewInstalmentOut(Out):
    """One instalment the drawdown would have."""

    number: int
    due_on: str
    principal_due: int
    interest_due: int


class ReviewOut(Out):
    """What a review would do to the line: its action and limits (the reasons are in the text)."""

    action: str
    current_limit: int
    new_limit: int


class PreviewOut(Out):
    """The preview: the cost, the line after, the bureau report, the next review now and after, in words."""

    account_id: str
    currency: str
    amount: int
    term_months: int
    first_instalment: int
    total_interest: int
    annualised_cost: float = Field(
        description="Nominal annual cost: 12 times the monthly rate that prices the schedule."
    )
    available_after: int
    utilisation_after: float = Field(description="Share of the limit in use after the drawdown.")
    debt_to_income_after: float | None = Field(
        description="What falls due in the month after, over the verified monthly income (null: none verified)."
    )
    schedule: list[PreviewInstalmentOut]
    bureau_record: dict[str, Any] = Field(description="The new loan as the next monthly bureau file would report it.")
    next_review_without: ReviewOut
    next_review_with: ReviewOut
    lang: str
    text: str
