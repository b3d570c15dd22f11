"""Decisions applied to their lines: events, idempotency, staleness, freezes, races.

Every test runs on SQLite and PostgreSQL (the ``engine`` fixture) unless it is a
race, which needs PostgreSQL's row locks and real concurrency.
"""

import random
import time
from datetime import date, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select, text
from tests.ledger.common import snapshot
from tests.ledger.test_store_concurrency import draw, race, replay_checking_every_step

from linewise.errors import InputError, LedgerRejected
from linewise.ledger.decisions import (
    FREEZE_LIFTED,
    Applied,
    LineDecision,
    Refused,
    apply_decision,
    apply_decisions,
    line_versions,
)
from linewise.ledger.events import LineOpened, RepaymentPosted, StatusChanged
from linewise.ledger.model import LineStatus
from linewise.ledger.posting import replay
from linewise.ledger.service import post_event, read_state
from linewise.ledger.store.repository import load_account_events
from linewise.ledger.store.tables import events as events_table

OPENED = date(2025, 3, 3)
DECIDED = date(2025, 4, 1)
LIMIT = 1_000_000
ACTIVE, FROZEN = LineStatus.ACTIVE, LineStatus.FROZEN


def open_line(engine, account="A", limit=LIMIT, on=OPENED):
    post_event(
        engine,
        LineOpened(
            account_id=account,
            occurred_on=on,
            idempotency_key=f"{account}:open",
            customer_id=f"C-{account}",
            currency="CNY",
            credit_limit=limit,
        ),
    )


def version_of(engine, account="A"):
    return line_versions(engine, [account])[account]


def decision(
    engine,
    action,
    new_limit=None,
    *,
    account="A",
    ref="decision:1",
    on=DECIDED,
    reason="dpd_above_max",
    version="now",
    current=None,
):
    """A decision made from the line as it stands now (its limit and version)."""
    state = read_state(engine, account)
    current = state.line.credit_limit if current is None else current
    return LineDecision(
        account_id=account,
        decision_ref=ref,
        action=action,
        current_limit=current,
        new_limit=current if new_limit is None else new_limit,
        decided_on=on,
        seen_version=version_of(engine, account) if version == "now" else version,
        reason_code=reason,
    )


def event_rows(engine):
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(events_table)).scalar_one()


def stored_events(engine, account="A"):
    with engine.connect() as conn:
        return load_account_events(conn, account)


def freeze_by_hand(engine, account="A", on=OPENED):
    post_event(
        engine,
        StatusChanged(
            account_id=account,
            occurred_on=on,
            idempotency_key=f"{account}:hand-freeze",
            new_status=FROZEN,
            reason_code="fraud_suspected",
        ),
    )


# --- each action --------------------------------------------------------------------


def test_an_increase_raises_the_limit_with_the_decisions_reason_and_reference(engine):
    open_line(engine)
    applied = apply_decision(engine, decision(engine, "increase", 1_500_000, reason="repaid_on_time"))
    assert applied == Applied("A", "decision:1", ("limit_changed",), LIMIT, 1_500_000, ACTIVE, ACTIVE)
    assert read_state(engine, "A").line.credit_limit == 1_500_000
    with engine.connect() as conn:
        row = conn.execute(
            select(
                events_table.c.kind,
                events_table.c.reason_code,
                events_table.c.decision_ref,
                events_table.c.occurred_on,
                events_table.c.idempotency_key,
            )
            .order_by(events_table.c.id.desc())
            .limit(1)
        ).one()
    assert tuple(row) == ("limit_changed", "repaid_on_time", "decision:1", DECIDED, "decision:1:limit")


def test_a_decrease_cuts_the_limit_and_draws_are_judged_against_the_cut(engine):
    open_line(engine)
    applied = apply_decision(engine, decision(engine, "decrease", 400_000))
    assert (applied.events, applied.limit_after) == (("limit_changed",), 400_000)
    with pytest.raises(LedgerRejected) as info:
        post_event(engine, draw("A", 400_100, "d1", on=DECIDED))
    assert info.value.code == "exceeds_available_limit"
    post_event(engine, draw("A", 400_000, "d2", on=DECIDED))


def test_a_hold_writes_nothing(engine):
    open_line(engine)
    before = snapshot(engine)
    applied = apply_decision(engine, decision(engine, "hold"))
    assert applied == Applied("A", "decision:1", (), LIMIT, LIMIT, ACTIVE, ACTIVE)
    assert snapshot(engine) == before


def test_a_freeze_that_cuts_posts_the_cut_then_the_freeze_and_stops_drawdowns(engine):
    open_line(engine)
    applied = apply_decision(engine, decision(engine, "freeze", 300_000))
    assert applied == Applied("A", "decision:1", ("limit_changed", "status_changed"), LIMIT, 300_000, ACTIVE, FROZEN)
    log = stored_events(engine)
    assert [e.kind for e in log] == ["line_opened", "limit_changed", "status_changed"]
    assert log[2].decision_ref == "decision:1"
    assert log[2].reason_code == "dpd_above_max"
    with pytest.raises(LedgerRejected) as info:
        post_event(engine, draw("A", 100_000, "d1", on=DECIDED))
    assert info.value.code == "line_frozen"


def test_a_freeze_at_the_same_limit_only_freezes(engine):
    open_line(engine)
    applied = apply_decision(engine, decision(engine, "freeze"))
    assert applied.events == ("status_changed",)
    assert read_state(engine, "A").line.credit_limit == LIMIT


def test_a_freeze_on_a_frozen_line_changes_nothing(engine):
    open_line(engine)
    apply_decision(engine, decision(engine, "freeze", ref="decision:1"))
    before = snapshot(engine)
    applied = apply_decision(engine, decision(engine, "freeze", ref="decision:2"))
    assert applied == Applied("A", "decision:2", (), LIMIT, LIMIT, FROZEN, FROZEN)
    assert snapshot(engine) == before


# --- lifting a freeze -------------------------------------------------------------------


@pytest.mark.parametrize(("action", "new_limit"), [("hold", LIMIT // 2), ("increase", LIMIT), ("decrease", LIMIT // 4)])
def test_a_decision_that_is_not_a_freeze_lifts_the_freeze_a_decision_put_on(engine, action, new_limit):
    open_line(engine)
    apply_decision(engine, decision(engine, "freeze", LIMIT // 2, ref="decision:1"))
    applied = apply_decision(
        engine,
        decision(engine, action, new_limit, ref="decision:2", on=DECIDED + timedelta(days=30), reason="repaid_on_time"),
    )
    cut_or_raised = ("limit_changed",) if new_limit != LIMIT // 2 else ()
    assert applied == Applied(
        "A", "decision:2", (*cut_or_raised, "status_changed"), LIMIT // 2, new_limit, FROZEN, ACTIVE
    )
    lifted = stored_events(engine)[-1]
    assert (lifted.new_status, lifted.reason_code, lifted.decision_ref) == (ACTIVE, FREEZE_LIFTED, "decision:2")
    post_event(engine, draw("A", 100_000, "d1", on=DECIDED + timedelta(days=30)))


@pytest.mark.parametrize(("action", "new_limit"), [("hold", LIMIT), ("increase", 2 * LIMIT), ("decrease", LIMIT // 4)])
def test_a_line_frozen_by_hand_stays_frozen_whatever_the_decision(engine, action, new_limit):
    open_line(engine)
    freeze_by_hand(engine)
    applied = apply_decision(engine, decision(engine, action, new_limit))
    assert applied.kept_frozen_by_hand
    assert applied.status_after is FROZEN
    assert applied.limit_after == new_limit
    assert "status_changed" not in applied.events
    assert read_state(engine, "A").line.status is FROZEN
    again = apply_decision(engine, decision(engine, action, new_limit, version=None, current=LIMIT))
    assert again.kept_frozen_by_hand
    assert again.duplicate == (new_limit != LIMIT)


def test_a_freeze_by_hand_after_a_decisions_freeze_is_not_lifted_by_a_decision(engine):
    open_line(engine)
    apply_decision(engine, decision(engine, "freeze", ref="decision:1"))
    post_event(
        engine,
        StatusChanged(
            account_id="A",
            occurred_on=DECIDED,
            idempotency_key="unfreeze",
            new_status=ACTIVE,
            reason_code="operator_review",
        ),
    )
    freeze_by_hand(engine, on=DECIDED)
    applied = apply_decision(engine, decision(engine, "hold", ref="decision:2"))
    assert applied.kept_frozen_by_hand
    assert read_state(engine, "A").line.status is FROZEN


# --- idempotent by decision ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("action", "new_limit", "frozen_first"),
    [
        ("increase", 2 * LIMIT, False),
        ("decrease", LIMIT // 2, False),
        ("freeze", LIMIT // 2, False),
        ("freeze", LIMIT, False),
        ("hold", LIMIT, True),
        ("increase", 2 * LIMIT, True),
    ],
)
def test_applying_a_decision_twice_writes_nothing_and_gives_the_first_outcome(engine, action, new_limit, frozen_first):
    open_line(engine)
    if frozen_first:
        apply_decision(engine, decision(engine, "freeze", ref="decision:0", on=OPENED))
    made = decision(engine, action, new_limit)
    first = apply_decision(engine, made)
    rows, before = event_rows(engine), snapshot(engine)

    again = apply_decision(engine, made)

    assert again.duplicate
    assert again == Applied(**{**{f: getattr(first, f) for f in first.__slots__}, "duplicate": True})
    assert (event_rows(engine), snapshot(engine)) == (rows, before)


def test_a_decision_applied_before_the_line_moved_is_a_duplicate_not_stale(engine):
    open_line(engine)
    made = decision(engine, "decrease", LIMIT // 2)
    first = apply_decision(engine, made)
    post_event(engine, draw("A", 100_000, "d1", on=DECIDED + timedelta(days=3)))
    rows = event_rows(engine)
    assert apply_decision(engine, made).limit_after == first.limit_after
    assert event_rows(engine) == rows


def test_the_same_reference_with_another_limit_is_refused_and_writes_nothing(engine):
    open_line(engine)
    apply_decision(engine, decision(engine, "decrease", LIMIT // 2))
    before = snapshot(engine)
    with pytest.raises(LedgerRejected) as info:
        apply_decision(engine, decision(engine, "decrease", LIMIT // 4, version=None, current=LIMIT))
    assert info.value.code == "event_exists_with_different_new_limit"
    assert snapshot(engine) == before


# --- refused when stale -----------------------------------------------------------------


def test_a_decision_made_before_the_line_moved_is_refused_as_stale_and_writes_nothing(engine):
    open_line(engine)
    made = decision(engine, "decrease", LIMIT // 2)
    post_event(engine, draw("A", 100_000, "d1", on=OPENED))
    before = snapshot(engine)
    with pytest.raises(LedgerRejected) as info:
        apply_decision(engine, made)
    assert info.value.code == "decision_stale"
    message = str(info.value)
    assert message.startswith("A: the line's version must be 1")
    assert "decide again" in message
    assert message.endswith("got 2")
    assert snapshot(engine) == before


def test_a_decision_dated_before_the_lines_last_event_is_stale(engine):
    open_line(engine)
    post_event(engine, draw("A", 100_000, "d1", on=DECIDED))
    before = snapshot(engine)
    with pytest.raises(LedgerRejected) as info:
        apply_decision(engine, decision(engine, "decrease", LIMIT // 2, version=None, on=DECIDED - timedelta(days=1)))
    assert info.value.code == "decision_stale"
    assert info.value.detail.startswith(f"decided_on must be on or after the line's last event {DECIDED}")
    assert snapshot(engine) == before


def test_a_decision_made_from_another_limit_is_stale_even_without_a_version(engine):
    open_line(engine)
    with pytest.raises(LedgerRejected) as info:
        apply_decision(engine, decision(engine, "increase", 3 * LIMIT, version=None, current=2 * LIMIT))
    assert info.value.code == "decision_stale"
    assert "the line's limit must be 2000000" in str(info.value)


def test_without_a_version_a_line_that_moved_but_kept_its_limit_takes_the_decision(engine):
    open_line(engine)
    made = decision(engine, "decrease", LIMIT // 2, version=None)
    post_event(engine, draw("A", 100_000, "d1", on=OPENED))
    assert apply_decision(engine, made).limit_after == LIMIT // 2


# --- what the ledger allows -----------------------------------------------------------


def test_a_cut_below_the_balance_is_allowed_and_leaves_no_credit_to_draw(engine):
    open_line(engine)
    post_event(engine, draw("A", 600_000, "d1", on=OPENED))
    applied = apply_decision(engine, decision(engine, "decrease", 200_000))
    assert applied.limit_after == 200_000
    state = read_state(engine, "A")
    assert (state.principal_outstanding, state.available_credit) == (600_000, 0)
    with pytest.raises(LedgerRejected) as info:
        post_event(engine, draw("A", 50_000, "d2", on=DECIDED))
    assert info.value.code == "exceeds_available_limit"
    post_event(
        engine,
        RepaymentPosted(account_id="A", occurred_on=DECIDED + timedelta(days=5), idempotency_key="r1", amount=10_000),
    )


def test_unknown_and_closed_lines_are_refused(engine):
    open_line(engine)
    made = decision(engine, "increase", 2 * LIMIT)
    post_event(
        engine,
        StatusChanged(
            account_id="A",
            occurred_on=OPENED,
            idempotency_key="close",
            new_status=LineStatus.CLOSED,
            reason_code="customer_request",
        ),
    )
    with pytest.raises(LedgerRejected) as closed:
        apply_decision(engine, LineDecision(**{**{f: getattr(made, f) for f in made.__slots__}, "seen_version": None}))
    assert closed.value.code == "line_closed"
    with pytest.raises(LedgerRejected) as unknown:
        apply_decision(
            engine, LineDecision(**{**{f: getattr(made, f) for f in made.__slots__}, "account_id": "nobody"})
        )
    assert unknown.value.code == "account_not_found"


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"action": "raise"}, "decision_action_unknown"),
        ({"action": "increase", "new_limit": 100}, "decision_limit_inconsistent"),
        ({"action": "decrease", "new_limit": 1_000}, "decision_limit_inconsistent"),
        ({"action": "hold", "new_limit": 1_001}, "decision_limit_inconsistent"),
        ({"action": "freeze", "new_limit": 1_001}, "decision_limit_inconsistent"),
        ({"new_limit": -1}, "limit_must_not_be_negative"),
        ({"current_limit": True}, "limit_must_not_be_negative"),
        ({"decision_ref": "decision 1"}, "key_malformed"),
        ({"decision_ref": "d" * 122}, "key_malformed"),
        ({"reason_code": "Repaid On Time"}, "reason_malformed"),
        ({"account_id": ""}, "id_malformed"),
        ({"seen_version": 0}, "decision_version_invalid"),
        ({"decided_on": date(1800, 1, 1)}, "date_out_of_range"),
    ],
)
def test_a_malformed_decision_is_refused_when_built(changes, code):
    fields = {
        "account_id": "A",
        "decision_ref": "decision:1",
        "action": "decrease",
        "current_limit": 1_000,
        "new_limit": 500,
        "decided_on": DECIDED,
        "seen_version": 1,
        "reason_code": "dpd_above_max",
        **changes,
    }
    with pytest.raises(InputError) as info:
        LineDecision(**fields)
    assert info.value.code == code


# --- batches --------------------------------------------------------------------------


def test_a_batch_applies_each_decision_in_order_and_reports_refusals_without_stopping(engine):
    for account in ("A", "B", "C"):
        open_line(engine, account)
    made = [
        decision(engine, "decrease", LIMIT // 2, account="A", ref="a1"),
        decision(engine, "increase", 2 * LIMIT, account="B", ref="b1"),
        # made from the same version as b1: stale once b1 is applied
        decision(engine, "decrease", LIMIT // 2, account="B", ref="b2"),
        decision(engine, "freeze", account="C", ref="c1"),
        decision(engine, "hold", account="C", ref="c2", on=DECIDED + timedelta(days=1), version=None),
        decision(engine, "increase", 2 * LIMIT, account="A", ref="a1"),
    ]
    progress = []

    outcomes = apply_decisions(
        engine, made, chunk_size=4, on_progress=lambda done, total: progress.append((done, total))
    )

    assert progress == [(4, 6), (6, 6)]
    a1, b1, b2, c1, c2, a1_again = outcomes
    assert (a1.limit_after, b1.limit_after) == (LIMIT // 2, 2 * LIMIT)
    assert isinstance(b2, Refused)
    assert b2.code == "decision_stale"
    assert c1.status_after is FROZEN
    assert c2.events == ("status_changed",)  # c1 froze it, c2 lifts it
    assert isinstance(a1_again, Refused)
    assert a1_again.code == "event_exists_with_different_new_limit"
    assert [read_state(engine, a).line.credit_limit for a in "ABC"] == [LIMIT // 2, 2 * LIMIT, LIMIT]
    assert read_state(engine, "C").line.status is ACTIVE
    assert event_rows(engine) == 3 + 1 + 1 + 2


def test_a_batch_gives_what_one_by_one_gives(engine):
    for account in ("A", "B"):
        open_line(engine, account)
    made = [
        decision(engine, "freeze", LIMIT // 2, account="A", ref="a1", version=None),
        decision(engine, "increase", 2 * LIMIT, account="B", ref="b1", version=None),
        decision(engine, "hold", account="A", ref="a2", current=LIMIT // 2, version=None),
        decision(engine, "decrease", LIMIT, account="B", ref="b2", current=2 * LIMIT, version=None),
    ]
    batched = apply_decisions(engine, made, chunk_size=1_000)
    states = [read_state(engine, a) for a in "AB"]
    with engine.begin() as conn:
        for table in ("limit_history", "events", "lines"):
            conn.execute(text(f"DELETE FROM {table}"))
    for account in ("A", "B"):
        open_line(engine, account)
    one_by_one = [apply_decision(engine, d) for d in made]
    assert batched == one_by_one
    assert [read_state(engine, a) for a in "AB"] == states


# --- property: any sequence keeps the ledger's invariants; twice equals once ------------------

ACCOUNTS = ("A", "B")
steps = st.lists(
    st.tuples(
        st.sampled_from(["decide", "decide", "decide", "draw", "repay", "hand_freeze", "hand_unfreeze"]),
        st.sampled_from(ACCOUNTS),
        st.sampled_from(["increase", "hold", "decrease", "freeze"]),
        st.integers(min_value=0, max_value=4),  # how far the new limit moves, in 250,000s
        st.sampled_from(["now", "now", "none", "old"]),  # the version the decision was made from
        st.integers(min_value=0, max_value=20),  # days since the last step
    ),
    min_size=1,
    max_size=14,
)


def _new_limit(action, current, step):
    if action == "increase":
        return current + 250_000 * max(1, step)
    if action == "decrease":
        return max(0, current - 250_000 * max(1, step)) if current > 0 else None
    if action == "freeze":
        return max(0, current - 250_000 * step)
    return current


def _run_steps(engine, plan):
    for account in ACCOUNTS:
        open_line(engine, account)
    day, serial, versions = OPENED, 0, {a: [1] for a in ACCOUNTS}
    wrote = []
    for kind, account, action, step, seen, gap in plan:
        day += timedelta(days=gap)
        serial += 1
        state = read_state(engine, account)
        try:
            if kind == "draw":
                post_event(engine, draw(account, 100_000 * (1 + step), f"d{serial}", on=day))
            elif kind == "repay":
                post_event(
                    engine,
                    RepaymentPosted(account_id=account, occurred_on=day, idempotency_key=f"r{serial}", amount=50_000),
                )
            elif kind in ("hand_freeze", "hand_unfreeze"):
                status = FROZEN if kind == "hand_freeze" else ACTIVE
                post_event(
                    engine,
                    StatusChanged(
                        account_id=account,
                        occurred_on=day,
                        idempotency_key=f"s{serial}",
                        new_status=status,
                        reason_code="operator_review",
                    ),
                )
        except LedgerRejected:
            pass
        versions[account].append(version_of(engine, account))
        if kind != "decide":
            continue
        new_limit = _new_limit(action, state.line.credit_limit, step)
        if new_limit is None:
            continue
        version = {"now": versions[account][-1], "none": None, "old": versions[account][0]}[seen]
        made = LineDecision(
            account_id=account,
            decision_ref=f"decision:{serial}",
            action=action,
            current_limit=state.line.credit_limit,
            new_limit=new_limit,
            decided_on=day,
            seen_version=version,
            reason_code="review",
        )
        rows, before = event_rows(engine), snapshot(engine)
        first = apply_decisions(engine, [made])[0]
        _check_outcome(engine, made, first, state, rows, before)
        after_rows, after = event_rows(engine), snapshot(engine)
        again = apply_decisions(engine, [made])[0]
        assert (event_rows(engine), snapshot(engine)) == (after_rows, after)
        if isinstance(first, Applied) and first.events:
            wrote.append(made)
            assert again == Applied(**{**{f: getattr(first, f) for f in first.__slots__}, "duplicate": True})
        elif isinstance(first, Refused):
            assert isinstance(again, Refused)
            assert again.code == first.code
    return wrote


def _check_outcome(engine, made, outcome, state, rows, before):
    if isinstance(outcome, Refused):
        assert outcome.code in {"decision_stale", "line_closed"}
        assert (event_rows(engine), snapshot(engine)) == (rows, before)
        return
    after = read_state(engine, made.account_id)
    assert event_rows(engine) == rows + len(outcome.events)
    assert after.line.credit_limit == made.new_limit == outcome.limit_after
    assert outcome.limit_before == state.line.credit_limit
    if made.action == "freeze":
        assert after.line.status is FROZEN
    else:
        assert (after.line.status is FROZEN) == outcome.kept_frozen_by_hand


def _check_ledger(engine):
    for account in ACCOUNTS:
        log = stored_events(engine, account)
        state = read_state(engine, account)
        assert replay(log).state == state
        assert replay_checking_every_step(log) == state
        assert state.principal_outstanding >= 0


def _clear(engine):
    with engine.begin() as conn:
        for table in ("allocations", "instalments", "drawdowns", "limit_history", "events", "lines"):
            conn.execute(text(f"DELETE FROM {table}"))


@pytest.mark.parametrize("db", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def test_any_sequence_of_decisions_keeps_the_ledgers_invariants_and_twice_is_once(request, db):
    engine = request.getfixturevalue("sqlite_engine" if db == "sqlite" else "pg_engine")

    @settings(
        max_examples=30 if db == "sqlite" else 10,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture],
    )
    @given(plan=steps)
    def check(plan):
        _clear(engine)
        wrote = _run_steps(engine, plan)
        _check_ledger(engine)
        rows, before = event_rows(engine), snapshot(engine)
        again = apply_decisions(engine, wrote)
        assert all(isinstance(o, Applied) and o.duplicate for o in again)
        assert (event_rows(engine), snapshot(engine)) == (rows, before)

    check()


# --- races (PostgreSQL) -------------------------------------------------------------------

THREADS = 12
SEEDS = range(6)


def _after(pause, call, *args):
    def run():
        time.sleep(pause)
        return call(*args)

    return run


def _racing(engine, account, made, seed, threads=THREADS):
    """The decision and ``threads - 1`` drawdowns on their own threads, released together.

    Each waits a few random milliseconds first, so that across seeds the decision
    sometimes reaches the line's lock first and sometimes after a drawdown.
    """
    rng = random.Random(seed)
    draws = [
        draw(account, rng.randrange(60_000, 200_001, 100), f"{account}-d{n}", on=DECIDED) for n in range(threads - 1)
    ]
    calls = [_after(rng.uniform(0, 0.02), post_event, engine, d) for d in draws]
    calls.insert(seed % threads, _after(rng.uniform(0, 0.01), apply_decision, engine, made))
    outcomes = race(calls)
    return outcomes[seed % threads], stored_events(engine, account)


@pytest.mark.postgres
@pytest.mark.parametrize("seed", SEEDS)
def test_a_cut_racing_drawdowns_is_refused_as_stale_or_judges_every_later_drawdown(pg_engine, seed):
    account = f"cut-{seed}"
    open_line(pg_engine, account)
    made = decision(pg_engine, "decrease", LIMIT // 2, account=account, ref=f"{account}:dec")

    outcome, log = _racing(pg_engine, account, made, seed, threads=4)

    kinds = [e.kind for e in log]
    state = replay_checking_every_step(log)
    assert replay(log).state == read_state(pg_engine, account)
    if isinstance(outcome, LedgerRejected):
        # A drawdown came first: the line moved since the decision, which is refused whole.
        assert outcome.code == "decision_stale"
        assert "limit_changed" not in kinds
        assert kinds[1] == "drawdown"
        assert state.line.credit_limit == LIMIT
    else:
        # Nothing came first (the version was the decision's), and what came after saw the cut.
        assert kinds[:2] == ["line_opened", "limit_changed"]
        assert state.line.credit_limit == LIMIT // 2
        assert state.principal_outstanding <= LIMIT // 2


@pytest.mark.postgres
@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("action", ["decrease", "freeze"])
def test_a_cut_without_a_version_racing_drawdowns_holds_every_later_drawdown_to_it(pg_engine, seed, action):
    account = f"{action}-{seed}"
    open_line(pg_engine, account)
    made = decision(pg_engine, action, LIMIT // 2, account=account, ref=f"{account}:dec", version=None)

    outcome, log = _racing(pg_engine, account, made, seed)

    assert isinstance(outcome, Applied)
    at = next(n for n, e in enumerate(log) if e.idempotency_key == made.limit_key)
    before = replay(log[:at]).state
    drawn_after = sum(e.amount for e in log[at + 1 :] if e.kind == "drawdown")
    assert drawn_after <= max(0, LIMIT // 2 - before.principal_outstanding)
    if action == "freeze":
        assert log[at + 1].idempotency_key == made.status_key
        assert drawn_after == 0
    state = replay_checking_every_step(log)
    assert state == read_state(pg_engine, account)
    assert outcome.limit_before == LIMIT
