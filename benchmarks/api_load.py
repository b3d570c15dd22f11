"""The API under concurrent clients: a real ``linewise serve`` on PostgreSQL, over loopback.

In a database of its own on the PostgreSQL server (dropped at the end) it posts a
simulated book whose twelve months end last month, trains a small GBM on a synthetic
portfolio in the book's currency, saves it with a CNY strategy, starts ``linewise
serve`` on a free port of 127.0.0.1 and measures, one endpoint at a time, with
clients of this process (asyncio, httpx2, keep-alive connections):

- ``GET /healthz``, which touches nothing: the ceiling of this stack (uvicorn, FastAPI
  and this client on this machine);
- ``POST /accounts/{id}/decide`` (an analyst; the review trigger, with recourse, logged,
  not applied), closed loop, then open loop at a fixed offered rate (``--rate``): the
  latency counted from when each request was due to be sent, so that a server falling
  behind shows as latency and not as a client that waits;
- ``POST /accounts/{id}/drawdown-preview`` (the line's customer);
- ``POST /accounts/{id}/repayments`` (the line's customer; each with a new key), and,
  before the server starts, the ledger's own posting rate (``post_event``, 8 threads,
  no HTTP) on lines of the same database, as ``ledger_throughput.py`` measures it.

For each: requests, throughput, latency p50 and p99, the answers' statuses, and the
CPU the server and this client spent a request (from /proc). Every phase is bounded
in requests and in seconds. The targets (issue 13, on 2 cores): decide p99 < 50 ms at
200 requests/s; the preview at least half the throughput of /healthz; repayments at
least a third of the ledger's posting rate.

Usage::

    .venv/bin/python benchmarks/api_load.py [--lines 2000] [--clients 8] [--rate 200]

The PostgreSQL server is LINEWISE_BENCH_DATABASE_URL (default
postgresql://postgres@127.0.0.1:5432/postgres), used as an admin connection to CREATE
and DROP the benchmark database.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import httpx2
import numpy as np
from ledger_throughput import DEFAULT_ADMIN_URL, bench_database, repayment_rate
from sqlalchemy import Engine, func, select

import linewise
from linewise.calendar import add_months, month_end
from linewise.data.synthetic import SynthSpec, synthesize
from linewise.ledger.book import BookSpec, simulate_book
from linewise.ledger.dpd import dpd_as_of
from linewise.ledger.product import Product
from linewise.ledger.service import post_book, read_state
from linewise.ledger.store.tables import lines as lines_table
from linewise.models.artifacts import save_model
from linewise.models.inputs import inputs_from_portfolio
from linewise.models.training import train_model, training_data_hash
from linewise.service.tokens import Principal, issue_token
from linewise.strategy import default_strategy_text

START_TIMEOUT_S = 120.0
# A request slower than this is counted as failed (a server that stopped answering).
REQUEST_TIMEOUT_S = 60.0
PREVIEW_AMOUNT = 100_000
PREVIEW_TERM_MONTHS = 6
REPAYMENT_AMOUNT = 1_000


# --- the server -------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Server:
    """A ``linewise serve`` process on 127.0.0.1: its access log thrown away, the rest in ``log``."""

    process: subprocess.Popen[bytes]
    url: str
    log: Path

    def cpu_seconds(self) -> float:
        """User and system CPU the server process has used so far (Linux /proc)."""
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def start_server(model_dir: Path, strategy: Path, database_url: str, secret: str, log: Path) -> Server:
    port = free_port()
    env = {name: value for name, value in os.environ.items() if not name.startswith("LINEWISE_")}
    env |= {"LINEWISE_DATABASE_URL": database_url, "LINEWISE_SECRET": secret, "LINEWISE_MODE": "production"}
    command = [sys.executable, "-m", "linewise.cli.main", "serve", "--model", str(model_dir)]
    command += ["--strategy", str(strategy), "--host", "127.0.0.1", "--port", str(port)]
    with log.open("wb") as errors:
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=errors, env=env)
    server = Server(process, f"http://127.0.0.1:{port}", log)
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"linewise serve exited:\n{log.read_text(errors='replace')[-4000:]}")
        try:
            if httpx2.get(f"{server.url}/healthz", timeout=1.0).status_code == 200:
                return server
        except httpx2.TransportError:
            pass
        time.sleep(0.2)
    server.stop()
    raise RuntimeError(f"linewise serve did not answer within {START_TIMEOUT_S:.0f} s")


# --- the ledger, the model and the lines each endpoint is asked about -------------


def last_month_end(today: date) -> date:
    return month_end(add_months(today.replace(day=1), -1))


def make_model(root: Path, month: date) -> tuple[Path, Path]:
    """A small GBM on a synthetic CNY portfolio ending ``month``, and the default strategy in CNY."""
    portfolio = synthesize(
        SynthSpec(accounts=5_000, months=12, seed=7, currency="CNY", last_month=month, horizon_months=1)
    )
    inputs = inputs_from_portfolio(portfolio)
    trained = train_model(inputs, kind="gbm", folds=2)
    save_model(
        trained.model,
        trained.metrics,
        root / "model",
        model_id="bench-api",
        training_data_sha256=training_data_hash(inputs),
        trained_on="synthetic CNY, 5,000 accounts",
    )
    strategy = root / "strategy.yaml"
    strategy.write_text(default_strategy_text().replace("\ncurrency: TWD\n", "\ncurrency: CNY\n", 1), encoding="utf-8")
    return root / "model", strategy


@dataclass(frozen=True)
class Targets:
    """The lines each endpoint is asked about, and their customers."""

    every: list[tuple[str, str]]
    previewable: list[tuple[str, str]]
    owing: list[tuple[str, str]]


def pick_lines(engine: Engine, product: Product, today: date) -> Targets:
    """Lines a preview of PREVIEW_AMOUNT is not refused on, and lines owing more than a few repayments."""
    with engine.connect() as conn:
        rows = conn.execute(
            select(lines_table.c.account_id, lines_table.c.customer_id).where(lines_table.c.account_id.like("L%"))
        ).all()
    every, previewable, owing = [], [], []
    for account, customer in rows:
        state = read_state(engine, account)
        every.append((account, customer))
        if state.principal_outstanding >= 50 * REPAYMENT_AMOUNT:
            owing.append((account, customer))
        if (
            state.line.status.value == "active"
            and state.available_credit >= PREVIEW_AMOUNT
            and dpd_as_of(state, today) == 0
            and PREVIEW_TERM_MONTHS in product.terms_months
        ):
            previewable.append((account, customer))
    return Targets(every, previewable, owing)


def count_lines(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(lines_table)).scalar_one())


# --- load -----------------------------------------------------------------------------

Request = tuple[str, str, dict[str, Any] | None, dict[str, str]]


@dataclass
class Run:
    """What one phase measured."""

    latencies: list[float]
    statuses: Counter[int | str]
    seconds: float
    server_cpu: float
    client_cpu: float
    bodies: list[dict[str, Any]]

    @property
    def done(self) -> int:
        return len(self.latencies)

    @property
    def throughput(self) -> float:
        return self.done / self.seconds

    def percentile_ms(self, share: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(share * len(ordered)))] * 1000


async def _send(client: httpx2.AsyncClient, request: Request, run: Run, since: float) -> None:
    method, path, body, headers = request
    try:
        response = await client.request(method, path, json=body, headers=headers)
    except httpx2.HTTPError as exc:
        run.statuses[type(exc).__name__] += 1
        return
    run.latencies.append(time.perf_counter() - since)
    run.statuses[response.status_code] += 1
    if len(run.bodies) < 1_000 and response.headers.get("content-type") == "application/json":
        run.bodies.append(response.json())


async def _measure(server: Server, clients: int, work: Callable[[httpx2.AsyncClient, Run], Any]) -> Run:
    limits = httpx2.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx2.AsyncClient(base_url=server.url, limits=limits, timeout=REQUEST_TIMEOUT_S) as client:
        await client.get("/healthz")  # a connection open before the clock starts
        run = Run([], Counter(), 0.0, server.cpu_seconds(), time.process_time(), [])
        started = time.perf_counter()
        await work(client, run)
        run.seconds = time.perf_counter() - started
        run.server_cpu = server.cpu_seconds() - run.server_cpu
        run.client_cpu = time.process_time() - run.client_cpu
    return run


def closed_loop(server: Server, requests: Callable[[int], Request], *, total: int, clients: int, seconds: float) -> Run:
    """``clients`` clients, each sending its next request when the last is answered: ``total`` or ``seconds``."""
    numbers = itertools.count()

    async def work(client: httpx2.AsyncClient, run: Run) -> None:
        deadline = time.perf_counter() + seconds

        async def one_client() -> None:
            for n in numbers:
                if n >= total or time.perf_counter() > deadline:
                    return
                await _send(client, requests(n), run, time.perf_counter())

        await asyncio.gather(*(one_client() for _ in range(clients)))

    return asyncio.run(_measure(server, clients, work))


def open_loop(server: Server, requests: Callable[[int], Request], *, rate: float, seconds: float) -> Run:
    """Requests sent at ``rate`` a second for ``seconds``, whatever the answers; latency counted from when each was due."""
    total = int(rate * seconds)

    async def work(client: httpx2.AsyncClient, run: Run) -> None:
        started = time.perf_counter()

        async def one(n: int) -> None:
            due = started + n / rate
            await asyncio.sleep(max(0.0, due - time.perf_counter()))
            await _send(client, requests(n), run, due)

        await asyncio.gather(*(one(n) for n in range(total)))

    # Connections enough that the client never holds a due request back.
    return asyncio.run(_measure(server, 256, work))


# --- the report ---------------------------------------------------------------------


def row(name: str, run: Run, clients: int | str) -> str:
    statuses = ", ".join(f"{status}: {count}" for status, count in sorted(run.statuses.items(), key=str))
    return (
        f"{name:<44} {clients!s:>7} {run.done:>6,} {run.throughput:>9,.0f} {run.percentile_ms(0.5):>8.1f} "
        f"{run.percentile_ms(0.99):>8.1f} {run.server_cpu / max(1, run.done) * 1000:>9.2f} "
        f"{run.client_cpu / max(1, run.done) * 1000:>9.2f}  [{statuses}]"
    )


HEADER = (
    f"{'endpoint':<44} {'clients':>7} {'done':>6} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} "
    f"{'srv ms/r':>9} {'cli ms/r':>9}  [statuses]"
)


def verdict(*, met: bool) -> str:
    return "met" if met else "MISSED"


def load_average() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} {five:.2f} {fifteen:.2f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=2_000, help="lines of the simulated book (default 2000)")
    parser.add_argument("--clients", type=int, default=8, help="concurrent clients in the closed loops (default 8)")
    parser.add_argument("--rate", type=float, default=200.0, help="decide's offered rate, requests/s (default 200)")
    parser.add_argument("--seconds", type=float, default=20.0, help="the longest one phase sends for (default 20)")
    parser.add_argument("--trivial", type=int, default=4_000, help="GET /healthz requests (default 4000)")
    parser.add_argument("--decides", type=int, default=400, help="decide requests in the closed loop (default 400)")
    parser.add_argument("--open-seconds", type=float, default=2.0, help="seconds decide is offered --rate (default 2)")
    parser.add_argument("--previews", type=int, default=300, help="drawdown previews (default 300)")
    parser.add_argument("--repayments", type=int, default=1_500, help="repayments over HTTP (default 1500)")
    args = parser.parse_args()
    admin_url = os.environ.get("LINEWISE_BENCH_DATABASE_URL", DEFAULT_ADMIN_URL)
    today = datetime.now(UTC).date()
    month = last_month_end(today)
    product = Product()
    secret = secrets.token_urlsafe(48)
    rng = np.random.default_rng(13)
    started = time.perf_counter()
    print(f"linewise {linewise.__version__}; {os.cpu_count()} CPUs; load average at the start: {load_average()}")

    with bench_database(admin_url) as engine, tempfile.TemporaryDirectory() as tmp:
        book_start = add_months(today.replace(day=1), -12)
        post_book(engine, simulate_book(BookSpec(args.lines, 12, book_start, 7), product))
        model_dir, strategy = make_model(Path(tmp), month)
        targets = pick_lines(engine, product, today)
        print(
            f"database: {engine.url.render_as_string(hide_password=True)}; book of {args.lines:,} lines, "
            f"{book_start} to {month}; {len(targets.previewable):,} lines a preview can be asked on, "
            f"{len(targets.owing):,} owing; set up in {time.perf_counter() - started:.0f} s"
        )

        # The ledger's own rate, on lines of its own in the same database, before the server runs.
        ledger_rate = repayment_rate(engine, product, accounts=400, repayments=2_000, clients=8)
        print(f"ledger posting rate (post_event, 8 threads, no HTTP): {ledger_rate:,.0f} repayments/s")

        database_url = engine.url.render_as_string(hide_password=False)
        server = start_server(model_dir, strategy, database_url, secret, Path(tmp) / "server.log")
        try:
            now = datetime.now(UTC)

            def bearer(role: str, customer: str | None) -> dict[str, str]:
                token = issue_token(Principal(f"bench-{role}", role, customer), secret=secret, now=now, minutes=60)
                return {"Authorization": f"Bearer {token}"}

            analyst = bearer("analyst", None)
            customers: dict[str, dict[str, str]] = {}

            def customer(customer_id: str) -> dict[str, str]:
                if customer_id not in customers:
                    customers[customer_id] = bearer("customer", customer_id)
                return customers[customer_id]

            decided = [targets.every[i] for i in rng.permutation(len(targets.every))]
            previewed = [targets.previewable[i] for i in rng.integers(0, len(targets.previewable), args.previews)]
            repaid = [targets.owing[i] for i in rng.integers(0, len(targets.owing), args.repayments)]

            def health(_n: int) -> Request:
                return ("GET", "/healthz", None, {})

            def decide(n: int) -> Request:
                account, _ = decided[n % len(decided)]
                return ("POST", f"/accounts/{account}/decide?lang=en", {"trigger": "review"}, analyst)

            def preview(n: int) -> Request:
                account, cid = previewed[n % len(previewed)]
                body = {"amount": PREVIEW_AMOUNT, "term_months": PREVIEW_TERM_MONTHS}
                return ("POST", f"/accounts/{account}/drawdown-preview?lang=en", body, customer(cid))

            def repay(n: int) -> Request:
                account, cid = repaid[n % len(repaid)]
                headers = {**customer(cid), "Idempotency-Key": f"bench-pay-{n}"}
                return ("POST", f"/accounts/{account}/repayments?lang=en", {"amount": REPAYMENT_AMOUNT}, headers)

            print(f"load average with the server up, before the first phase: {load_average()}")
            print(HEADER)
            trivial = closed_loop(server, health, total=args.trivial, clients=args.clients, seconds=args.seconds)
            print(row("GET /healthz (the ceiling)", trivial, args.clients))
            one = closed_loop(server, decide, total=min(100, args.decides), clients=1, seconds=args.seconds)
            print(row("POST /accounts/{id}/decide", one, 1))
            many = closed_loop(server, decide, total=args.decides, clients=args.clients, seconds=args.seconds)
            print(row("POST /accounts/{id}/decide", many, args.clients))
            offered = open_loop(server, decide, rate=args.rate, seconds=args.open_seconds)
            print(row(f"POST /accounts/{{id}}/decide at {args.rate:.0f}/s offered", offered, "open"))
            previews = closed_loop(server, preview, total=args.previews, clients=args.clients, seconds=args.seconds)
            print(row("POST /accounts/{id}/drawdown-preview", previews, args.clients))
            repayments = closed_loop(server, repay, total=args.repayments, clients=args.clients, seconds=args.seconds)
            print(row("POST /accounts/{id}/repayments", repayments, args.clients))
            print(f"load average at the end: {load_average()}")
        finally:
            server.stop()

        due = sum(1 for body in many.bodies + offered.bodies if body.get("due"))
        asked = [body.get("follow_up", {}) for body in repayments.bodies]
        print(
            f"decisions made: {due:,} of {len(many.bodies) + len(offered.bodies):,} decide answers were due; "
            f"repayments that called a decision: {sum(1 for f in asked if f.get('due')):,} of {len(asked):,}"
        )
        p99 = offered.percentile_ms(0.99)
        print(
            f"target decide p99 < 50 ms at {args.rate:.0f} requests/s: p99 {p99:,.0f} ms, "
            f"{offered.throughput:,.0f}/s answered: {verdict(met=p99 < 50 and offered.throughput >= 0.95 * args.rate)}"
        )
        share = previews.throughput / trivial.throughput
        print(
            f"target preview >= 1/2 of /healthz's throughput: {previews.throughput:,.1f} / {trivial.throughput:,.0f}"
            f" = {share:.3f}: {verdict(met=share >= 0.5)}"
        )
        share = repayments.throughput / ledger_rate
        print(
            f"target repayments >= 1/3 of the ledger's posting rate: {repayments.throughput:,.0f} / {ledger_rate:,.0f}"
            f" = {share:.3f}: {verdict(met=share >= 1 / 3)}"
        )
        print(
            f"lines in the database at the end: {count_lines(engine):,}; total run: {time.perf_counter() - started:.0f} s"
        )


if __name__ == "__main__":
    main()
