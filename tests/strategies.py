"""Hypothesis strategies for the ledger (products, amounts, event sequences), and example counts."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import settings
from hypothesis import strategies as st

from linewise.ledger.events import LineOpened, RepaymentPosted
from linewise.ledger.product import Product
from linewise.ledger.schedule import Method
from linewise.ledger.service import drawdown_event


def thorough() -> bool:
    """Whether the ``ci`` profile is loaded: sweeps try all they have, not the laptop's share.

    Besides the properties' examples (:func:`scaled`), the sweeps that cost most (every
    command option's examples, schemathesis per role and database, the crash seeds)
    try a share of their cases under ``dev`` and all of them under ``ci``.
    """
    return settings.default.max_examples >= 100


def scaled(examples: int) -> int:
    """``examples`` under the ``ci`` hypothesis profile, in proportion under another.

    The profiles are in tests/conftest.py: ``ci`` tries hypothesis's 100 examples a
    property, ``dev`` 25, so a property written as ``scaled(200)`` tries 200 in CI and
    50 on a laptop; never fewer than 5.
    """
    return max(5, examples * settings.default.max_examples // 100)


PRODUCT = Product()
START = date(2025, 1, 31)

amounts = st.integers(min_value=1, max_value=10**9)
methods = st.sampled_from(list(Method))


@st.composite
def event_sequences(draw, account_id: str = "A1", max_steps: int = 12):
    """An opened line followed by drawdowns and repayments on advancing dates.

    Some events are invalid (over the limit, above the payoff); the sequence is
    what a client might send, not what the ledger must accept.
    """
    limit = draw(st.integers(min_value=50_000, max_value=5_000_000))
    day = START
    events = [
        LineOpened(
            account_id=account_id,
            occurred_on=day,
            idempotency_key="open",
            customer_id="C1",
            currency="CNY",
            credit_limit=limit,
        )
    ]
    for n in range(draw(st.integers(min_value=1, max_value=max_steps))):
        day += timedelta(days=draw(st.integers(min_value=0, max_value=45)))
        if draw(st.booleans()):
            events.append(
                drawdown_event(
                    PRODUCT,
                    None,
                    account_id=account_id,
                    amount=draw(st.integers(min_value=PRODUCT.drawdown_min, max_value=PRODUCT.drawdown_max)),
                    term_months=draw(st.sampled_from(PRODUCT.terms_months)),
                    method=draw(methods).value,
                    purpose="travel",
                    occurred_on=day,
                    idempotency_key=f"e{n}",
                )
            )
        else:
            events.append(
                RepaymentPosted(
                    account_id=account_id,
                    occurred_on=day,
                    idempotency_key=f"e{n}",
                    amount=draw(st.integers(min_value=1, max_value=2_000_000)),
                )
            )
    return events
