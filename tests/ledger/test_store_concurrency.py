"""Concurrent posting on PostgreSQL: the line's row lock serialises every posting.

Sixteen threads start together on a ``threading.Barrier``; each posts through
``post_event`` on its own connection. The event log is then replayed, in posting
order, with the pure ``apply`` to check that every accepted event was valid at
the point where the store put it.
"""

import random
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from linewise.errors import LedgerRejected
from linewise.ledger.events import (
    DrawdownPosted,
    Event,
    LimitChanged,
    LineOpened,
    RepaymentPosted,
    StatusChanged,
)
from linewise.ledger.model import LineState, LineStatus
from linewise.ledger.posting import apply, replay
from linewise.ledger.product import Product
from linewise.ledger.service import (
    PostingResult,
    drawdown_event,
    post_event,
    read_state,
)
from linewise.ledger.store.repository import load_account_events, load_state
from linewise.ledger.store.tables import events as events_table

pytestmark = pytest.mark.postgres

PRODUCT = Product()
DAY = date(2025, 3, 3)
THREADS = 16
LIMIT = 1_000_000
ROUNDS = 4

Outcome = PostingResult | LedgerRejected


def race(calls: list[Callable[[], PostingResult]]) -> list[Outcome]:
    """Run every call on its own thread, all released at once; refusals are returned."""
    barrier = threading.Barrier(len(calls))

    def run(call: Callable[[], PostingResult]) -> Outcome:
        barrier.wait(timeout=30)
        try:
            return call()
        except LedgerRejected as exc:
            return exc

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        futures = [pool.submit(run, call) for call in calls]
        return [future.result(timeout=120) for future in futures]


def poster(engine, event: Event) -> Callable[[], PostingResult]:
    return lambda: post_event(engine, event)


def open_line(engine, account: str, limit: int = LIMIT) -> None:
    post_event(
        engine,
        LineOpened(
            account_id=account,
            occurred_on=DAY,
            idempotency_key=f"{account}-open",
            customer_id="C",
            currency="CNY",
            credit_limit=limit,
        ),
    )


def draw(account: str, amount: int, key: str, on: date = DAY) -> DrawdownPosted:
    return drawdown_event(
        PRODUCT,
        None,
        account_id=account,
        amount=amount,
        term_months=12,
        method="equal_instalment",
        purpose="daily_consumption",
        occurred_on=on,
        idempotency_key=key,
    )


def stored_events(engine, account: str) -> list[Event]:
    with engine.connect() as conn:
        return load_account_events(conn, account)


def stored_state(engine, account: str) -> LineState | None:
    with engine.connect() as conn:
        return load_state(conn, account, for_update=False)


def rows_with_key(engine, key: str) -> int:
    with engine.connect() as conn:
        return conn.execute(
            select(func.count()).select_from(events_table).where(events_table.c.idempotency_key == key)
        ).scalar_one()


def replay_checking_every_step(events: list[Event]) -> LineState:
    """Apply the log one event at a time; a step the ledger would refuse raises.

    After every drawdown the principal outstanding must be within the limit in
    force at that point of the log.
    """
    state: LineState | None = None
    for event in events:
        state = apply(state, event).state
        if isinstance(event, DrawdownPosted):
            assert state.line.status is LineStatus.ACTIVE
            assert state.principal_outstanding <= state.line.credit_limit
    assert state is not None
    return state


def accepted(outcomes: list[Outcome]) -> list[PostingResult]:
    return [o for o in outcomes if isinstance(o, PostingResult)]


def refused(outcomes: list[Outcome]) -> list[LedgerRejected]:
    return [o for o in outcomes if isinstance(o, LedgerRejected)]


@pytest.mark.parametrize("round_", range(ROUNDS))
def test_concurrent_drawdowns_never_exceed_the_limit_and_the_store_equals_a_replay(pg_engine, round_):
    account = f"race-{round_}"
    open_line(pg_engine, account)
    rng = random.Random(round_)
    amounts = [rng.randrange(100_000, 300_001, 100) for _ in range(THREADS)]
    draws = [draw(account, amount, f"{account}-d{n}") for n, amount in enumerate(amounts)]

    outcomes = race([poster(pg_engine, d) for d in draws])

    ok = [d for d, o in zip(draws, outcomes, strict=True) if isinstance(o, PostingResult)]
    no = [d for d, o in zip(draws, outcomes, strict=True) if isinstance(o, LedgerRejected)]
    assert {e.code for e in refused(outcomes)} <= {"exceeds_available_limit"}
    assert not any(r.duplicate for r in accepted(outcomes))
    total = sum(d.amount for d in ok)
    assert 0 < total <= LIMIT
    state = read_state(pg_engine, account)
    assert state.principal_outstanding == total
    assert len(state.drawdowns) == len(ok)
    # Available credit only falls here, so every refused drawdown still does not fit.
    assert all(d.amount > state.available_credit for d in no)
    log = stored_events(pg_engine, account)
    assert len(log) == 1 + len(ok)
    assert {e.idempotency_key for e in log[1:]} == {d.idempotency_key for d in ok}
    assert replay(log).state == stored_state(pg_engine, account) == state
    assert replay_checking_every_step(log) == state
    # Each accepted result saw the balance left by the drawdowns before it in the log.
    balances = sorted(r.result["principal_outstanding"] for r in accepted(outcomes))
    running = [sum(e.amount for e in log[1 : n + 1] if isinstance(e, DrawdownPosted)) for n in range(1, len(log))]
    assert balances == running


def cut_event(account: str, cut: str) -> LimitChanged | StatusChanged:
    if cut == "limit":
        return LimitChanged(
            account_id=account,
            occurred_on=DAY,
            idempotency_key=f"{account}-cut",
            new_limit=LIMIT // 2,
            reason_code="risk_review",
        )
    return StatusChanged(
        account_id=account,
        occurred_on=DAY,
        idempotency_key=f"{account}-cut",
        new_status=LineStatus.FROZEN,
        reason_code="fraud_suspected",
    )


@pytest.mark.parametrize("round_", range(ROUNDS))
@pytest.mark.parametrize("cut", ["limit", "freeze"])
def test_drawdowns_racing_a_limit_cut_or_a_freeze_never_draw_past_it(pg_engine, cut, round_):
    account = f"{cut}-{round_}"
    open_line(pg_engine, account)
    rng = random.Random(round_)
    draws = [draw(account, rng.randrange(60_000, 200_001, 100), f"{account}-d{n}") for n in range(THREADS - 1)]
    change = cut_event(account, cut)
    calls = [poster(pg_engine, d) for d in draws]
    cut_at = round_ * (THREADS - 1) // max(1, ROUNDS - 1)
    calls.insert(cut_at, poster(pg_engine, change))

    outcomes = race(calls)

    # The limit cut and the freeze are always allowed; only drawdowns may be refused.
    assert isinstance(outcomes[cut_at], PostingResult)
    expected_codes = {"exceeds_available_limit"} | ({"line_frozen"} if cut == "freeze" else set())
    assert {e.code for e in refused(outcomes)} <= expected_codes
    log = stored_events(pg_engine, account)
    keys = [e.idempotency_key for e in log]
    assert change.idempotency_key in keys
    at = keys.index(change.idempotency_key)
    state = replay_checking_every_step(log)
    assert replay(log).state == stored_state(pg_engine, account) == read_state(pg_engine, account)
    before = replay(log[: at + 1]).state
    drawn_after = sum(e.amount for e in log[at + 1 :] if isinstance(e, DrawdownPosted))
    if cut == "limit":
        assert state.line.credit_limit == LIMIT // 2
        assert drawn_after <= max(0, LIMIT // 2 - before.principal_outstanding)
        assert drawn_after <= LIMIT // 2
    else:
        assert state.line.status is LineStatus.FROZEN
        assert drawn_after == 0
        assert all(r.result["status"] == "active" for r in accepted(outcomes) if r.result["kind"] == "drawdown")
    assert state.principal_outstanding == sum(e.amount for e in log if isinstance(e, DrawdownPosted))


def duplicate_of(kind: str, account: str) -> Event:
    if kind == "opening":
        return LineOpened(
            account_id=account,
            occurred_on=DAY,
            idempotency_key=f"{account}-open",
            customer_id="C",
            currency="CNY",
            credit_limit=LIMIT,
        )
    if kind == "drawdown":
        return draw(account, 400_000, "same-drawdown", on=DAY + timedelta(days=2))
    return RepaymentPosted(
        account_id=account, occurred_on=DAY + timedelta(days=40), idempotency_key="same-repayment", amount=123_400
    )


@pytest.mark.parametrize("kind", ["opening", "drawdown", "repayment"])
def test_concurrent_duplicates_of_one_idempotency_key_post_once(pg_engine, kind):
    account = f"dup-{kind}"
    if kind != "opening":
        open_line(pg_engine, account)
    if kind == "repayment":
        post_event(pg_engine, draw(account, 600_000, "first-drawdown"))
    before = stored_state(pg_engine, account)
    event = duplicate_of(kind, account)

    outcomes = race([poster(pg_engine, event) for _ in range(THREADS)])

    assert refused(outcomes) == []
    results = accepted(outcomes)
    assert [r.duplicate for r in results].count(False) == 1
    assert all(r.result == results[0].result for r in results)
    assert rows_with_key(pg_engine, event.idempotency_key) == 1
    after = read_state(pg_engine, account)
    expected = apply(before, event).state
    assert after == expected
    if kind == "drawdown":
        assert after.principal_outstanding == before.principal_outstanding + 400_000
    if kind == "repayment":
        assert 0 < before.principal_outstanding - after.principal_outstanding < 123_400
        paid = results[0].result["allocated"]
        assert sum(paid.values()) == 123_400
        assert after.principal_outstanding == before.principal_outstanding - paid["principal"]
    log = stored_events(pg_engine, account)
    assert replay(log).state == after


def test_reads_during_postings_see_one_consistent_snapshot(pg_engine):
    """A reader never sees a drawdown without its instalments (no torn reads)."""
    opened_on = date(2025, 1, 2)
    post_event(
        pg_engine,
        LineOpened(
            account_id="T",
            occurred_on=opened_on,
            idempotency_key="T-o",
            customer_id="C",
            currency="CNY",
            credit_limit=5_000_000,
        ),
    )
    product = Product()
    done = threading.Event()

    def write() -> None:
        for n in range(60):
            post_event(
                pg_engine,
                drawdown_event(
                    product,
                    None,
                    account_id="T",
                    amount=50_000,
                    term_months=3,
                    method="equal_instalment",
                    purpose="travel",
                    occurred_on=opened_on,
                    idempotency_key=f"T-d{n}",
                ),
            )
        done.set()

    writer = threading.Thread(target=write)
    writer.start()
    reads = 0
    while not done.is_set() or reads == 0:
        state = read_state(pg_engine, "T")
        assert all(d.instalments for d in state.drawdowns)
        assert state.principal_outstanding == 50_000 * len(state.drawdowns)
        reads += 1
    writer.join()
    assert len(read_state(pg_engine, "T").drawdowns) == 60
