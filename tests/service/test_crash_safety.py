"""A server killed in the middle of 500 postings keeps every one it acknowledged, half-applies none, and retries converge.

A real ``linewise serve`` on PostgreSQL takes 500 drawdowns and repayments, each with
an idempotency key, from 32 concurrent clients: a customer on its own lines, an admin
on another customer's (audited). Once a number of them (drawn per seed) have been
acknowledged, the server is killed with SIGKILL, in the middle of whatever it was
doing. Then, with the server dead, the ledger is read:

- every posting a client saw acknowledged (2xx) is in the ledger once, as it was told;
- no line is half-posted: each line's state (what the API reads) is its events
  replayed, its allocations are exactly the replay's (none without its repayment),
  and every acknowledged admin posting is in the audit log.

The server is started again and every key is posted again, acknowledged or not:
each answers 201, an acknowledged one with the answer it first had (``duplicate``);
each key is then in the ledger once and the lines are still their events replayed;
the admin's postings are each audited once. Every posting is valid in any order (the lines have
room for all the drawdowns and owe more than all the repayments), so any refusal is
a failure.
"""

from __future__ import annotations

import json
import random
import threading
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx2
import pytest
from sqlalchemy import func, select
from tests.service._server import ServerProcess
from tests.service.conftest import PASSWORD, SECRET, _fill, database_url
from tests.strategies import thorough

from linewise.ledger.events import LineOpened
from linewise.ledger.posting import replay
from linewise.ledger.product import Product
from linewise.ledger.service import drawdown_event, post_event, read_state
from linewise.ledger.store.repository import load_account_events
from linewise.ledger.store.tables import allocations, audit_log, events

# A real server or every operation of the API: part of `make test`, not of `make test-fast`.
pytestmark = pytest.mark.slow

POSTINGS = 500
CLIENTS = 32
# Customer C1 (user cat) posts on the odd lines, the admin (ada) on C2's even ones.
LINES = [f"S{n:02d}" for n in range(1, 41)]
LIMIT = 50_000_000
# Drawn twice on opening (the product's largest drawdown), so that every line owes far
# more than all the repayments the storm makes on it.
OPENING_DRAW = 5_000_000
TERM_MONTHS = 12
# The storm's drawdowns are short: fewer instalments for every later posting to read.
STORM_TERM_MONTHS = 3
# The fields of a posting's answer that a retry repeats (duplicate and follow_up differ).
_FOLLOW_UP_FIELDS = {"duplicate", "follow_up"}


@dataclass(frozen=True)
class Posting:
    """One request of the storm: a drawdown or a repayment on a line, by its customer or the admin."""

    key: str
    account: str
    kind: str
    amount: int

    @property
    def user(self) -> str:
        return "cat" if int(self.account[1:]) % 2 else "ada"

    @property
    def path(self) -> str:
        return f"/accounts/{self.account}/{'drawdowns' if self.kind == 'drawdown' else 'repayments'}"

    @property
    def body(self) -> dict[str, int]:
        if self.kind == "drawdown":
            return {"amount": self.amount, "term_months": STORM_TERM_MONTHS}
        return {"amount": self.amount}


@dataclass(frozen=True)
class Answer:
    """What a client saw: a status and body, or the transport error (the server gone)."""

    status: int | None
    body: dict[str, Any] | None
    error: str | None = None

    @property
    def acknowledged(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


def storm_plan(seed: int) -> list[Posting]:
    """500 postings spread over the lines: four in ten drawdowns of 500-2,000 CNY, the rest repayments of 10-200."""
    rng = random.Random(seed)
    plan = []
    for n in range(POSTINGS):
        account = rng.choice(LINES)
        if rng.random() < 0.4:
            plan.append(Posting(f"storm-{seed}-{n}", account, "drawdown", rng.randrange(50_000, 200_001, 100)))
        else:
            plan.append(Posting(f"storm-{seed}-{n}", account, "repayment", rng.randrange(1_000, 20_001, 10)))
    return plan


def _fill_with_storm_lines(engine) -> None:
    """The service's test ledger, and the storm's lines opened today with two drawdowns each."""
    _fill(engine)
    today = datetime.now(UTC).date()
    product = Product()
    for account in LINES:
        customer = "C1" if int(account[1:]) % 2 else "C2"
        post_event(
            engine,
            LineOpened(
                account_id=account,
                occurred_on=today,
                idempotency_key=f"open-{account}",
                customer_id=customer,
                currency="CNY",
                credit_limit=LIMIT,
            ),
        )
        for n in (1, 2):
            post_event(
                engine,
                drawdown_event(
                    product,
                    read_state(engine, account),
                    account_id=account,
                    amount=OPENING_DRAW,
                    term_months=TERM_MONTHS,
                    method="equal_instalment",
                    purpose="daily_consumption",
                    occurred_on=today,
                    idempotency_key=f"open-draw-{account}-{n}",
                ),
            )


@pytest.fixture
def storm_ledger(pg_server_url, store_templates) -> Iterator[Any]:
    """A PostgreSQL ledger of the test's own with the storm's lines (made today, so copied from today's template)."""
    key = f"crash-ledger-{datetime.now(UTC).date()}"
    with store_templates.postgresql(pg_server_url, key, _fill_with_storm_lines) as engine:
        yield engine


@pytest.fixture
def server(storm_ledger, model_files, tmp_path) -> Iterator[ServerProcess]:
    model_dir, strategy = model_files
    env = {"LINEWISE_DATABASE_URL": database_url(storm_ledger), "LINEWISE_SECRET": SECRET}
    process = ServerProcess(model_dir=model_dir, strategy=strategy, env=env, log=tmp_path / "server.log")
    process.start()
    yield process
    process.stop()


def sign_in(url: str, username: str) -> str:
    answer = httpx2.post(f"{url}/auth/token", data={"username": username, "password": PASSWORD}, timeout=10.0)
    assert answer.status_code == 200, answer.text
    return str(answer.json()["access_token"])


def post_all(
    url: str, plan: Sequence[Posting], tokens: dict[str, str], *, kill_after: int | None, kill: Callable[[], None]
) -> dict[str, Answer]:
    """Each posting sent once, by CLIENTS threads; ``kill`` called as the ``kill_after``-th answer comes back 2xx."""
    local = threading.local()
    clients: list[httpx2.Client] = []
    lock = threading.Lock()
    acknowledged = 0

    def client() -> httpx2.Client:
        if not hasattr(local, "client"):
            local.client = httpx2.Client(base_url=url, timeout=httpx2.Timeout(30.0, connect=5.0))
            with lock:
                clients.append(local.client)
        return local.client

    def send(posting: Posting) -> tuple[str, Answer]:
        nonlocal acknowledged
        headers = {"Authorization": f"Bearer {tokens[posting.user]}", "Idempotency-Key": posting.key}
        try:
            response = client().post(posting.path, json=posting.body, headers=headers)
        except httpx2.TransportError as exc:
            return posting.key, Answer(None, None, type(exc).__name__)
        answer = Answer(response.status_code, response.json())
        if answer.acknowledged:
            with lock:
                acknowledged += 1
                last = acknowledged == kill_after
            if last:
                kill()
        return posting.key, answer

    try:
        with ThreadPoolExecutor(max_workers=CLIENTS) as pool:
            return dict(pool.map(send, plan))
    finally:
        for made in clients:
            made.close()


def posting_fields(body: dict[str, Any]) -> dict[str, Any]:
    """What the posting answered (the fields it has: the ledger stores a repayment's without drawdown_seq)."""
    return {name: value for name, value in body.items() if name not in _FOLLOW_UP_FIELDS and value is not None}


def assert_lines_are_their_events_replayed(engine) -> None:
    """Each line's state is its events replayed, and its allocations are exactly the replay's."""
    with engine.connect() as conn:
        for account in LINES:
            replayed = replay(load_account_events(conn, account))
            stored = conn.execute(
                select(
                    allocations.c.event_key,
                    allocations.c.drawdown_seq,
                    allocations.c.instalment_number,
                    allocations.c.component,
                    allocations.c.amount,
                ).where(allocations.c.account_id == account)
            ).all()
            expected = [
                (a.event_key, a.drawdown_seq, a.instalment_number, a.component, a.amount) for a in replayed.allocations
            ]
            assert Counter(tuple(row) for row in stored) == Counter(expected), account
            assert read_state(engine, account) == replayed.state, account


def stored_postings(engine, keys: Sequence[str]) -> dict[str, list[dict[str, Any]]]:
    """The stored results of each key's events (a list: more than one would be a key posted twice)."""
    found: dict[str, list[dict[str, Any]]] = {key: [] for key in keys}
    with engine.connect() as conn:
        rows = conn.execute(
            select(events.c.idempotency_key, events.c.result).where(events.c.idempotency_key.in_(list(keys)))
        ).all()
    for key, result in rows:
        found[key].append(json.loads(result))
    return found


def audit_counts(engine, plan: Sequence[Posting]) -> dict[str, int]:
    """How many audit rows name each admin posting (by its account and key)."""
    admins = [p for p in plan if p.user == "ada"]
    with engine.connect() as conn:
        rows = conn.execute(
            select(audit_log.c.target, audit_log.c.ref, func.count())
            .where(audit_log.c.ref.in_([p.key for p in admins]))
            .group_by(audit_log.c.target, audit_log.c.ref)
        ).all()
    counted = {(target, ref): int(count) for target, ref, count in rows}
    return {p.key: counted.get((f"account:{p.account}", p.key), 0) for p in admins}


# Three storms under the ci profile, one on a laptop.
@pytest.mark.parametrize("seed", [1, 2, 3] if thorough() else [1])
def test_a_server_killed_mid_storm_keeps_what_it_acknowledged_and_retries_converge(server, storm_ledger, seed):
    plan = storm_plan(seed)
    keys = [p.key for p in plan]
    tokens = {user: sign_in(server.url, user) for user in ("cat", "ada")}
    kill_after = random.Random(seed).randrange(100, 300)

    first = post_all(server.url, plan, tokens, kill_after=kill_after, kill=server.kill)
    assert not server.is_running
    acknowledged = {key for key, answer in first.items() if answer.acknowledged}
    refused = {key: answer for key, answer in first.items() if answer.status is not None and not answer.acknowledged}
    assert refused == {}, "every posting of the storm is valid in any order"
    assert len(acknowledged) >= kill_after
    assert len(acknowledged) < POSTINGS, "the server must die before the storm is over"

    # The server is dead: the ledger holds what was committed.
    stored = stored_postings(storm_ledger, keys)
    for key in acknowledged:
        assert [posting_fields(first[key].body)] == stored[key], key
    assert all(len(results) <= 1 for results in stored.values())
    assert_lines_are_their_events_replayed(storm_ledger)
    audited = audit_counts(storm_ledger, plan)
    assert all(audited[key] == 1 for key in acknowledged if key in audited)

    server.start()
    tokens = {user: sign_in(server.url, user) for user in ("cat", "ada")}
    retried = post_all(server.url, plan, tokens, kill_after=None, kill=server.kill)
    for key, answer in retried.items():
        assert answer.status == 201, (key, answer)
        if key in acknowledged:
            assert answer.body["duplicate"], key
            assert posting_fields(answer.body) == posting_fields(first[key].body), key

    stored = stored_postings(storm_ledger, keys)
    assert all(len(results) == 1 for results in stored.values()), "each key is posted exactly once"
    assert all(posting_fields(retried[key].body) == stored[key][0] for key in keys)
    assert_lines_are_their_events_replayed(storm_ledger)
    assert set(audit_counts(storm_ledger, plan).values()) == {1}, "each admin posting is audited once"
