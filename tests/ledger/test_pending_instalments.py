"""An instalment pending on the panel's date has not fallen due: it is neither due nor missed.

Pending on ``as_of``: not settled by then and its deadline (due date plus the
drawdown's grace days, 3 for the default product) not before ``as_of``. Its outcome is
not known yet, so no panel row counts it in ``amount_due`` or judges it in ``on_time``;
settled by ``as_of``, or past its deadline, it counts as it always did. Both paths of
the panel agree: ``book_as_of`` (one SQL read, :func:`~linewise.ledger.panel.panel_as_of`)
and the pandas reference (:func:`~linewise.ledger.snapshot.month_end_panel`, through
``export_panel`` for complete months).
"""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from linewise.calendar import month_end, month_ends
from linewise.data.schemas import PANEL_SCHEMA
from linewise.data.validate import validate_table
from linewise.ledger.events import LineOpened, RepaymentPosted
from linewise.ledger.posting import due_amount
from linewise.ledger.product import Product
from linewise.ledger.service import drawdown_event, export_panel, post_events, statement
from linewise.ledger.snapshot import month_end_panel
from linewise.ledger.source import book_as_of
from linewise.ledger.store.repository import load_frames

PRODUCT = Product()
OPENED = date(2025, 11, 30)


def _open(engine, *drawn_on: date) -> None:
    """Line A opened on OPENED, 6,000.00 drawn over 6 months on each of ``drawn_on`` (due monthly on that day)."""
    opened = LineOpened(
        account_id="A",
        occurred_on=OPENED,
        idempotency_key="open",
        customer_id="C",
        currency="CNY",
        credit_limit=5_000_000,
    )
    draws = [
        drawdown_event(
            PRODUCT,
            None,
            account_id="A",
            amount=600_000,
            term_months=6,
            method="equal_instalment",
            purpose=PRODUCT.purposes[0],
            occurred_on=day,
            idempotency_key=f"draw-{day}",
        )
        for day in drawn_on
    ]
    post_events(engine, [opened, *draws])


def _pay(engine, on: date) -> int:
    """Repay what is due on ``on``; what was paid."""
    owed = due_amount(statement(engine, "A", on).state, on)
    post_events(engine, [RepaymentPosted(account_id="A", occurred_on=on, idempotency_key=f"pay-{on}", amount=owed)])
    return owed


def _instalment(engine, due_on: date) -> int:
    """The amount (principal and interest) of the instalment due on ``due_on``."""
    state = statement(engine, "A", due_on).state
    return sum(i.principal_due + i.interest_due for d in state.drawdowns for i in d.instalments if i.due_on == due_on)


def _rows(engine, as_of: date) -> pd.DataFrame:
    """A's panel on ``as_of`` by both paths, checked equal, indexed by month end."""
    book = book_as_of(engine, as_of, "A").panel
    with engine.connect() as conn:
        frames = load_frames(conn, "A", up_to=as_of)
    # The reference's rows: complete months at their ends, the month so far at as_of.
    days = [m for m in month_ends(OPENED, as_of) if m < as_of] + [as_of]
    reference = month_end_panel(frames, days, as_of).assign(month=lambda f: f["month"].map(month_end))
    reference = validate_table(reference, PANEL_SCHEMA, "reference")
    pd.testing.assert_frame_equal(book.reset_index(drop=True), reference.reset_index(drop=True), check_dtype=False)
    if as_of == month_end(as_of):
        exported = validate_table(export_panel(engine, as_of, "A"), PANEL_SCHEMA, "exported")
        pd.testing.assert_frame_equal(book.reset_index(drop=True), exported.reset_index(drop=True), check_dtype=False)
    return book.set_index("month")


def _row(engine, as_of: date) -> dict:
    """The row of ``as_of``'s month, ``on_time`` as True, False or None (NA)."""
    return _plain(_rows(engine, as_of).loc[pd.Timestamp(month_end(as_of))])


def _plain(row: pd.Series) -> dict:
    return {**row.to_dict(), "on_time": None if pd.isna(row["on_time"]) else bool(row["on_time"])}


@pytest.mark.parametrize(
    "as_of",
    [date(2026, 1, 10), date(2026, 1, 12), date(2026, 1, 13)],
    ids=["due-today", "in-grace", "on-deadline"],
)
def test_an_instalment_unpaid_before_its_deadline_passes_is_not_due_nor_missed(engine, as_of):
    _open(engine, date(2025, 12, 10))  # first instalment due 2026-01-10, deadline 01-13

    row = _row(engine, as_of)

    assert row["amount_due"] == 0
    assert row["on_time"] is None
    assert row["dpd"] == (as_of - date(2026, 1, 10)).days  # days past due still count from the due date


@pytest.mark.parametrize("paid_on", [date(2026, 1, 10), date(2026, 1, 12)], ids=["on-the-day", "in-grace"])
def test_an_instalment_paid_by_the_date_counts_as_on_time(engine, paid_on):
    _open(engine, date(2025, 12, 10))
    paid = _pay(engine, paid_on)

    row = _row(engine, paid_on)

    assert row["amount_due"] == _instalment(engine, date(2026, 1, 10)) == paid
    assert row["on_time"] is True
    assert row["amount_paid"] == paid and row["dpd"] == 0


def test_an_instalment_past_its_deadline_counts_as_missed_paid_late_or_not(engine):
    _open(engine, date(2025, 12, 10))
    due = _instalment(engine, date(2026, 1, 10))

    unpaid = _row(engine, date(2026, 1, 14))
    assert (unpaid["amount_due"], unpaid["on_time"], unpaid["dpd"], unpaid["amount_paid"]) == (due, False, 4, 0)

    _pay(engine, date(2026, 1, 16))
    late = _row(engine, date(2026, 1, 20))
    assert (late["amount_due"], late["on_time"], late["dpd"]) == (due, False, 0)


def test_a_pending_instalment_leaves_the_ones_fallen_due_in_the_month_to_be_judged(engine):
    _open(engine, date(2025, 12, 5), date(2025, 12, 10))  # due 2026-01-05 and 2026-01-10
    _pay(engine, date(2026, 1, 5))

    row = _row(engine, date(2026, 1, 10))

    assert row["amount_due"] == _instalment(engine, date(2026, 1, 5))
    assert row["on_time"] is True


def test_a_month_end_with_an_instalment_in_its_grace_days_is_judged_once_they_are_over(engine):
    _open(engine, date(2025, 11, 30))  # due 2025-12-30, deadline 2026-01-02
    due = _instalment(engine, date(2025, 12, 30))
    december = pd.Timestamp("2025-12-31")

    for as_of in (date(2025, 12, 31), date(2026, 1, 2)):  # the complete month too: not known yet
        row = _plain(_rows(engine, as_of).loc[december])
        assert row["amount_due"] == 0 and row["on_time"] is None
    missed = _plain(_rows(engine, date(2026, 1, 3)).loc[december])
    assert missed["amount_due"] == due and missed["on_time"] is False

    _pay(engine, date(2026, 1, 2))
    for as_of in (date(2026, 1, 2), date(2026, 1, 31)):
        row = _plain(_rows(engine, as_of).loc[december])
        assert row["amount_due"] == due and row["on_time"] is True
