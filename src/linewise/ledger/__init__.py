"""The revolving-credit ledger: lines, drawdowns, schedules, repayments, DPD, panel."""

from linewise.ledger.dpd import bucket_of, dpd_as_of, is_instalment_on_time
from linewise.ledger.events import (
    DrawdownPosted,
    Event,
    LimitChanged,
    LineOpened,
    RepaymentPosted,
    Reversal,
    StatusChanged,
)
from linewise.ledger.model import (
    CreditLine,
    Drawdown,
    DrawdownTerms,
    Instalment,
    LineState,
    LineStatus,
)
from linewise.ledger.posting import Allocation, Posted, apply, payoff_amount, replay
from linewise.ledger.product import Prepayment, Product
from linewise.ledger.schedule import Method, annualised_cost, build_schedule

__all__ = [
    "Allocation",
    "CreditLine",
    "Drawdown",
    "DrawdownPosted",
    "DrawdownTerms",
    "Event",
    "Instalment",
    "LimitChanged",
    "LineOpened",
    "LineState",
    "LineStatus",
    "Method",
    "Posted",
    "Prepayment",
    "Product",
    "RepaymentPosted",
    "Reversal",
    "StatusChanged",
    "annualised_cost",
    "apply",
    "bucket_of",
    "build_schedule",
    "dpd_as_of",
    "is_instalment_on_time",
    "payoff_amount",
    "replay",
]
