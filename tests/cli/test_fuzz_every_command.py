"""Every command, every option: any text, number, date or file is taken, or refused in one line.

For each command of ``linewise`` hypothesis starts from a command line that works and
replaces one or two of its options (or arguments) with arbitrary text, numbers, dates,
file contents (random bytes, broken YAML, TOML, JSON or CSV, an empty file, a directory,
a missing path), output paths (a directory, under a file, a NUL byte) or extra words.
The property: the command exits 0, or exits 2 or 3 with exactly one ``error: ... [code]``
line on stderr, within a time bound, never with a traceback; and a refusal leaves every
table of the database and every file of the working directory as it was.

The commands on the ledger and the decision log run on SQLite and on PostgreSQL. The
examples per command are few and fixed (``derandomize``), so that the whole sweep takes
well under a minute and fails the same way on every machine.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import signal
import string
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.conftest import fresh_pg_engine
from tests.ledger.common import snapshot
from tests.strategies import thorough
from typer.main import get_command
from typer.testing import CliRunner

from linewise.cli.main import app
from linewise.ledger.service import Product
from linewise.ledger.store import create_store_engine, upgrade
from linewise.ledger.store.users import NewUser, add_user
from linewise.strategy import default_strategy_text

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "import"
ONE_LINE_ERROR = re.compile(r"error: .* \[[a-z][a-z0-9_]*\]")
# A file's problems are all listed (STYLE: report every problem in a file): the error
# line names how many, each problem follows on its own indented line, the code ends it.
FILE_PROBLEMS = re.compile(r"error: [^\n]*: [0-9]+ problems?(\n  [^\n]+)+ \[[a-z][a-z0-9_]*\]")
# A command that has not answered in this long is taken to hang: the slowest here
# (a review of 60 accounts, a model trained on 80 rows) take about a second.
HANG_SECONDS = 30
# The commands that touch the database post events dated here (after the fixture's).
ON = "2026-01-20"


# --- what an option is given ---------------------------------------------------------------


def _texts() -> st.SearchStrategy[str]:
    return st.one_of(
        st.text(max_size=40),
        st.text(string.printable, max_size=20),
        st.sampled_from(
            [
                "",
                " ",
                "-",
                "--",
                "--help=x",
                "[red]x",
                "X[/oops]",
                "'",
                "../",
                "~",
                "*",
                "nan",
                "NaN",
                "inf",
                "-1",
                "0",
                "1e309",
                "9" * 40,
                "\u0661\u0662",
                "A1 ",
                "a" * 300,
                "null",
                "{}",
                "[]",
                "é",
                "\U0001f600",
            ]
        ),
    )


TEXT = _texts()
EDGE_INTS = st.sampled_from(["-1", "0", "1", "2.5", "99999999999999999999", "9223372036854775808", "1e3", ""])
INTS = st.one_of(EDGE_INTS, st.integers(-3, 40).map(str), st.integers(-(10**30), 10**30).map(str), TEXT)
# Counts that make work (accounts, months): small when valid, so that a success is quick.
COUNTS = st.one_of(
    st.sampled_from(["-1", "0", "2.5", "99999999999999999999"]),
    st.integers(-3, 6).map(str),
    st.integers(10**7, 10**30).map(str),
    TEXT,
)
DATES = st.one_of(
    st.dates().map(date.isoformat),
    st.from_regex(r"[0-9]{1,6}-[0-9]{1,3}-[0-9]{1,3}", fullmatch=True),
    st.sampled_from(
        [
            "2026-01-15",
            "2025-12-31",
            "2026-02-29",
            "9999-12-31",
            "0001-01-01",
            "2025-06-30T00:00",
            "20250630",
            "2025-6-3",
            "2199-12-31",
            "1899-12-31",
        ]
    ),
    TEXT,
)
AMOUNTS = st.one_of(
    st.from_regex(r"[0-9.,eE+_ \-\u0660-\u0669]{1,24}", fullmatch=True),
    st.decimals(allow_nan=True, places=3).map(str),
    TEXT,
)
IDS = st.one_of(st.from_regex(r"[A-Za-z0-9\[\]/:._ -]{1,70}", fullmatch=True), st.just("A1"), st.just("B1"), TEXT)


@dataclass(frozen=True)
class File:
    """An input file written into the working directory (``None`` contents: absent)."""

    name: str
    contents: bytes | None
    is_directory: bool = False


@dataclass(frozen=True)
class Directory:
    """A copy of a prepared directory with some of its files replaced (or none, or no directory)."""

    source: str  # "portfolio" or "model"
    replaced: tuple[tuple[str, bytes | None], ...] = ()
    shape: str = "copy"  # copy, missing, file, empty


@dataclass(frozen=True)
class Out:
    """An output path, and what stands there before the command runs."""

    path: str
    existing: str = "nothing"  # nothing, directory, file, file_above


def _mutated(template: bytes) -> st.SearchStrategy[bytes]:
    """The template with one line replaced, cut short, or a random piece spliced in."""
    lines = template.splitlines(keepends=True) or [b""]

    @st.composite
    def mutate(draw: st.DrawFn) -> bytes:
        at = draw(st.integers(0, len(lines) - 1))
        how = draw(st.sampled_from(["replace", "cut", "insert"]))
        piece = draw(st.one_of(TEXT.map(lambda t: t.encode("utf-8", "surrogatepass")), st.binary(max_size=20)))
        if how == "cut":
            return b"".join(lines[:at]) + lines[at][: len(lines[at]) // 2]
        if how == "insert":
            return b"".join(lines[:at]) + piece + b"\n" + b"".join(lines[at:])
        key = lines[at].split(b":", 1)[0].split(b"=", 1)[0].split(b",", 1)[0]
        return (
            b"".join(lines[:at])
            + key
            + (b": " if b":" in lines[at] else b"=")
            + piece
            + b"\n"
            + b"".join(lines[at + 1 :])
        )

    return mutate()


JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=10),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)


def contents(template: bytes) -> st.SearchStrategy[bytes]:
    """Arbitrary contents for a file whose valid form is ``template``."""
    return st.one_of(
        _mutated(template),
        st.binary(max_size=200),
        TEXT.map(lambda t: t.encode()),
        JSONISH.map(lambda v: json.dumps(v).encode()),
        st.sampled_from(
            [
                b"",
                b"\xff\xfe\x00",
                b"[" * 5_000,
                b"a: &a [1]\nb: *a\n",
                b"\x00" * 10,
                template[: len(template) // 3],
                template * 2,
            ]
        ),
    )


def files(name: str, template: bytes) -> st.SearchStrategy[File | str]:
    return st.one_of(
        contents(template).map(lambda body: File(name, body)),
        st.just(File(name, None)),
        st.just(File(name, None, is_directory=True)),
        TEXT,
    )


def directories(source: str, names: tuple[str, ...]) -> st.SearchStrategy[Directory | str]:
    replaced = st.lists(
        st.tuples(st.sampled_from(names), st.one_of(st.none(), contents(b'{"currency": "TWD"}'))),
        min_size=1,
        max_size=2,
    )
    return st.one_of(
        replaced.map(lambda parts: Directory(source, tuple(parts))),
        st.sampled_from(["missing", "file", "empty"]).map(lambda shape: Directory(source, shape=shape)),
        TEXT,
    )


def outs(suffix: str) -> st.SearchStrategy[Out]:
    name = st.text(max_size=30).map(lambda t: "o" + t.replace("/", "_").replace("\\", "_"))
    return st.one_of(
        st.tuples(name, st.sampled_from(["", suffix, ".txt"])).map(lambda p: Out(p[0] + p[1])),
        st.sampled_from(["directory", "file", "file_above"]).map(lambda e: Out(f"taken{suffix}", e)),
        st.just(Out(f"new/sub/o{suffix}")),
    )


# --- the commands --------------------------------------------------------------------------


@dataclass(frozen=True)
class Option:
    """One option of a command: its valid value (None: left out) and what else it may be given."""

    flag: str  # "--amount"; "" for an argument
    valid: Any
    values: st.SearchStrategy[Any]
    examples: int | None = None  # the command's number unless told


def flag_option(flag: str) -> Option:
    """An on/off option: left out is the baseline, so the fuzz only turns it on (once)."""
    return Option(flag, None, st.just(True), examples=1)


@dataclass(frozen=True)
class Command:
    words: tuple[str, ...]
    options: tuple[Option, ...]
    examples: int = 4  # per option
    env: dict[str, Option] = field(default_factory=dict)
    companions: tuple[Path, ...] = ()  # files copied into the working directory first


STRATEGY = default_strategy_text().encode()
PRODUCT = Product().model_dump_json(indent=2).encode()
MAPPING = (EXAMPLES / "mapping.toml").read_bytes()
STATEMENT = (EXAMPLES / "statement.csv").read_bytes()
# A small table with a binary target, for `model train --data` (80 rows train in about a second).
TABLE = "".join(["x1,x2,y\n", *(f"{i % 7},{(i * 3) % 5},{int(i % 4 == 0)}\n" for i in range(40))]).encode()
PORTFOLIO_FILES = ("portfolio.json", "panel.parquet", "customers.parquet", "outcomes.parquet")
MODEL_FILES = ("manifest.json", "metrics.json", "report.md", "scorecard.json", "scorecard.csv")

JSON_FLAG = flag_option("--json")


def _decisions_bytes() -> bytes:
    """A decisions file of the prepared portfolio's accounts, by the default strategy in its fifth month."""
    import io

    import pandas as pd
    import pyarrow as pa
    import pyarrow.parquet as pq

    from linewise.decision_schema import DECISION_COLUMNS, decision_arrow_schema

    frame = pd.DataFrame(
        {
            "account_id": [f"S{i:07d}" for i in range(1, 61)],
            "as_of": pd.Timestamp("2025-11-30").date(),
            "trigger": "review",
            "action": "hold",
            "current_limit": 1_000_000,
            "new_limit": 1_000_000,
            "pd": 0.05,
            "score": 600.0,
            "risk_grade": "A",
            "segment": "established",
            "reasons": [[] for _ in range(60)],
            "recourse": [[] for _ in range(60)],
            "recourse_limit": None,
            "recourse_on": None,
            "strategy": "default@1",
            "model": "m@1",
            "arm": "champion",
        }
    )
    buffer = io.BytesIO()
    pq.write_table(
        pa.Table.from_pandas(frame[list(DECISION_COLUMNS)], schema=decision_arrow_schema(), preserve_index=False),
        buffer,
    )
    return buffer.getvalue()


DECISIONS = _decisions_bytes()
PORTFOLIO = Directory("portfolio")
MODEL = Directory("model")


def _ledger_commands() -> list[Command]:
    on = Option("--on", ON, DATES)
    key = Option("--key", None, IDS)
    reason = Option("--reason", "manual_review", TEXT)
    decision = Option("--decision", None, IDS)
    status = [Option("--account", "A1", IDS), reason, decision, on, key, JSON_FLAG]
    return [
        Command(("db", "upgrade"), (), examples=3),
        Command(
            ("line", "open"),
            (
                Option("--account", "N{n}", IDS),
                Option("--customer", "C{n}", IDS),
                Option("--limit", "1000.00", AMOUNTS),
                Option("--currency", "CNY", st.sampled_from(["TWD", "XXX", "cny"]) | TEXT),
                on,
                key,
                JSON_FLAG,
            ),
        ),
        Command(("line", "show"), (Option("--account", "A1", IDS), Option("--as-of", None, DATES), JSON_FLAG)),
        Command(
            ("line", "set-limit"),
            (
                Option("--account", "A1", IDS),
                Option("--limit", "21000.00", AMOUNTS),
                reason,
                decision,
                on,
                key,
                JSON_FLAG,
            ),
        ),
        Command(("line", "freeze"), tuple(status)),
        Command(("line", "unfreeze"), tuple(status)),
        Command(("line", "close"), (Option("--account", "B1", IDS), *status[1:])),
        Command(
            ("line", "reverse"),
            (
                Option("--account", "A1", IDS),
                Option("--event", "pay-1", IDS),
                Option("--reason", "payment_returned", TEXT),
                on,
                key,
                JSON_FLAG,
            ),
        ),
        Command(
            ("draw",),
            (
                Option("--account", "A1", IDS),
                Option("--amount", "100.00", AMOUNTS),
                Option("--term", "6", INTS),
                Option("--purpose", "daily_consumption", TEXT),
                Option("--method", "equal_instalment", st.sampled_from(["equal_principal", "interest_only"]) | TEXT),
                on,
                key,
                JSON_FLAG,
            ),
            env={"LINEWISE_PRODUCT_FILE": Option("", None, files("product.json", PRODUCT))},
        ),
        Command(("repay",), (Option("--account", "A1", IDS), Option("--amount", "10.00", AMOUNTS), on, key, JSON_FLAG)),
        Command(("statement",), (Option("--account", "A1", IDS), Option("--as-of", "2026-06-30", DATES), JSON_FLAG)),
        Command(
            ("panel", "export"),
            (
                Option("--out", Out("panel.parquet"), outs(".parquet")),
                Option("--as-of", "2026-03-31", DATES),
                Option("--account", None, IDS),
                JSON_FLAG,
            ),
        ),
        *_customer_commands(on),
        *_bureau_commands(),
    ]


MONTHS = st.one_of(
    st.from_regex(r"[0-9]{1,5}-[0-9]{1,3}", fullmatch=True),
    st.sampled_from(["2026-02", "2025-12", "2026-00", "2026-13", "1899-12", "2199-12", "9999-12"]),
    DATES,
)


def _bureau_commands() -> list[Command]:
    month = Option("--month", "2026-03", MONTHS)
    return [
        Command(("bureau", "show"), (Option("--account", "A1", IDS), month, JSON_FLAG)),
        Command(("bureau", "export"), (month, Option("--out", Out("bureau.csv"), outs(".csv")), JSON_FLAG)),
    ]


def _customer_commands(on: Option) -> list[Command]:
    customer = Option("--customer", "C1", IDS)
    currency = Option("--currency", None, st.sampled_from(["CNY", "USD", "XXX"]) | TEXT)
    evidence = Option("--evidence", "doc-1", TEXT)
    return [
        Command(
            ("customer", "income"),
            (
                customer,
                Option("--amount", "12000.00", AMOUNTS),
                Option("--source", "income_proof", st.sampled_from(["bank_statement", "declared", "payslip"]) | TEXT),
                evidence,
                currency,
                on,
                JSON_FLAG,
            ),
        ),
        Command(
            ("customer", "bureau"),
            (
                customer,
                Option("--enquiries-6m", "2", INTS),
                Option("--external-debt", "5000.00", AMOUNTS),
                Option("--external-dpd-max-12m", "0", INTS),
                Option("--bureau-score", None, st.sampled_from(["nan", "inf", "-1", "1000.5"]) | INTS),
                currency,
                on,
                JSON_FLAG,
            ),
        ),
        Command(
            ("customer", "assets"),
            (customer, Option("--amount", "80000.00", AMOUNTS), evidence, currency, on, JSON_FLAG),
        ),
        Command(
            ("customer", "consent"),
            (
                customer,
                Option("--source", "income", st.sampled_from(["bureau", "assets"]) | TEXT),
                Option("--grant", True, st.just(False), examples=1),
                flag_option("--revoke"),
                on,
                JSON_FLAG,
            ),
        ),
        Command(("customer", "show"), (customer, Option("--as-of", None, DATES), JSON_FLAG)),
    ]


def _decision_commands() -> list[Command]:
    run = Option("--run", None, INTS)
    return [
        Command(
            ("review",),
            (
                Option("--portfolio", PORTFOLIO, directories("portfolio", PORTFOLIO_FILES)),
                Option("--model", MODEL, directories("model", MODEL_FILES)),
                Option("--out", Out("d.parquet"), outs(".parquet")),
                Option("--strategy", None, files("s.yaml", STRATEGY)),
                Option("--as-of", None, DATES),
                Option("--trigger", None, st.sampled_from(["repayment", "income_proof", "request"]) | TEXT),
                Option("--account", None, IDS),
                Option("--cycle-days", None, INTS),
                flag_option("--no-recourse"),
                flag_option("--no-log"),
                flag_option("--ledger"),
                flag_option("--apply"),
                JSON_FLAG,
            ),
            examples=2,
        ),
        Command(
            ("simulate",),
            (
                Option("--portfolio", PORTFOLIO, directories("portfolio", PORTFOLIO_FILES)),
                Option("--model", MODEL, directories("model", MODEL_FILES)),
                Option("--out", Out("sim"), outs("")),
                Option("--strategy", None, files("s.yaml", STRATEGY)),
                Option("--assumptions", None, files("a.yaml", b"lgd: 0.6\napr: 0.2\n")),
                Option("--as-of", None, DATES),
                flag_option("--backtest"),
                JSON_FLAG,
            ),
            examples=2,
        ),
        Command(
            ("monitor",),
            (
                Option("--portfolio", PORTFOLIO, directories("portfolio", PORTFOLIO_FILES)),
                Option("--model", MODEL, directories("model", MODEL_FILES)),
                Option("--out", Out("mon"), outs("")),
                Option("--strategy", None, files("s.yaml", STRATEGY)),
                Option("--reference", None, DATES),
                JSON_FLAG,
            ),
            examples=2,
        ),
        Command(
            ("postloan",),
            (
                Option("--portfolio", PORTFOLIO, directories("portfolio", PORTFOLIO_FILES)),
                Option("--out", Out("pl"), outs("")),
                Option("--shown", None, INTS),
                JSON_FLAG,
            ),
            examples=2,
        ),
        Command(
            ("experiment", "size"),
            (
                Option("--baseline", "0.02", st.sampled_from(["0", "1", "-0.1", "nan"]) | TEXT),
                Option("--target", "0.025", st.sampled_from(["0.02", "1.5", "inf"]) | TEXT),
                Option("--alpha", None, TEXT),
                Option("--power", None, TEXT),
                Option("--challenger-share", None, TEXT),
                JSON_FLAG,
            ),
        ),
        Command(
            ("experiment", "readout"),
            (
                Option("--decisions", File("d.parquet", DECISIONS), files("d.parquet", DECISIONS)),
                Option("--portfolio", PORTFOLIO, directories("portfolio", PORTFOLIO_FILES)),
                Option("--strategy", File("s.yaml", STRATEGY), files("s.yaml", STRATEGY)),
                Option("--out", Out("r"), outs("")),
                Option("--at", None, DATES),
                Option("--baseline", None, TEXT),
                Option("--target", None, TEXT),
                JSON_FLAG,
            ),
            examples=2,
        ),
        Command(
            ("optimise",),
            (
                Option("--portfolio", PORTFOLIO, directories("portfolio", PORTFOLIO_FILES)),
                Option("--model", MODEL, directories("model", MODEL_FILES)),
                Option("--out", Out("opt"), outs("")),
                Option("--candidates", "2", COUNTS),
                Option("--strategy", None, files("s.yaml", STRATEGY)),
                Option("--loss-rate-max", None, TEXT),
                Option("--limit-added-max", None, AMOUNTS),
                Option("--assumptions", None, files("a.yaml", b"apr: 0.24\n")),
                Option("--seed", None, INTS),
                JSON_FLAG,
            ),
            examples=2,
        ),
        Command(
            ("report",),
            (
                Option("--postloan", None, TEXT),
                Option("--simulation", None, TEXT),
                Option("--optimise", None, TEXT),
                Option("--monitor", None, TEXT),
                Option("--out", Out("r.html"), outs(".html")),
                JSON_FLAG,
            ),
        ),
        Command(
            ("decide",),
            (
                Option("--account", "A1", IDS),
                Option("--model", MODEL, directories("model", MODEL_FILES)),
                Option("--strategy", None, files("s.yaml", STRATEGY)),
                Option("--trigger", None, st.sampled_from(["repayment", "income_proof", "request"]) | TEXT),
                Option("--as-of", None, DATES),
                flag_option("--apply"),
                Option("--lang", None, TEXT),
                flag_option("--no-recourse"),
                JSON_FLAG,
            ),
            examples=2,
        ),
        Command(
            ("preview",),
            (
                Option("--account", "A1", IDS),
                Option("--amount", "100.00", AMOUNTS),
                Option("--term", "6", INTS),
                Option("--model", MODEL, directories("model", MODEL_FILES)),
                Option("--strategy", None, files("s.yaml", STRATEGY)),
                Option("--method", None, st.sampled_from(["equal_principal", "interest_only"]) | TEXT),
                Option("--purpose", None, TEXT),
                Option("--on", None, DATES),
                Option("--lang", None, TEXT),
                JSON_FLAG,
            ),
            examples=2,
            env={"LINEWISE_PRODUCT_FILE": Option("", None, files("product.json", PRODUCT))},
        ),
        Command(
            ("explain",),
            (Option("", "{account}", IDS), Option("--lang", "en", TEXT), flag_option("--analyst"), JSON_FLAG),
        ),
        Command(("decisions", "list"), (JSON_FLAG,), examples=3),
        Command(
            ("decisions", "replay"),
            (Option("--model", MODEL, directories("model", MODEL_FILES)), run, JSON_FLAG),
            examples=2,
        ),
        Command(("decisions", "samples"), (run, Option("--lang", None, TEXT))),
        *_version_commands(),
    ]


def _version_commands() -> list[Command]:
    """Storing, activating and listing versions (the ledger fixture stores default@1 and the model, ada is an admin)."""
    by = Option("--by", "ada", st.sampled_from(["nobody", "Ada"]) | IDS)
    note = Option("--note", None, TEXT)
    refs = st.sampled_from(["default@2", "default", "@1", "default@1@1"]) | IDS
    return [
        Command(("strategy", "store"), (Option("", File("s.yaml", STRATEGY), files("s.yaml", STRATEGY)), JSON_FLAG)),
        Command(("strategy", "activate"), (Option("", "default@1", refs), by, note, JSON_FLAG)),
        Command(("strategy", "versions"), (JSON_FLAG,), examples=3),
        Command(
            ("model", "store"),
            (
                Option("", MODEL, directories("model", MODEL_FILES)),
                Option("--currency", None, st.sampled_from(["TWD", "CNY", "XXX"]) | TEXT),
                JSON_FLAG,
            ),
        ),
        Command(("model", "activate"), (Option("", "{model_ref}", refs), by, note, JSON_FLAG)),
        Command(("model", "versions"), (JSON_FLAG,), examples=3),
    ]


def _file_commands() -> list[Command]:
    portfolio = Option("--portfolio", PORTFOLIO, directories("portfolio", PORTFOLIO_FILES))
    strategy_file = Option("", File("s.yaml", STRATEGY), files("s.yaml", STRATEGY))
    model_dir = Option("--model", MODEL, directories("model", MODEL_FILES))
    table = File("t.csv", TABLE)
    return [
        Command(
            ("demo",),
            (
                Option("--accounts", "3", COUNTS),
                Option("--months", "2", COUNTS),
                Option("--seed", "1", INTS),
                Option("--start", "2025-01-01", DATES),
                Option("--db", Out("demo.db"), outs(".db")),
            ),
            examples=4,
        ),
        Command(("data", "uci"), (Option("--out", Out("uci", "directory"), outs("")), JSON_FLAG), examples=4),
        Command(("data", "check"), (Option("", PORTFOLIO, directories("portfolio", PORTFOLIO_FILES)), JSON_FLAG)),
        Command(
            ("data", "synth"),
            (
                Option("--accounts", "5", COUNTS),
                Option("--months", "3", COUNTS),
                Option("--seed", "1", INTS),
                Option("--out", Out("p"), outs("")),
                Option("--last-month", None, DATES),
                Option("--currency", None, st.sampled_from(["TWD", "XXX"]) | TEXT),
                Option("--horizon", None, COUNTS),
                JSON_FLAG,
            ),
        ),
        Command(
            ("data", "import"),
            (
                Option("--mapping", File("mapping.toml", MAPPING), files("mapping.toml", MAPPING)),
                Option("--out", Out("imported"), outs("")),
                JSON_FLAG,
            ),
            companions=tuple(sorted(EXAMPLES.glob("*.csv"))),
        ),
        Command(
            ("data", "income"),
            (
                Option("--statements", File("st.csv", STATEMENT), files("st.csv", STATEMENT)),
                Option("--as-of", "2025-06-30", DATES),
                Option("--currency", "CNY", TEXT),
                Option("--out", Out("incomes.parquet"), outs(".parquet")),
                Option("--portfolio", None, directories("portfolio", PORTFOLIO_FILES)),
                Option("--lookback-months", None, INTS),
                Option("--min-months", None, INTS),
                JSON_FLAG,
            ),
        ),
        Command(
            ("model", "train"),
            (
                Option("--out", Out("m"), outs("")),
                Option("--data", table, files("t.csv", TABLE)),
                Option("--portfolio", None, directories("portfolio", PORTFOLIO_FILES)),
                Option("--target", "y", TEXT),
                Option("--bad", None, TEXT),
                Option("--id", None, TEXT),
                Option("--exclude", None, TEXT),
                Option("--special", None, TEXT),
                Option("--kind", None, st.sampled_from(["logit", "GBM"]) | TEXT),
                Option("--cv", "2", INTS),
                Option("--as-of", None, DATES),
                Option("--id-name", None, TEXT),
                JSON_FLAG,
            ),
            examples=1,
        ),
        Command(
            ("model", "score"),
            (
                model_dir,
                Option("--out", Out("s.parquet"), outs(".parquet")),
                Option("--data", None, files("t.csv", TABLE)),
                portfolio,
                Option("--id", None, TEXT),
                Option("--as-of", None, DATES),
                flag_option("--contributions"),
            ),
            examples=4,
        ),
        Command(("model", "report"), (Option("", MODEL, directories("model", MODEL_FILES)), JSON_FLAG)),
        Command(
            ("model", "export"),
            (
                model_dir,
                Option("--format", None, TEXT),
                Option("--dialect", None, st.sampled_from(["postgresql", "spark"]) | TEXT),
                Option("--table", None, TEXT),
                Option("--id", None, TEXT),
                flag_option("--no-pd"),
                Option("--out", None, outs(".sql")),
            ),
        ),
        Command(("strategy", "validate"), (strategy_file, JSON_FLAG)),
        Command(
            ("strategy", "diff"),
            (strategy_file, Option("", File("new.yaml", STRATEGY), files("new.yaml", STRATEGY)), JSON_FLAG),
        ),
        Command(("strategy", "explain"), (strategy_file, Option("--lang", None, TEXT), JSON_FLAG)),
        Command(
            ("strategy", "init"),
            (
                Option("--out", Out("init.yaml"), outs(".yaml")),
                Option("--currency", "CNY", st.sampled_from(["TWD", "XXX"]) | TEXT),
                Option("--id", None, TEXT),
                JSON_FLAG,
            ),
        ),
    ]


LEDGER_COMMANDS = _ledger_commands() + _decision_commands()
FILE_COMMANDS = _file_commands()


def _name(command: Command) -> str:
    return " ".join(command.words)


# --- running one example -------------------------------------------------------------------


class Hang(BaseException):
    """A command ran past HANG_SECONDS."""


@contextmanager
def time_bound(seconds: int) -> Iterator[None]:
    def hang(signum: int, frame: Any) -> None:
        raise Hang(f"no answer within {seconds} s")

    previous = signal.signal(signal.SIGALRM, hang)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def files_under(root: Path) -> dict[str, str]:
    """Every file and folder under ``root``, with a digest of each file's bytes."""
    found = {}
    for path in sorted(root.rglob("*")):
        name = str(path.relative_to(root))
        found[name] = "dir" if path.is_dir() else hashlib.sha256(path.read_bytes()).hexdigest()
    return found


@dataclass
class Scene:
    """Where one example runs: a fresh working directory beside the prepared inputs."""

    cwd: Path
    prepared: dict[str, Path]
    number: int

    def materialise(self, value: Any) -> str | None:
        """The text to put on the command line for ``value``, making what it names."""
        if value is None or isinstance(value, bool):
            return None
        if isinstance(value, File):
            path = self.cwd / value.name
            if value.is_directory:
                path.mkdir()
            elif value.contents is not None:
                path.write_bytes(value.contents)
            return value.name
        if isinstance(value, Directory):
            return self._directory(value)
        if isinstance(value, Out):
            return self._out(value)
        return str(value)

    def _directory(self, value: Directory) -> str:
        path = self.cwd / value.source
        if value.shape == "file":
            path.write_text("not a directory", encoding="utf-8")
        elif value.shape == "empty":
            path.mkdir()
        elif value.shape == "copy":
            shutil.copytree(self.prepared[value.source], path)
            for name, body in value.replaced:
                (path / name).unlink(missing_ok=True)
                if body is not None:
                    (path / name).write_bytes(body)
        return value.source

    def _out(self, value: Out) -> str:
        if value.existing == "directory":
            (self.cwd / value.path).mkdir()
        elif value.existing == "file":
            (self.cwd / value.path).write_text("mine", encoding="utf-8")
        elif value.existing == "file_above":
            (self.cwd / "above").write_text("mine", encoding="utf-8")
            return f"above/{value.path}"
        return value.path


def model_ref_of(model: Path) -> str:
    """The id@version of the prepared model."""
    return str(json.loads((model / "manifest.json").read_text(encoding="utf-8"))["model"])


def command_line(command: Command, fuzzed: dict[int, Any], scene: Scene) -> list[str]:
    args = list(command.words)
    for position, option in enumerate(command.options):
        value = fuzzed.get(position, option.valid)
        if position not in fuzzed and isinstance(value, str):
            model_ref = model_ref_of(scene.prepared["model"]) if "{model_ref}" in value else ""
            value = value.format(n=scene.number, account=scene.prepared["account"].name, model_ref=model_ref)
        if option.flag.startswith("--") and isinstance(value, bool):
            if value:
                args.append(option.flag)
            continue
        text = scene.materialise(value)
        if text is None:
            continue
        args.extend([option.flag, text] if option.flag else [text])
    return args


EXTRA = st.lists(st.one_of(TEXT, st.sampled_from(["--json", "--help", "--debug", "-x", "--on"])), max_size=2)


@st.composite
def choices(draw: st.DrawFn, command: Command, target: int | None) -> tuple[dict[int, Any], dict[str, Any], list[str]]:
    """What option ``target`` gets (and perhaps one more option), the environment, and extra words."""
    fuzzed: dict[int, Any] = {}
    if target is not None:
        fuzzed[target] = draw(command.options[target].values)
        if draw(st.integers(0, 3)) == 0:
            other = draw(st.integers(0, len(command.options) - 1))
            fuzzed.setdefault(other, draw(command.options[other].values))
    env = {name: draw(option.values) for name, option in command.env.items() if target is None}
    extra = draw(EXTRA) if target is None else []
    return fuzzed, env, extra


runner = CliRunner()


def run_example(
    command: Command,
    choice: tuple[dict[int, Any], dict[str, Any], list[str]],
    scene: Scene,
    database: Callable[[], Any] | None,
) -> None:
    fuzzed, env, extra = choice
    args = command_line(command, fuzzed, scene) + [str(word) for word in extra]
    # An environment variable cannot hold a NUL byte: the runner could not set one.
    settings_env = {name: (scene.materialise(value) or "").replace("\x00", "") for name, value in env.items()}
    before_files = files_under(scene.cwd)
    before_tables = database() if database else None
    with time_bound(HANG_SECONDS):
        result = runner.invoke(app, args, env=settings_env, catch_exceptions=False)
    if result.exit_code == 0:
        return
    assert result.exit_code in (2, 3), f"linewise {args!r} exited {result.exit_code}:\n{result.output}"
    told = result.stderr.rstrip("\n")
    assert ONE_LINE_ERROR.fullmatch(told) or FILE_PROBLEMS.fullmatch(told), f"linewise {args!r}:\n{result.stderr}"
    assert files_under(scene.cwd) == before_files, f"linewise {args!r} wrote files, then refused"
    if database:
        assert database() == before_tables, f"linewise {args!r} changed the database, then refused"


# --- fixtures --------------------------------------------------------------------------------


def invoke_ok(*args: str) -> None:
    result = runner.invoke(app, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output


@pytest.fixture(scope="module")
def prepared(tmp_path_factory) -> dict[str, Path]:
    """A small portfolio (60 accounts, TWD) and a model trained on it."""
    root = tmp_path_factory.mktemp("prepared")
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(root)
        invoke_ok(
            "data",
            "synth",
            "--accounts",
            "60",
            "--months",
            "6",
            "--seed",
            "1",
            "--currency",
            "TWD",
            "--out",
            "portfolio",
        )
        invoke_ok("model", "train", "--portfolio", "portfolio", "--cv", "2", "--out", "model")
    account = Path(str(__import__("pandas").read_parquet(root / "portfolio" / "panel.parquet")["account_id"].iloc[0]))
    (root / "strategy.yaml").write_bytes(STRATEGY)
    return {
        "portfolio": root / "portfolio",
        "model": root / "model",
        "account": account,
        "strategy": root / "strategy.yaml",
    }


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def ledger(request, tmp_path_factory, prepared) -> Iterator[Any]:
    """A ledger (A1 with a drawdown and a repayment keyed pay-1; B1) and a logged review run.

    One per database for the whole module: a refusal changes nothing, and what a success
    changes only moves the starting point of later examples.
    """
    with _engine(request, tmp_path_factory) as engine, pytest.MonkeyPatch.context() as patch:
        for module in ("ledger", "review", "decisions", "customer", "bureau", "strategy", "model"):
            patch.setattr(f"linewise.cli.{module}.engine", lambda check_schema=True: engine)
        patch.chdir(tmp_path_factory.mktemp("ledger"))
        for name in [name for name in os.environ if name.startswith("LINEWISE_")]:
            patch.delenv(name)
        for args in (
            ("line", "open", "--account", "A1", "--customer", "C1", "--limit", "20000.00", "--on", "2026-01-15"),
            ("draw", "--account", "A1", "--amount", "6000.00", "--term", "6", "--on", "2026-01-15"),
            ("repay", "--account", "A1", "--amount", "100.00", "--on", "2026-01-16", "--key", "pay-1"),
            ("line", "open", "--account", "B1", "--customer", "C2", "--limit", "1000.00", "--on", "2026-01-15"),
            (
                "review",
                "--portfolio",
                str(prepared["portfolio"]),
                "--model",
                str(prepared["model"]),
                "--out",
                "d.parquet",
            ),
            ("strategy", "store", str(prepared["strategy"])),
            ("model", "store", str(prepared["model"])),
        ):
            invoke_ok(*args)
        add_user(engine, NewUser("ada", "admin", "$argon2id$not-a-real-hash"), actor="test", now=datetime.now(UTC))
        yield engine


@contextmanager
def _engine(request, tmp_path_factory) -> Iterator[Any]:
    if request.param == "sqlite":
        engine = create_store_engine(f"sqlite:///{tmp_path_factory.mktemp('db') / 'ledger.db'}")
        upgrade(engine)
        try:
            yield engine
        finally:
            engine.dispose()
    else:
        # What a refusal leaves is the store's to keep, tested on PostgreSQL with the store;
        # the sweep of every option is repeated there under the ci profile only.
        if not thorough():
            pytest.skip("the command sweep on PostgreSQL runs under the ci profile (SQLite here)")
        with fresh_pg_engine(request.getfixturevalue("pg_server_url")) as engine:
            yield engine


@pytest.fixture(scope="module")
def scratch(tmp_path_factory) -> Callable[[], Path]:
    root = tmp_path_factory.mktemp("examples")
    count = iter(range(1_000_000))

    def make() -> Path:
        path = root / str(next(count))
        path.mkdir()
        return path

    return make


# A sweep of every option of every command (about a minute): make test runs it,
# make test-fast does not.
pytestmark = pytest.mark.slow

FUZZ = settings(
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.filter_too_much,
    ],
)


def _sweep(
    case: tuple[Command, int | None], prepared, scratch, monkeypatch, database: Callable[[], Any] | None
) -> None:
    command, target = case

    # An on/off option has one other value; the extra words are a side dish. Half of
    # them (at least one) on a laptop, all under the ci profile.
    examples = 2 if target is None else command.options[target].examples or command.examples
    if not thorough():
        examples = max(1, examples // 2)

    @settings(FUZZ, max_examples=examples)
    @given(choice=choices(command, target))
    def examples(choice):
        cwd = scratch()
        monkeypatch.chdir(cwd)
        for companion in command.companions:
            shutil.copy(companion, cwd / companion.name)
        run_example(command, choice, Scene(cwd, prepared, int(cwd.name)), database)

    examples()


def _cases(commands: list[Command]) -> list[Any]:
    """Each option of each command on its own; and each command with its environment and extra words."""
    cases = []
    for command in commands:
        for target, option in enumerate(command.options):
            name = option.flag or f"argument {target + 1}"
            cases.append(pytest.param((command, target), id=f"{_name(command)} {name}"))
        cases.append(pytest.param((command, None), id=f"{_name(command)} extra"))
    return cases


@pytest.mark.parametrize("case", _cases(LEDGER_COMMANDS))
def test_any_option_of_a_ledger_command_is_taken_or_refused_in_one_line_changing_nothing(
    ledger, prepared, scratch, monkeypatch, case
):
    _sweep(case, prepared, scratch, monkeypatch, lambda: snapshot(ledger))


@pytest.mark.parametrize("case", _cases(FILE_COMMANDS))
def test_any_option_of_a_file_command_is_taken_or_refused_in_one_line_writing_nothing(
    prepared, scratch, monkeypatch, case
):
    for name in [name for name in os.environ if name.startswith("LINEWISE_")]:
        monkeypatch.delenv(name)
    _sweep(case, prepared, scratch, monkeypatch, None)


def test_every_command_of_linewise_is_swept():
    # user add and serve are swept with the service's tests (tests/service/test_cli.py).
    swept = {_name(command) for command in LEDGER_COMMANDS + FILE_COMMANDS} | {"user add", "serve"}
    group = get_command(app)
    found = set()
    for name, sub in group.commands.items():  # type: ignore[attr-defined]
        found |= {f"{name} {inner}" for inner in getattr(sub, "commands", {})} or {name}
    assert found == swept
