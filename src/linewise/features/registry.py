"""The feature registry: every feature declared once, with everything the rest needs.

Models take their monotone constraints from ``risk_direction``; reasons and recourse
take their words from the descriptions, ``actionable`` and ``evolution``; the
customer never sees a feature that is not ``customer_visible``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum

__all__ = [
    "Evolution",
    "FeatureSpec",
    "RiskDirection",
    "Source",
]


class Source(StrEnum):
    """Where a feature's data comes from; each non-ledger source needs its own consent."""

    LEDGER = "ledger"
    INCOME = "income"
    BUREAU = "bureau"
    ASSETS = "assets"


class RiskDirection(StrEnum):
    """How risk moves as the feature grows (the sign of a monotone constraint).

    ``NONE`` is for features whose effect is not one-way (trends, activity): they
    get no monotone constraint and are never offered to a customer as recourse.
    """

    INCREASING = "increasing"
    DECREASING = "decreasing"
    NONE = "none"

    @property
    def sign(self) -> int:
        """+1 when a larger value means more risk, -1 when less, 0 when neither."""
        return {"increasing": 1, "decreasing": -1, "none": 0}[self.value]


class Evolution(StrEnum):
    """How a feature moves with one more month in which the customer repays on time.

    - ``counts_up``: grows by one each month (tenure, streak, months since a delinquency).
    - ``window_on_time``: a window ratio that moves towards 1 as on-time months
      replace older ones (on-time ratio over n months).
    - ``window_clears``: a window maximum that falls to 0 once the window holds only
      clean months (maximum DPD over n months).
    - ``ages``: the evidence gets older by one month (age of the income proof).
    - ``held``: does not move with time; only an action of the customer moves it
      (verified income, external debt) or nothing does.
    """

    COUNTS_UP = "counts_up"
    WINDOW_ON_TIME = "window_on_time"
    WINDOW_CLEARS = "window_clears"
    AGES = "ages"
    HELD = "held"


@dataclass(frozen=True)
class FeatureSpec:
    """One feature: name, texts, source, unit, risk direction, actionability, evolution.

    ``window_months`` is the look-back of window features (None otherwise).
    ``unit`` is one of ``months``, ``days``, ``ratio``, ``count``, ``minor_units``,
    ``score``. ``lowest`` and ``highest`` bound every value the feature can take
    (infinite where nothing does), so that a strategy's gate no value can pass is
    caught before it is used.
    """

    name: str
    description_zh: str
    description_en: str
    source: Source
    unit: str
    risk_direction: RiskDirection
    actionable: bool
    evolution: Evolution
    window_months: int | None = None
    lowest: float = 0.0
    highest: float = math.inf
