"""A bad file, path or database is refused in one line with its code, and nothing is written.

Exit status 2 is bad input (a file, a path, a setting); 3 is a database that cannot
be reached or opened, which the same command may get past once the database is back.
The commands run in-process (typer's runner) so that each case takes a moment;
tests/e2e/test_installed_command.py shows the same holds outside the runner.
"""

from __future__ import annotations

import os
import sqlite3
import traceback
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import make_url
from tests.inprocess import run_linewise
from typer.testing import CliRunner

from linewise.cli.main import app
from linewise.textfiles import MAX_DEPTH

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "import"
BILLION_LAUGHS = 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n' + "".join(
    f"{b}: &{b} [{','.join([f'*{a}'] * 9)}]\n" for a, b in zip("abcdefgh", "bcdefghi", strict=True)
)
# Nothing listens on port 1: the connection is refused at once.
UNREACHABLE_PG = "postgresql://postgres@127.0.0.1:1/linewise"


def invoke(*args: str, env: dict[str, str] | None = None) -> Any:
    """Run ``linewise ARGS`` in-process with no LINEWISE_* setting but those in ``env``."""
    clean: dict[str, str | None] = {name: None for name in os.environ if name.startswith("LINEWISE_")}
    result = CliRunner().invoke(app, list(args), env={**clean, **(env or {})})
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        trace = "".join(traceback.format_exception(result.exception))
        pytest.fail(f"linewise {' '.join(args)} raised instead of refusing:\n{trace}")
    return result


def refusal(*args: str, env: dict[str, str] | None = None) -> tuple[int, str]:
    """The exit status and the one line on stderr of a refused command (nothing on stdout)."""
    result = invoke(*args, env=env)
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    assert "Traceback" not in result.output
    return result.exit_code, lines[0]


def tables(db: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table of a SQLite file."""
    with sqlite3.connect(db) as conn:
        names = [row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        return {name: sorted(conn.execute(f'SELECT * FROM "{name}"').fetchall(), key=repr) for name in names}


@pytest.fixture
def ledger(tmp_path, monkeypatch) -> Path:
    """A SQLite ledger in the working directory with one open line, A1."""
    monkeypatch.chdir(tmp_path)
    assert invoke("db", "upgrade").exit_code == 0
    opened = invoke("line", "open", "--account", "A1", "--customer", "C1", "--limit", "20000.00")
    assert opened.exit_code == 0, opened.output
    return tmp_path / "linewise.db"


@pytest.fixture
def portfolio(tmp_path_factory) -> Path:
    """A small synthetic portfolio directory."""
    directory = tmp_path_factory.mktemp("portfolio") / "p"
    made = invoke("data", "synth", "--accounts", "50", "--months", "3", "--seed", "1", "--out", str(directory))
    assert made.exit_code == 0, made.output
    return directory


# --- the database ------------------------------------------------------------------------


def test_an_unreachable_postgresql_exits_3_naming_the_server_and_not_the_password(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    url = "postgresql://postgres:s3cret@127.0.0.1:1/linewise"
    for args in (("line", "show", "--account", "A1"), ("db", "upgrade"), ("decisions", "list")):
        status, line = refusal(*args, env={"LINEWISE_DATABASE_URL": url})
        assert status == 3
        assert line.endswith("[database_unreachable]")
        assert "postgresql://postgres:***@127.0.0.1:1/linewise: database must be reachable" in line
        assert "s3cret" not in line


def test_a_sqlite_file_in_a_missing_folder_exits_3_and_no_folder_is_made(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    url = f"sqlite:///{tmp_path / 'nowhere' / 'ledger.db'}"
    for args in (("db", "upgrade"), ("line", "show", "--account", "A1")):
        status, line = refusal(*args, env={"LINEWISE_DATABASE_URL": url})
        assert status == 3
        assert line.endswith(
            f"database must be in an existing folder; got '{tmp_path / 'nowhere'}' [database_folder_missing]"
        )
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "url", ["not a url", "mysql://me@db/ledger", "postgresql://me:s3cret@db:port/ledger", "sqlite+aiosqlite:///x.db"]
)
def test_a_malformed_database_url_exits_2_naming_the_setting(tmp_path, monkeypatch, url):
    monkeypatch.chdir(tmp_path)
    status, line = refusal("line", "show", "--account", "A1", env={"LINEWISE_DATABASE_URL": url})
    assert status == 2
    assert line.startswith(
        "error: LINEWISE_DATABASE_URL: the database URL must be sqlite:///FILE or "
        "postgresql://USER@HOST:PORT/DATABASE; got "
    )
    assert line.endswith("[database_url_invalid]")
    assert "s3cret" not in line
    assert list(tmp_path.iterdir()) == []


def test_a_postgres_url_as_hosting_services_write_it_is_taken_for_postgresql(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    status, line = refusal(
        "line", "show", "--account", "A1", env={"LINEWISE_DATABASE_URL": "postgres://postgres@127.0.0.1:1/linewise"}
    )
    assert status == 3
    assert line.startswith("error: postgresql://postgres@127.0.0.1:1/linewise: database must be reachable")


def test_a_command_on_a_ledger_never_created_says_to_upgrade_and_creates_no_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    status, line = refusal("line", "show", "--account", "A1")
    assert status == 2
    assert line.endswith("run `linewise db upgrade` [database_not_initialised]")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.postgres
def test_a_postgresql_database_that_does_not_exist_exits_3(pg_server_url, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    url = make_url(pg_server_url).set(database="linewise_no_such_database").render_as_string(hide_password=False)
    status, line = refusal("line", "show", "--account", "A1", env={"LINEWISE_DATABASE_URL": url})
    assert status == 3
    assert 'database "linewise_no_such_database" does not exist' in line
    assert line.endswith("[database_unreachable]")


# --- the product file --------------------------------------------------------------------


@pytest.mark.parametrize(("product", "code"), [("absent.json", "file_not_found"), (".", "file_is_a_directory")])
def test_a_product_file_that_is_missing_or_a_directory_is_refused_and_nothing_is_posted(ledger, product, code):
    before = tables(ledger)
    status, line = refusal(
        "draw",
        "--account",
        "A1",
        "--amount",
        "1000.00",
        "--term",
        "6",
        env={"LINEWISE_PRODUCT_FILE": str(ledger.parent / product)},
    )
    assert status == 2
    assert line.endswith(f"[{code}]")
    assert str(ledger.parent / product) in line
    assert tables(ledger) == before


def test_a_product_file_that_is_not_utf8_is_refused_as_not_a_product(ledger):
    before = tables(ledger)
    (ledger.parent / "product.json").write_bytes(b"\xff\xfe{")
    status, line = refusal(
        "draw",
        "--account",
        "A1",
        "--amount",
        "1000.00",
        "--term",
        "6",
        env={"LINEWISE_PRODUCT_FILE": str(ledger.parent / "product.json")},
    )
    assert status == 2
    assert line.endswith("[configuration_invalid]")
    assert tables(ledger) == before


def test_a_product_file_that_is_not_a_product_is_refused_and_nothing_is_posted(ledger):
    before = tables(ledger)
    (ledger.parent / "product.json").write_text("[]", encoding="utf-8")
    status, line = refusal(
        "draw",
        "--account",
        "A1",
        "--amount",
        "1000.00",
        "--term",
        "6",
        env={"LINEWISE_PRODUCT_FILE": str(ledger.parent / "product.json")},
    )
    assert status == 2
    assert line.endswith("[configuration_invalid]")
    assert tables(ledger) == before


# --- where a command writes --------------------------------------------------------------


def test_an_out_that_is_a_directory_is_refused_before_any_work(tmp_path, monkeypatch, portfolio):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "taken").mkdir()
    for args in (
        ("review", "--portfolio", str(portfolio), "--model", "no-model", "--out", "taken"),
        ("model", "score", "--model", "no-model", "--portfolio", str(portfolio), "--out", "taken"),
        (
            "data",
            "income",
            "--statements",
            str(EXAMPLES / "statement.csv"),
            "--as-of",
            "2025-06-30",
            "--currency",
            "CNY",
            "--out",
            "taken",
        ),
    ):
        status, line = refusal(*args)
        assert status == 2
        assert line == "error: --out: --out must be a file, not an existing directory; got 'taken' [out_is_a_directory]"
    assert sorted(path.name for path in tmp_path.iterdir()) == ["taken"]
    assert list((tmp_path / "taken").iterdir()) == []


def test_an_out_under_a_file_is_refused_and_the_file_is_left_as_it_was(tmp_path, monkeypatch, portfolio):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "notes.txt").write_text("mine", encoding="utf-8")
    for args in (
        ("data", "synth", "--accounts", "10", "--months", "2", "--seed", "1", "--out", "notes.txt/p"),
        ("review", "--portfolio", str(portfolio), "--model", "m", "--out", "notes.txt/d/r.parquet"),
        ("model", "train", "--portfolio", str(portfolio), "--out", "notes.txt/model"),
    ):
        status, line = refusal(*args)
        assert status == 2
        assert line.endswith("[out_under_a_file]")
        assert f"({tmp_path / 'notes.txt'} is a file)" in line
    assert sorted(path.name for path in tmp_path.iterdir()) == ["notes.txt"]
    assert (tmp_path / "notes.txt").read_text(encoding="utf-8") == "mine"


def test_a_portfolio_out_that_is_a_file_is_refused(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "p").write_text("mine", encoding="utf-8")
    status, line = refusal("data", "uci", "--out", "p")
    assert status == 2
    assert line == "error: --out: --out must be a directory, not an existing file; got 'p' [out_is_a_file]"
    assert (tmp_path / "p").read_text(encoding="utf-8") == "mine"


def test_a_panel_out_that_is_a_directory_is_refused_before_the_panel_is_computed(ledger, monkeypatch):
    (ledger.parent / "panel.parquet").mkdir()
    before = tables(ledger)

    def computed(*args: object) -> None:
        pytest.fail("the panel was computed before --out was checked")

    monkeypatch.setattr("linewise.cli.ledger.export_panel", computed)
    status, line = refusal("panel", "export", "--out", "panel.parquet")
    assert status == 2
    assert line == (
        "error: --out: --out must be a file, not an existing directory; got 'panel.parquet' [out_is_a_directory]"
    )
    assert tables(ledger) == before


# --- portfolio metadata ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("manifest", "expected"),
    [
        ("[]", "file must be a JSON object of currency, source and attribution; got 'list'"),
        ("{}", "currency must be given; got 'nothing'"),
        ('{"currency": 5}', "currency must be text; got 5"),
        ('{"currency": "CNY", "source": ["x"]}', "source must be text; got ['x']"),
        ('{"currency": "XXX"}', "currency must be one of ["),
        ('{"currency": "CNY",', "file must be valid JSON; got 'Expecting property name enclosed in double quotes"),
        ("[" * 100_000, "nesting must be at most"),
    ],
)
def test_malformed_portfolio_metadata_is_refused_in_one_line(portfolio, manifest, expected):
    (portfolio / "portfolio.json").write_text(manifest, encoding="utf-8")
    status, line = refusal("data", "check", str(portfolio))
    assert status == 2
    assert expected in line
    code = "file_too_deep" if manifest.startswith("[[") else "portfolio_manifest_invalid"
    assert line.endswith(f"[{code}]")


@pytest.mark.parametrize(
    ("manifest", "code"),
    [
        ("[]", "model_invalid"),
        ('{"kind": "scorecard"}', "model_invalid"),
        ("{", "model_invalid"),
        ("[" * 100_000, "file_too_deep"),
    ],
)
def test_a_model_directory_with_a_malformed_manifest_is_refused_in_one_line(tmp_path, manifest, code):
    (tmp_path / "manifest.json").write_text(manifest, encoding="utf-8")
    status, line = refusal("model", "report", str(tmp_path))
    assert status == 2
    assert line.endswith(f"[{code}]")


# --- strategy and mapping files ----------------------------------------------------------


def test_the_billion_laughs_strategy_is_refused_by_validate_and_by_review(tmp_path, monkeypatch, portfolio):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "laughs.yaml").write_text(BILLION_LAUGHS, encoding="utf-8")
    expected = (
        "error: laughs.yaml:2: YAML must be free of aliases (write each value out where it is used); "
        "got '*a' [yaml_alias_not_allowed]"
    )
    assert refusal("strategy", "validate", "laughs.yaml") == (2, expected)
    assert refusal("strategy", "diff", "laughs.yaml", "laughs.yaml") == (2, expected)
    review = refusal(
        "review", "--portfolio", str(portfolio), "--model", "m", "--out", "d.parquet", "--strategy", "laughs.yaml"
    )
    assert review == (2, expected)
    assert sorted(path.name for path in tmp_path.iterdir()) == ["laughs.yaml"]


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("a: &a [1, *a]\n", "yaml_alias_not_allowed"),
        (f"big: &s {'x' * 200_000}\nmore: [{', '.join(['*s'] * 1_000)}]\n", "yaml_alias_not_allowed"),
        ("[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1), "file_too_deep"),
        ("[" * 100_000, "file_too_deep"),
        ("".join("  " * level + "k:\n" for level in range(100)), "file_too_deep"),
        ("#" * 1_000_001, "file_too_large"),
    ],
)
def test_a_hostile_strategy_file_is_refused_in_one_short_line(tmp_path, monkeypatch, text, code):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "s.yaml").write_text(text, encoding="utf-8")
    status, line = refusal("strategy", "validate", "s.yaml")
    assert status == 2
    assert line.endswith(f"[{code}]")
    assert len(line) < 300


@pytest.mark.parametrize(("name", "code"), [("absent.yaml", "file_not_found"), (".", "file_is_a_directory")])
def test_a_strategy_path_that_is_missing_or_a_directory_is_refused(tmp_path, monkeypatch, name, code):
    monkeypatch.chdir(tmp_path)
    status, line = refusal("strategy", "explain", name)
    assert status == 2
    assert line.endswith(f"[{code}]")


def test_a_mapping_file_nested_too_deep_is_refused_and_nothing_is_written(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "mapping.toml").write_text(f"currency = {'[' * 5_000}{']' * 5_000}\n", encoding="utf-8")
    status, line = refusal("data", "import", "--mapping", "mapping.toml", "--out", "imported")
    assert status == 2
    assert line.endswith("[file_too_deep]")
    assert sorted(path.name for path in tmp_path.iterdir()) == ["mapping.toml"]


# --- the README's refusals, on its default database (a SQLite file in the folder) ---------


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (["draw", "--account", "A1", "--amount", "-5", "--term", "6"], "amount_must_be_positive"),
        (["draw", "--account", "A1", "--amount", "30000.00", "--term", "6"], "exceeds_available_limit"),
        (["repay", "--account", "A1", "--amount", "10.00", "--on", "2026-13-01"], "date_malformed"),
        (
            ["draw", "--account", "A1", "--amount", "600.00", "--term", "6", "--purpose", "securities"],
            "purpose_not_permitted",
        ),
        (["repay", "--account", "A1", "--amount", "10.00"], "nothing_outstanding"),
    ],
)
def test_bad_input_exits_2_with_one_line_and_writes_nothing(tmp_path, args, code):
    def run(*a):
        return run_linewise(*a, cwd=tmp_path)

    run("db", "upgrade")
    run("line", "open", "--account", "A1", "--customer", "C1", "--limit", "20000.00")
    before = run("line", "show", "--account", "A1", "--json").stdout
    result = run(*args)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and f"[{code}]" in lines[0]
    assert run("line", "show", "--account", "A1", "--json").stdout == before


def test_a_product_file_above_the_cost_ceiling_is_refused_by_name(tmp_path):
    product = tmp_path / "product.json"
    product.write_text('{"annual_rate": "0.30", "terms_months": [6, 12]}', encoding="utf-8")
    assert run_linewise("db", "upgrade", cwd=tmp_path).returncode == 0
    assert (
        run_linewise("line", "open", "--account", "A1", "--customer", "C1", "--limit", "9000", cwd=tmp_path).returncode
        == 0
    )
    result = run_linewise(
        "draw",
        "--account",
        "A1",
        "--amount",
        "600",
        "--term",
        "6",
        cwd=tmp_path,
        env={"LINEWISE_PRODUCT_FILE": str(product)},
    )
    assert result.returncode == 2
    assert "product.json" in result.stderr and "annualised cost 30.00%" in result.stderr


def test_commands_on_a_database_never_upgraded_say_how_to_fix_it(tmp_path):
    result = run_linewise("line", "open", "--account", "A1", "--customer", "C1", "--limit", "100", cwd=tmp_path)
    assert result.returncode == 2
    assert "run `linewise db upgrade`" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_a_path_with_a_newline_is_refused_on_one_line_with_the_newline_shown(tmp_path):
    result = run_linewise("strategy", "validate", "a\nb", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        "error: a\\nb: file must be an existing file; got 'No such file or directory' [file_not_found]"
    ]
