"""`linewise user add` and `linewise serve`, in-process, on the test ledger; and both swept as every command is."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from tests.cli.test_fuzz_every_command import (
    FUZZ,
    IDS,
    INTS,
    JSON_FLAG,
    MODEL_FILES,
    STRATEGY,
    TEXT,
    Command,
    Directory,
    Option,
    Scene,
    choices,
    directories,
    files,
    flag_option,
    run_example,
)
from tests.ledger.common import snapshot
from tests.service.conftest import NOW, SECRET, database_url
from typer.testing import CliRunner

from linewise.cli.main import app as cli_app
from linewise.ledger.store.tables import audit_log, users
from linewise.service import create_app
from linewise.service.settings import ServiceSettings

runner = CliRunner()


@pytest.fixture
def cli(ledger, monkeypatch, tmp_path):
    """``cli(*args, input=...)`` runs ``linewise`` on the test ledger; serve's server is a stand-in that records."""
    monkeypatch.setattr("linewise.cli.user.engine", lambda check_schema=True: ledger)
    for name in [name for name in os.environ if name.startswith("LINEWISE_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("LINEWISE_DATABASE_URL", database_url(ledger))
    monkeypatch.chdir(tmp_path)
    served = []

    def fake_run(app, *, host, port, log_level):
        served.append((app, host, port))
        app.state.services.engine.dispose()

    monkeypatch.setattr("uvicorn.run", fake_run)

    def run(*args: str, input: str | None = None):
        return runner.invoke(cli_app, list(args), input=input, catch_exceptions=False)

    run.served = served
    return run


def stored_users(engine) -> dict[str, tuple]:
    with engine.connect() as conn:
        return {row.username: tuple(row) for row in conn.execute(select(users))}


def test_user_add_stores_an_argon2_hash_audits_it_and_the_user_can_sign_in(cli, ledger, model_files):
    added = cli(
        "user",
        "add",
        "carol",
        "--role",
        "customer",
        "--customer",
        "C1",
        "--password-stdin",
        "--json",
        input="a long passphrase\n",
    )
    assert added.exit_code == 0, added.stderr
    assert '"customer_id": "C1"' in added.stdout
    row = stored_users(ledger)["carol"]
    assert "a long passphrase" not in str(row) and any(str(v).startswith("$argon2id$") for v in row)
    with ledger.connect() as conn:
        [audited] = conn.execute(select(audit_log).where(audit_log.c.target == "user:carol")).mappings().all()
    assert (audited["actor"], audited["action"]) == ("cli", "user_added")
    settings = ServiceSettings(
        database_url=database_url(ledger), secret=SECRET, model_dir=model_files[0], strategy_file=model_files[1]
    )
    with TestClient(create_app(settings, clock=lambda: NOW)) as client:
        token = client.post("/auth/token", data={"username": "carol", "password": "a long passphrase"})
        assert token.status_code == 200 and token.json()["role"] == "customer"


def test_user_add_prompts_for_the_password_twice(cli, ledger):
    added = cli("user", "add", "ed", "--role", "analyst", input="passphrase one\npassphrase one\n")
    assert added.exit_code == 0, added.stderr
    assert "added user ed: analyst" in added.stdout
    assert "ed" in stored_users(ledger)


@pytest.mark.parametrize(
    ("args", "stdin", "code"),
    [
        (("ghost", "--role", "customer", "--customer", "C9"), "a long passphrase\n", "customer_not_found"),
        (("ghost", "--role", "customer"), "a long passphrase\n", "customer_required"),
        (("ghost", "--role", "analyst", "--customer", "C1"), "a long passphrase\n", "customer_not_allowed"),
        (("ghost", "--role", "root"), "a long passphrase\n", "role_unknown"),
        (("ada", "--role", "admin"), "a long passphrase\n", "username_taken"),
        (("gh ost", "--role", "admin"), "a long passphrase\n", "id_malformed"),
        (("ghost", "--role", "admin"), "short\n", "password_too_short"),
        (("ghost", "--role", "admin"), "", "password_required"),
    ],
)
def test_user_add_refuses_in_one_line_naming_what_and_writes_nothing(cli, ledger, args, stdin, code):
    before = snapshot(ledger)
    refused = cli("user", "add", *args, "--password-stdin", input=stdin)
    assert refused.exit_code == 2
    assert refused.stderr.startswith("error: ") and refused.stderr.rstrip().endswith(f"[{code}]")
    if code == "customer_not_found":
        assert "'C9'" in refused.stderr
    assert snapshot(ledger) == before


def test_serve_makes_the_app_and_hands_it_to_uvicorn(cli, model_files):
    model, strategy = model_files
    served = cli("serve", "--model", str(model), "--strategy", str(strategy), "--port", "8123")
    assert served.exit_code == 0, served.stderr
    [(app, host, port)] = cli.served
    assert (host, port) == ("127.0.0.1", 8123) and app.title == "linewise"
    assert "http://127.0.0.1:8123" in served.stdout


def test_serve_refuses_production_without_a_secret_and_a_missing_model_in_one_line(
    cli, model_files, monkeypatch, tmp_path
):
    monkeypatch.setenv("LINEWISE_MODE", "production")
    refused = cli("serve", "--model", str(model_files[0]))
    assert refused.exit_code == 2 and "LINEWISE_SECRET" in refused.stderr
    assert refused.stderr.rstrip().endswith("[configuration_invalid]")
    monkeypatch.setenv("LINEWISE_SECRET", "s" * 48)
    missing = cli("serve", "--model", str(tmp_path / "nothing"))
    assert missing.exit_code == 2 and missing.stderr.rstrip().endswith("[model_not_found]")
    assert cli.served == []


# --- the sweep every command gets (tests/cli/test_fuzz_every_command.py), for these two ------------

SERVICE_COMMANDS = [
    Command(
        ("user", "add"),
        (
            Option("", "u{n}", IDS),
            Option("--role", "analyst", st.sampled_from(["customer", "admin", "Admin"]) | TEXT),
            Option("--customer", None, IDS),
            flag_option("--password-stdin"),
            JSON_FLAG,
        ),
    ),
    Command(
        ("serve",),
        (
            Option("--model", Directory("model"), directories("model", MODEL_FILES)),
            Option("--strategy", None, files("s.yaml", STRATEGY)),
            Option("--host", None, st.sampled_from(["0.0.0.0", "::1", "localhost", "a..b"]) | TEXT),
            Option("--port", None, INTS),
        ),
    ),
]


@pytest.mark.parametrize(
    "case",
    [
        pytest.param((command, target), id=f"{' '.join(command.words)} {option.flag or 'argument'}")
        for command in SERVICE_COMMANDS
        for target, option in [*enumerate(command.options), (None, Option("extra", None, st.none()))]
    ],
)
def test_any_option_of_user_add_and_serve_is_taken_or_refused_in_one_line_changing_nothing(
    cli, ledger, model_files, tmp_path, monkeypatch, case
):
    command, target = case
    examples = 2 if target is None else command.options[target].examples or command.examples
    count = iter(range(1_000_000))

    @settings(FUZZ, max_examples=examples)
    @given(choice=choices(command, target))
    def examples_of(choice):
        cwd = tmp_path / str(next(count))
        cwd.mkdir()
        monkeypatch.chdir(cwd)
        scene = Scene(cwd, {"model": model_files[0], "account": Path("A1")}, int(cwd.name))
        run_example(command, choice, scene, lambda: snapshot(ledger))

    examples_of()
