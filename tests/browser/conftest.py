"""Chromium driving the pages on a real server: the machine's own browser, a uvicorn process, a ledger of its own.

The ledger is the service tests' (two customers' lines, four users), with each line
decided and applied as of the fixed day and a second strategy in the decision log,
so that every page has something to show. Screenshots go to ``--screenshots DIR``
(``pytest tests/browser --screenshots DIR``) or ``LINEWISE_TEST_SCREENSHOTS``, else to
the run's temporary directory.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from datetime import date
from pathlib import Path

import pytest
from tests.service.conftest import TODAY, _fill, model_files  # noqa: F401 - the fixture is used here

from linewise.ledger.events import LimitChanged, LineOpened
from linewise.ledger.service import post_events
from linewise.ledger.store import create_store_engine, upgrade
from linewise.review.account import decide_account
from linewise.review.deciders import load_decider

CHROMIUM = Path(os.environ.get("LINEWISE_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-dev-shm-usage",
]
ROOT = Path(__file__).resolve().parents[2]
# How long the server may take to answer its first request (it loads the model first).
SERVER_START_S = 30


def pytest_addoption(parser):
    parser.addoption("--screenshots", default=None, help="Keep the browser tests' screenshots in this directory.")


def _prepare(directory: Path, model_dir: Path, strategy_file: Path) -> str:
    """A ledger in ``directory``: the service tests' lines and users, each decided and applied, two strategies,
    and two more lines raised by hand."""
    url = f"sqlite:///{directory / 'ledger.db'}"
    engine = create_store_engine(url)
    upgrade(engine)
    _fill(engine)
    second = directory / "strategy-2.yaml"
    text = strategy_file.read_text(encoding="utf-8").replace("\nversion: 1\n", "\nversion: 2\n", 1)
    second.write_text(text.replace("cooldown_days: 90", "cooldown_days: 60", 1), encoding="utf-8")
    decide_account(engine, "A1", load_decider(model_dir, second), as_of=TODAY)
    decider = load_decider(model_dir, strategy_file)
    for account in ("A1", "A2"):
        decide_account(engine, account, decider, as_of=TODAY, apply=True)
    _raised_lines(engine)
    for account in ("A3", "A4"):
        decide_account(engine, account, decider, as_of=TODAY)
    engine.dispose()
    return url


def _raised_lines(engine) -> None:
    """Two more customers' lines whose limits staff raised in the last months: the console's limit-added chart."""
    for account, opened, limit, raises in (
        ("A3", date(2025, 3, 10), 1_000_000, ((date(2025, 8, 12), 1_500_000), (date(2025, 12, 15), 2_000_000))),
        ("A4", date(2025, 4, 1), 3_000_000, ((date(2025, 11, 20), 4_500_000),)),
    ):
        customer = "C" + account[1:]
        events = [
            LineOpened(
                account_id=account,
                occurred_on=opened,
                idempotency_key=f"open-{account}",
                customer_id=customer,
                currency="CNY",
                credit_limit=limit,
            )
        ]
        events += [
            LimitChanged(
                account_id=account,
                occurred_on=on,
                idempotency_key=f"raise-{account}-{on}",
                new_limit=new,
                reason_code="manual_review",
            )
            for on, new in raises
        ]
        post_events(engine, events)


@pytest.fixture(scope="session")
def chromium() -> Path:
    """The machine's Chromium. Without it the browser tests skip with how to install it, except
    where they are required (``LINEWISE_TEST_BROWSER_REQUIRED``, set by .ci/run, or ``CI``): there they fail."""
    if not CHROMIUM.exists():
        message = (
            f"Chromium is not at {CHROMIUM}: the browser tests use the machine's own Chromium, never a download. "
            "Install it with `apt-get install -y chromium chromium-driver` (.ci/run does), "
            "or point LINEWISE_CHROMIUM at one."
        )
        if os.environ.get("LINEWISE_TEST_BROWSER_REQUIRED") or os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return CHROMIUM


@pytest.fixture(scope="session")
def site(tmp_path_factory, model_files):  # noqa: F811 - the imported fixture
    """The base URL of the pages on a uvicorn process of their own (stopped after the session)."""
    directory = tmp_path_factory.mktemp("browser-site")
    url = _prepare(directory, *model_files)
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT), os.environ.get("PYTHONPATH", "")]),
    }
    for name in ("LINEWISE_MODE", "LINEWISE_PRODUCT_FILE", "LINEWISE_DATABASE_URL", "LINEWISE_SECRET"):
        env.pop(name, None)
    log = (directory / "server.log").open("w")
    server = subprocess.Popen(
        [sys.executable, "-m", "tests.browser.serve", url, *map(str, model_files)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=log,
        text=True,
    )
    try:
        port = int(server.stdout.readline() or 0)
        assert port, f"the server did not start: see {directory / 'server.log'}"
        base = f"http://127.0.0.1:{port}/web"
        deadline = time.monotonic() + SERVER_START_S
        while True:
            try:
                with urllib.request.urlopen(f"{base}/criteria", timeout=2) as answer:
                    assert answer.status == 200
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise
                time.sleep(0.1)
        yield base
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        server.stdout.close()
        log.close()


@pytest.fixture(scope="session")
def browser(chromium):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(chromium), args=CHROMIUM_ARGS, headless=True)
        yield launched
        launched.close()


@pytest.fixture(scope="session")
def screenshots(request, tmp_path_factory) -> Path:
    chosen = request.config.getoption("--screenshots", default=None) or os.environ.get("LINEWISE_TEST_SCREENSHOTS")
    directory = Path(chosen) if chosen else tmp_path_factory.mktemp("screenshots")
    directory.mkdir(parents=True, exist_ok=True)
    return directory
