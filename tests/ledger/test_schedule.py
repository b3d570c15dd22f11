from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from linewise.ledger.product import Product
from linewise.ledger.schedule import Method, annualised_cost, build_schedule

DRAWN = date(2020, 1, 15)


def test_equal_instalments_match_the_published_mortgage_example():
    # The figure every Chinese bank calculator publishes: CNY 1,000,000 over 30 years
    # at 4.9% a year, 等额本息, pays 5,307.27 a month.
    schedule = build_schedule(100_000_000, Decimal("0.049"), 360, Method.EQUAL_INSTALMENT, DRAWN)
    assert schedule[0].amount == 530_727
    assert schedule[0].interest == 408_333  # 1,000,000 x 4.9% / 12, half up
    assert all(i.amount == 530_727 for i in schedule[:-1])


def test_equal_principal_matches_the_published_example():
    # Same loan, 等额本金: first month 6,861.11, falling by 11.34 a month.
    schedule = build_schedule(100_000_000, Decimal("0.049"), 360, Method.EQUAL_PRINCIPAL, DRAWN)
    assert schedule[0].amount == 686_111
    assert schedule[0].amount - schedule[1].amount == 1_134


def test_interest_only_repays_all_principal_at_the_end():
    schedule = build_schedule(1_200_000, Decimal("0.18"), 6, Method.INTEREST_ONLY, DRAWN)
    assert [i.principal for i in schedule] == [0, 0, 0, 0, 0, 1_200_000]
    assert {i.interest for i in schedule} == {18_000}


@given(
    principal=st.integers(min_value=1, max_value=10**10),
    rate=st.decimals(min_value=0, max_value=Decimal("0.36"), places=4),
    term=st.integers(min_value=1, max_value=360),
    method=st.sampled_from(list(Method)),
)
def test_every_schedule_repays_exactly_the_principal(principal, rate, term, method):
    schedule = build_schedule(principal, rate, term, method, DRAWN)
    assert sum(i.principal for i in schedule) == principal
    assert all(i.principal >= 0 and i.interest >= 0 for i in schedule)
    assert len(schedule) <= term
    if principal >= 100 * term:  # at least one major unit a month
        assert len(schedule) == term
    assert [i.due_on for i in schedule] == sorted({i.due_on for i in schedule})


def test_a_small_loan_keeps_its_whole_term_despite_rounding():
    # Found by Hypothesis: the rounded-up payment used to repay this a month early.
    schedule = build_schedule(30_586, Decimal("0.0366"), 283, Method.EQUAL_INSTALMENT, DRAWN)
    assert len(schedule) == 283
    assert sum(i.principal for i in schedule) == 30_586


def test_annualised_cost_of_a_plain_schedule_is_its_rate():
    schedule = build_schedule(1_000_000, Decimal("0.18"), 12, Method.EQUAL_INSTALMENT, DRAWN)
    assert abs(annualised_cost(1_000_000, [i.amount for i in schedule]) - Decimal("0.18")) < Decimal("0.0001")


def test_product_above_the_cost_ceiling_is_rejected_with_the_cost_named():
    with pytest.raises(ValidationError, match=r"annualised cost 30\.00%"):
        Product(annual_rate=Decimal("0.30"))


def test_product_at_the_ceiling_is_accepted_and_the_ceiling_is_configurable():
    assert Product(annual_rate=Decimal("0.24")).annual_rate == Decimal("0.24")
    with pytest.raises(ValidationError, match=r"at most 15\.00%"):
        Product(annual_rate=Decimal("0.18"), cost_ceiling_annual=Decimal("0.15"))


def test_product_may_not_offer_forbidden_purposes():
    with pytest.raises(ValidationError, match="house_purchase"):
        Product(purposes=("travel", "house_purchase"))
