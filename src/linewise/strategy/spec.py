"""The strategy file as written: a pydantic model of the YAML, checked field by field.

Amounts in a strategy file are major units of its ``currency`` ("8000" is 8,000.00
yuan); :mod:`linewise.strategy.compiled` turns them into minor units. Everything a
decision depends on is a structured value (feature, operator, threshold), never
code, so that the engine knows every threshold that held a customer back.
"""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from linewise.features import REGISTRY
from linewise.money import CURRENCY_EXPONENTS

__all__ = [
    "DECISION_SUBJECTS",
    "Affordability",
    "Arm",
    "Condition",
    "Gate",
    "Grade",
    "IncreasePolicy",
    "Operator",
    "RequestPolicy",
    "Rule",
    "Segment",
    "StrategySpec",
]

# What a condition may test besides the registry's features: the model's outputs.
DECISION_SUBJECTS = {"pd": "probability of default", "score": "model score"}
_NAME = r"^[a-z][a-z0-9_]*$"

Share = Annotated[float, Field(ge=0.0, le=1.0)]
MajorAmount = Annotated[Decimal, Field(ge=0, allow_inf_nan=False)]
Code = Annotated[str, Field(pattern=_NAME, max_length=64)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Operator(StrEnum):
    """How a condition compares its subject with its value."""

    LT = "<"
    LE = "<="
    GT = ">"
    GE = ">="
    EQ = "=="
    NE = "!="
    PRESENT = "present"
    MISSING = "missing"

    @property
    def takes_value(self) -> bool:
        """Whether the operator compares with a threshold."""
        return self not in (Operator.PRESENT, Operator.MISSING)


class Condition(_Strict):
    """``feature op value``; a missing feature never satisfies a comparison."""

    feature: str
    op: Operator
    value: Decimal | None = Field(default=None, allow_inf_nan=False)

    @field_validator("feature")
    @classmethod
    def _known_feature(cls, name: str) -> str:
        if name not in REGISTRY and name not in DECISION_SUBJECTS:
            known = sorted([*REGISTRY, *DECISION_SUBJECTS])
            close = [k for k in known if k.startswith(name[:4])][:5]
            hint = f" (did you mean {', '.join(close)}?)" if close else ""
            raise ValueError(f"a feature of the registry, pd or score{hint}")
        return name

    @model_validator(mode="after")
    def _value_matches_operator(self) -> Self:
        if self.op.takes_value and self.value is None:
            raise ValueError(f"given a value, as operator {self.op.value!r} compares with one")
        if not self.op.takes_value and self.value is not None:
            raise ValueError(f"without a value, as operator {self.op.value!r} takes none")
        return self

    @property
    def is_amount(self) -> bool:
        """Whether the value is money (major units in the file, minor units compiled)."""
        spec = REGISTRY.get(self.feature)
        return spec is not None and spec.unit == "minor_units"


class Gate(Condition):
    """A condition that must hold for an increase; ``code`` is the reason when it fails.

    Without a code the reason is derived from the feature and the operator, such as
    ``months_on_book_below_min`` (see :func:`linewise.strategy.reasons.gate_code`).
    ``if_missing`` says whether an account without the feature (no consent, no data)
    passes; by default it does not.
    """

    code: Code | None = None
    if_missing: Literal["fail", "pass"] = "fail"


class Rule(_Strict):
    """Freeze or decrease when every condition holds; ``code`` is the reason given."""

    code: Code
    when: list[Condition] = Field(min_length=1)
    tiers_down: int = Field(default=1, ge=1, le=5)


class Grade(_Strict):
    """A risk grade: every PD up to ``pd_max`` not taken by an earlier grade."""

    name: Annotated[str, Field(pattern=r"^[A-Z][A-Z0-9+-]{0,3}$")]
    pd_max: Share


class Affordability(_Strict):
    """The highest limit whose debt service fits the verified income.

    Debt service is ``line_payment_rate`` of the limit (as if the line were drawn in
    full) plus ``external_payment_rate`` of the external debt, each month; it must
    stay within ``debt_service_ratio_max`` of the verified monthly income.
    """

    debt_service_ratio_max: Annotated[float, Field(gt=0.0, le=1.0)]
    line_payment_rate: Annotated[float, Field(gt=0.0, le=1.0)]
    external_payment_rate: Annotated[float, Field(ge=0.0, le=1.0)] = 0.05


class IncreasePolicy(_Strict):
    """When and by how much a line may be raised on a review."""

    grades: list[str] = Field(min_length=1)
    gates: list[Gate] = Field(default_factory=list)
    max_tiers_per_review: int = Field(ge=1, le=5)
    step_pct_max: Annotated[float, Field(gt=0.0, le=500.0)]
    step_amount_max: MajorAmount
    cooldown_days: int = Field(ge=0, le=730)
    unverified_income_ceiling: MajorAmount
    affordability: Affordability
    ceiling: MajorAmount


class Segment(_Strict):
    """A customer profile, first match wins; it may add gates or a lower ceiling."""

    name: Code
    description: str = ""
    when: list[Condition] = Field(default_factory=list)
    gates: list[Gate] = Field(default_factory=list)
    ceiling: MajorAmount | None = None
    may_increase: bool = True


class RequestPolicy(_Strict):
    """A customer's own request for more: judged as a review, within velocity limits."""

    max_requests: int = Field(ge=1, le=12)
    window_days: int = Field(ge=1, le=365)
    gates: list[Gate] = Field(default_factory=list)


class Arm(_Strict):
    """A champion/challenger arm: a share of accounts and the settings it changes."""

    name: Code
    share: Share
    overrides: dict[str, Any] = Field(default_factory=dict)


class StrategySpec(_Strict):
    """A whole strategy file."""

    strategy: Code
    version: int = Field(ge=1)
    description: str = ""
    currency: str
    risk_appetite: Annotated[float, Field(ge=0.5, le=1.5)] = 1.0
    # The product's minimum payment, in percent of the bill, when paying it counts as
    # on time; None when only paying the whole amount due does.
    minimum_payment_pct: Annotated[Decimal, Field(gt=0, le=100, decimal_places=2)] | None = None
    grades: list[Grade] = Field(min_length=1)
    ladder: list[MajorAmount] = Field(min_length=2)
    segments: list[Segment] = Field(min_length=1)
    increase: IncreasePolicy
    freeze: list[Rule] = Field(default_factory=list)
    decrease: list[Rule] = Field(default_factory=list)
    requests: RequestPolicy
    arms: list[Arm] = Field(default_factory=lambda: [Arm(name="champion", share=1.0)])

    @field_validator("currency")
    @classmethod
    def _known_currency(cls, code: str) -> str:
        if code not in CURRENCY_EXPONENTS:
            raise ValueError(f"one of {', '.join(sorted(CURRENCY_EXPONENTS))}")
        return code

    @property
    def ref(self) -> str:
        """``id@version``, as decisions record it."""
        return f"{self.strategy}@{self.version}"
