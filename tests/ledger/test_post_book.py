"""Posting a book in bulk: the rows posting each line alone leaves, all or nothing per batch.

Each test runs on SQLite and PostgreSQL. The oracle is ``post_events`` called once
per line: the store after it and after ``post_book`` hold the same rows, with ids
(events, allocations, limit history) in the same order.
"""

from datetime import date, timedelta
from itertools import groupby

import pytest
from sqlalchemy import delete, select

from linewise.errors import IdempotencyConflictError, InputError, LedgerRejected, UnknownAccountError
from linewise.ledger.book import BookSpec, simulate_book
from linewise.ledger.events import LimitChanged, LineOpened, RepaymentPosted, Reversal, StatusChanged
from linewise.ledger.model import LineStatus
from linewise.ledger.posting import apply, payoff_amount
from linewise.ledger.product import Product
from linewise.ledger.service import BookPosted, drawdown_event, post_book, post_events
from linewise.ledger.store.tables import PROJECTIONS, allocations, events, lines

PRODUCT = Product()
DAY = date(2025, 1, 31)


def stored_rows(engine):
    """Every ledger row; rows with an id in id order without it (an event's allocations in any order)."""
    out = {}
    with engine.connect() as conn:
        for table in (lines, *PROJECTIONS, events):
            columns = [c for c in table.columns if c.name not in ("id", "posted_at")]
            if "id" not in table.c:
                out[table.name] = sorted(tuple(r) for r in conn.execute(select(*columns)))
                continue
            rows = [tuple(r) for r in conn.execute(select(*columns).order_by(table.c.id))]
            if table is allocations:
                # One posting's allocations go to PostgreSQL in one statement, in no set order.
                rows = [sorted(run) for _, run in groupby(rows, key=lambda r: (r[0], r[1]))]
            out[table.name] = rows
    return out


def wipe(engine):
    with engine.begin() as conn:
        for table in (*PROJECTIONS, events, lines):
            conn.execute(delete(table))


def posted_one_by_one(engine, items):
    for item in items:
        post_events(engine, item)
    rows = stored_rows(engine)
    wipe(engine)
    return rows


def opening(account, limit=2_000_000):
    return LineOpened(
        account_id=account,
        occurred_on=DAY,
        idempotency_key=f"{account}-open",
        customer_id=f"C-{account}",
        currency="CNY",
        credit_limit=limit,
    )


def drawdown(account, amount=1_200_000, key="d1", on=DAY):
    return drawdown_event(
        PRODUCT,
        None,
        account_id=account,
        amount=amount,
        term_months=6,
        method="equal_instalment",
        purpose="travel",
        occurred_on=on,
        idempotency_key=key,
    )


def repayment(account, amount, on, key):
    return RepaymentPosted(account_id=account, occurred_on=on, idempotency_key=key, amount=amount)


def test_simulated_book_posted_in_batches_stores_what_posting_each_line_stores(engine):
    book = list(simulate_book(BookSpec(30, 12, date(2025, 1, 1), 3), PRODUCT))
    expected = posted_one_by_one(engine, book)

    posted = post_book(engine, iter(book), batch=7)

    assert posted == BookPosted(lines=30, events=sum(map(len, book)), duplicates=0)
    assert stored_rows(engine) == expected
    assert expected["instalments"]
    assert expected["allocations"]


def test_lines_already_stored_reversals_and_duplicates_are_posted_as_post_events_posts_them(engine):
    a_draw = drawdown("A")
    first_due = apply(apply(None, opening("A")).state, a_draw).state.drawdowns[0].instalments[0].due_on
    stored_before = [[opening("S"), drawdown("S")]]
    items = [
        [opening("A"), a_draw, a_draw],  # the drawdown twice: the second is a duplicate
        [repayment("S", 100_000, DAY + timedelta(days=3), "s-p1")],  # a line stored before
        [opening("B"), drawdown("B", 500_000), repayment("B", 50_000, DAY + timedelta(days=2), "b-p1")],
        [
            Reversal(
                account_id="B",
                occurred_on=DAY + timedelta(days=4),
                idempotency_key="b-r1",
                target_key="b-p1",
                reason_code="payment_returned",
            ),
            repayment("B", 60_000, DAY + timedelta(days=5), "b-p2"),
        ],
        [repayment("A", 300_000, first_due, "a-p1"), opening("C")],  # one item, two lines
        [
            LimitChanged(
                account_id="C", occurred_on=DAY, idempotency_key="c-l1", new_limit=3_000_000, reason_code="review"
            ),
            StatusChanged(
                account_id="C",
                occurred_on=DAY,
                idempotency_key="c-f1",
                new_status=LineStatus.FROZEN,
                reason_code="fraud",
            ),
        ],
    ]
    for item in stored_before:
        post_events(engine, item)
    expected = posted_one_by_one(engine, [*stored_before, *items])
    for item in stored_before:
        post_events(engine, item)

    posted = post_book(engine, items, batch=4)

    assert posted == BookPosted(lines=len(items), events=sum(map(len, items)), duplicates=1)
    assert stored_rows(engine) == expected


def test_posting_a_book_again_finds_every_event_a_duplicate_and_writes_nothing(engine):
    book = list(simulate_book(BookSpec(5, 6, date(2025, 1, 1), 5), PRODUCT))
    post_book(engine, book, batch=2)
    before = stored_rows(engine)

    again = post_book(engine, book, batch=2)

    assert again.duplicates == again.events == sum(map(len, book))
    assert stored_rows(engine) == before


def test_a_rejected_event_writes_nothing_of_its_batch_and_keeps_earlier_batches(engine):
    owed = payoff_amount(apply(apply(None, opening("D")).state, drawdown("D")).state, DAY + timedelta(days=1))
    items = [
        [opening("A"), drawdown("A")],
        [opening("B")],
        [opening("C"), drawdown("C")],
        [opening("D"), drawdown("D"), repayment("D", owed + 1, DAY + timedelta(days=1), "too-much")],
        [opening("E")],
    ]

    with pytest.raises(LedgerRejected) as raised:
        post_book(engine, items, batch=2)

    assert raised.value.code == "exceeds_amount_outstanding"
    assert raised.value.where == "D"
    with engine.connect() as conn:
        assert sorted(conn.execute(select(lines.c.account_id)).scalars()) == ["A", "B"]
        assert set(conn.execute(select(events.c.account_id)).scalars()) == {"A", "B"}


def test_a_malformed_event_is_named_before_anything_of_its_batch_is_read_or_written(engine):
    items = [[opening("A")], [opening("B"), repayment("B", 100, DAY, "bad key!")]]

    with pytest.raises(InputError) as raised:
        post_book(engine, items)

    assert "idempotency_key" in str(raised.value)
    with engine.connect() as conn:
        assert conn.execute(select(lines.c.account_id)).first() is None


def test_an_event_on_an_unknown_line_is_refused_as_post_events_refuses_it(engine):
    with pytest.raises(UnknownAccountError):
        post_book(engine, [[opening("A")], [drawdown("Z")]])
    with engine.connect() as conn:
        assert conn.execute(select(lines.c.account_id)).first() is None


def test_a_key_reused_with_another_amount_in_a_batch_is_a_conflict_and_writes_nothing(engine):
    items = [[opening("A"), drawdown("A", 500_000, key="d"), drawdown("A", 600_000, key="d")]]

    with pytest.raises(IdempotencyConflictError):
        post_book(engine, items)

    with engine.connect() as conn:
        assert conn.execute(select(events.c.id)).first() is None


@pytest.mark.parametrize("batch", [0, 10_001])
def test_a_batch_size_out_of_range_is_refused(engine, batch):
    with pytest.raises(InputError, match="batch"):
        post_book(engine, [[opening("A")]], batch=batch)
