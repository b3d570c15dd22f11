"""A scorecard exported as one SQL statement scores every account as Python does.

The oracle is the model itself: ``model.score`` and ``model.predict_proba`` on the
same rows. The SQL runs in SQLite (always), PostgreSQL (``postgres``: a database of
its own, created and dropped) and Spark SQL (``spark``: local mode).

Tolerances: the SQL sums the same doubles in the same order as Python and computes
the calibrated log-odds ``z`` with the same operations, so only the last step
differs. Python's score goes through ``logit(sigmoid(z))``, which gives ``z`` back
only up to about ``2e-16 / (pd * (1 - pd))``; the score may differ by ``factor``
times that (``_score_tolerance``: about 1e-12 points for the UCI accounts, whose
PDs lie between 1% and 99%). The PD is Python's own formula, ``0.5 * (1 +
tanh(z / 2))``; the database's ``tanh`` may round differently in the last bit, so
PDs agree within 1e-15.
"""

from __future__ import annotations

import math
import os
import shutil
import sqlite3
import sys
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.model_selection import train_test_split
from typer.testing import CliRunner

from linewise.cli.main import app
from linewise.data.importers.uci_taiwan import load_uci_raw
from linewise.errors import InputError
from linewise.models.artifacts import load_model, save_model
from linewise.models.calibration import Calibration
from linewise.models.gbm import GradientBoostedModel
from linewise.models.inputs import features_from_table, inputs_from_table
from linewise.models.scorecard import Scorecard, ScorecardFeature, ScorecardTable
from linewise.models.sql_export import (
    SqlDialect,
    render_pd_sql,
    render_score_sql,
    render_select_sql,
)
from linewise.models.training import TrainedModel, train_model

pytestmark = [
    # optbinning 1.0 builds its binning table's "Totals" row by setting a mixed row
    # into typed columns, which pandas 3 deprecates; the table it builds is right.
    pytest.mark.filterwarnings("ignore:Setting an item of incompatible dtype:pandas.errors.Pandas4Warning:optbinning"),
    # A scorecard trained with cross-validation; a Spark session started.
    pytest.mark.slow,
]

SPECIAL = -999.0
TRAIN_ROWS = 5_000
PD_TOLERANCE = 1e-15

Row = tuple[Any, ...]
Columns = list[tuple[str, str]]  # (name, "integer" | "double" | "text")


# --- the data: the UCI table with what a lender's file also holds -------------------


@pytest.fixture(scope="module")
def uci_table() -> pd.DataFrame:
    """The raw UCI table (ID, X1..X23, Y) with special codes, gaps and a categorical.

    The credit limit holds the special code and missing values; age has gaps;
    September's repayment status (X6) becomes text, so it is binned by category.
    """
    table = load_uci_raw().astype({"X1": "float64", "X5": "float64"})
    rng = np.random.default_rng(7)
    table.loc[rng.random(len(table)) < 0.03, "X1"] = SPECIAL
    table.loc[rng.random(len(table)) < 0.03, "X1"] = np.nan
    table.loc[rng.random(len(table)) < 0.03, "X5"] = np.nan
    status = "s" + table.pop("X6").astype("str")
    table["status"] = status.astype("object").where(rng.random(len(table)) >= 0.02, None)
    return table


@pytest.fixture(scope="module")
def trained(uci_table) -> TrainedModel:
    """A scorecard trained on a stratified 5,000-row sample, -999 a special code."""
    sample, _ = train_test_split(uci_table, train_size=TRAIN_ROWS, stratify=uci_table["Y"], random_state=0)
    inputs = inputs_from_table(sample, target="Y", id_column="ID")
    result = train_model(inputs, kind="scorecard", folds=3, special_codes=[SPECIAL])
    assert isinstance(result.model, Scorecard)
    return result


@pytest.fixture(scope="module")
def scorecard(trained) -> Scorecard:
    model = trained.model
    assert isinstance(model, Scorecard)
    return model


@pytest.fixture(scope="module")
def accounts(uci_table, scorecard) -> pd.DataFrame:
    """All 30,000 accounts, with what only scoring meets.

    An unseen status; gaps and special codes in a feature that had neither in
    training (neutral points); and, for every split of every numeric feature, the
    split itself and the doubles just below and above it.
    """
    table = uci_table.drop(columns="Y")
    numeric = [f for f in scorecard.table_.features if f.kind == "numeric"]
    table = table.astype({f.name: "float64" for f in numeric})
    clean = next(f.name for f in numeric if f.name not in ("X1", "X5"))
    table.loc[table.index[::97], "status"] = "s_unseen"
    table.loc[table.index[1::89], clean] = np.nan
    table.loc[table.index[2::83], clean] = SPECIAL
    for feature in numeric:
        edges = [
            edge
            for split in feature.splits
            for edge in (np.nextafter(split, -np.inf), split, np.nextafter(split, np.inf))
        ]
        table.loc[table.index[1000 : 1000 + len(edges)], feature.name] = edges
    return table


@pytest.fixture(scope="module")
def expected(accounts, scorecard) -> pd.DataFrame:
    features = features_from_table(accounts, id_column="ID", source="accounts")
    return _python_scores(scorecard, features)


def test_the_accounts_reach_every_kind_of_branch(accounts, scorecard):
    names = [f.name for f in scorecard.table_.features]
    assert {"X1", "status"} <= set(names)
    limit = next(f for f in scorecard.table_.features if f.name == "X1")
    status = next(f for f in scorecard.table_.features if f.name == "status")
    assert (accounts["X1"] == SPECIAL).any() and accounts["X1"].isna().any()
    assert limit.special_points != limit.neutral_points  # the special bin was learnt
    untouched = [
        f
        for f in scorecard.table_.features
        if f.kind == "numeric"
        and accounts[f.name].isna().any()
        and (accounts[f.name] == SPECIAL).any()
        and f.name not in ("X1", "X5")
    ]
    assert untouched  # gaps and special codes in training's empty bins: neutral points
    assert untouched[0].missing_points == untouched[0].special_points == untouched[0].neutral_points
    assert accounts["status"].isna().any() and (accounts["status"] == "s_unseen").any()
    assert status.kind == "categorical"
    on_edges = [
        accounts[f.name].isin(f.splits).sum() >= len(f.splits) for f in scorecard.table_.features if f.kind == "numeric"
    ]
    assert all(on_edges)


# --- the databases -------------------------------------------------------------------


@dataclass(frozen=True)
class Database:
    """Somewhere the SQL runs: load a table of rows, run a query, get rows back."""

    dialect: SqlDialect
    load: Callable[[str, Columns, Sequence[Row]], None]
    query: Callable[[str], list[Row]]


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


_SQL_TYPES = {
    "sqlite": {"integer": "INTEGER", "double": "REAL", "text": "TEXT"},
    "postgresql": {"integer": "BIGINT", "double": "DOUBLE PRECISION", "text": "TEXT"},
}


def _create_table(dialect: str, name: str, columns: Columns) -> str:
    listed = ", ".join(f"{_quoted(c)} {_SQL_TYPES[dialect][kind]}" for c, kind in columns)
    return f"CREATE TABLE {_quoted(name)} ({listed})"


@pytest.fixture
def sqlite_database() -> Iterator[Database]:
    connection = sqlite3.connect(":memory:")

    def load(name: str, columns: Columns, rows: Sequence[Row]) -> None:
        connection.execute(_create_table("sqlite", name, columns))
        marks = ", ".join("?" * len(columns))
        connection.executemany(f"INSERT INTO {_quoted(name)} VALUES ({marks})", rows)

    yield Database("sqlite", load, lambda sql: connection.execute(sql).fetchall())
    connection.close()


@pytest.fixture(scope="module")
def postgresql_database(pg_server_url) -> Iterator[Database]:
    """A database of our own on the test server, dropped afterwards."""
    import psycopg
    from sqlalchemy.engine import make_url

    server = make_url(pg_server_url).set(drivername="postgresql")
    name = f"linewise_test_sql_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(server.render_as_string(hide_password=False), autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    connection = psycopg.connect(server.set(database=name).render_as_string(hide_password=False))

    def load(table: str, columns: Columns, rows: Sequence[Row]) -> None:
        with connection.cursor() as cursor:
            cursor.execute(_create_table("postgresql", table, columns))
            with cursor.copy(f"COPY {_quoted(table)} FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        connection.commit()

    def query(sql: str) -> list[Row]:
        with connection.cursor() as cursor:
            return cursor.execute(sql).fetchall()

    yield Database("postgresql", load, query)
    connection.close()
    with psycopg.connect(server.render_as_string(hide_password=False), autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def spark() -> Iterator[Any]:
    """Spark in local mode: one core, no UI, two shuffle partitions.

    Without Java it skips, except in CI (``.ci/run`` installs Java), where it fails.
    """
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        message = "Spark tests need Java 17 (apt-get install openjdk-17-jre-headless)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    from pyspark.sql import SparkSession

    with pytest.MonkeyPatch.context() as patch:
        # Python workers run in this interpreter, with linewise and its versions.
        patch.setenv("PYSPARK_PYTHON", sys.executable)
        session = (
            SparkSession.builder.master("local[1]")
            .appName("linewise-tests")
            .config("spark.ui.enabled", "false")
            .config("spark.ui.showConsoleProgress", "false")
            .config("spark.sql.shuffle.partitions", "2")
            # A JVM that lives for a few queries: C2's compile threads cost
            # more than they save (half the time on a busy two-core machine).
            .config("spark.driver.extraJavaOptions", "-XX:TieredStopAtLevel=1")
            .getOrCreate()
        )
        session.sparkContext.setLogLevel("ERROR")
        yield session
        session.stop()


@pytest.fixture(scope="module")
def spark_database(spark) -> Database:
    from pyspark.sql.types import (
        DoubleType,
        LongType,
        StringType,
        StructField,
        StructType,
    )

    types = {"integer": LongType(), "double": DoubleType(), "text": StringType()}

    def load(name: str, columns: Columns, rows: Sequence[Row]) -> None:
        # Rows, not a pandas frame: NaN stays NaN and None becomes NULL, as we ask.
        schema = StructType([StructField(c, types[kind], nullable=True) for c, kind in columns])
        view = "`" + name.replace("`", "``") + "`"
        frame = spark.createDataFrame(list(rows), schema, verifySchema=False)
        frame.createOrReplaceTempView(view)

    return Database("spark", load, lambda sql: [tuple(row) for row in spark.sql(sql).collect()])


@pytest.fixture(
    params=[
        "sqlite",
        pytest.param("postgresql", marks=pytest.mark.postgres),
        pytest.param("spark", marks=pytest.mark.spark),
    ]
)
def database(request) -> Database:
    database: Database = request.getfixturevalue(f"{request.param}_database")
    return database


def _rows(frame: pd.DataFrame, *, nan_rows: pd.Series) -> tuple[Columns, list[Row]]:
    """Column kinds and Python rows; a gap in a ``nan_rows`` row is NaN, elsewhere NULL.

    SQLite stores NaN as NULL; PostgreSQL and Spark keep it, and Python reads both
    as missing, so the SQL must too.
    """
    kinds: Columns = [(name, _kind(frame[name])) for name in frame.columns]
    values = frame.astype("object").where(frame.notna(), None)
    for name, kind in kinds:
        if kind == "double":
            values.loc[nan_rows & frame[name].isna(), name] = math.nan
    return kinds, list(values.itertuples(index=False, name=None))


def _kind(column: pd.Series) -> str:
    if pd.api.types.is_integer_dtype(column):
        return "integer"
    return "double" if pd.api.types.is_float_dtype(column) else "text"


def _python_scores(model: Scorecard, features: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame(
        {"score": model.score(features), "pd": model.predict_proba(features)}, index=features.index.astype("str")
    )


def _sql_scores(rows: list[Row]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["id", "score", "pd"]).astype({"score": "float64", "pd": "float64"})
    return frame.set_index(frame["id"].astype("str")).drop(columns="id")


def _score_tolerance(pd_: pd.Series, factor: float) -> np.ndarray:
    """What Python's ``logit(sigmoid(z))`` round trip may move a score by, in points."""
    p = np.clip(pd_.to_numpy(), 1e-12, 1 - 1e-12)
    eps = float(np.finfo("float64").eps)
    bound: np.ndarray = factor * 4 * eps * (1 / (p * (1 - p)) + np.abs(np.log(p / (1 - p))))
    return bound


def assert_same_scores(got: pd.DataFrame, expected: pd.DataFrame, factor: float) -> None:
    assert got.index.is_unique and set(got.index) == set(expected.index)
    got = got.loc[expected.index]
    score_gap = (got["score"] - expected["score"]).abs()
    tolerance = _score_tolerance(expected["pd"], factor)
    worst = int(np.argmax(score_gap.to_numpy() - tolerance))
    assert (score_gap.to_numpy() <= tolerance).all(), (
        f"{expected.index[worst]}: SQL score {got['score'].iloc[worst]!r}, Python {expected['score'].iloc[worst]!r}"
    )
    assert (got["pd"] - expected["pd"]).abs().max() <= PD_TOLERANCE


# --- the UCI accounts in each database ------------------------------------------------


def test_every_uci_account_scores_in_sql_as_in_python(database, accounts, scorecard, expected):
    columns, rows = _rows(accounts, nan_rows=accounts["ID"] % 2 == 0)
    database.load("uci_accounts", columns, rows)
    statement = render_select_sql(scorecard, table="uci_accounts", id_column="ID", dialect=database.dialect)
    got = _sql_scores(database.query(statement))
    assert len(got) == len(accounts) == 30_000
    assert_same_scores(got, expected, scorecard.points_scaling.factor)


def test_the_score_alone_is_the_same_as_with_the_pd(database, accounts, scorecard, expected):
    sample = accounts.iloc[::50]
    columns, rows = _rows(sample, nan_rows=sample["ID"] % 2 == 0)
    database.load("uci_sample", columns, rows)
    dialect = database.dialect
    alone = render_select_sql(scorecard, table="uci_sample", id_column="ID", dialect=dialect, include_pd=False)
    expressions = (
        f"SELECT {_identifier(dialect, 'ID')}, {render_score_sql(scorecard, dialect=dialect)}, "
        f"{render_pd_sql(scorecard, dialect=dialect)} FROM uci_sample"
    )
    score_only = dict(database.query(alone))
    both = _sql_scores(database.query(expressions))
    assert set(score_only) == set(both.index.astype("int64")) == set(sample["ID"])
    assert all(score_only[int(key)] == row.score for key, row in both.iterrows())
    assert_same_scores(both, expected.loc[sample["ID"].astype("str")], scorecard.points_scaling.factor)


def _identifier(dialect: str, name: str) -> str:
    return f"`{name}`" if dialect == "spark" else _quoted(name)


# --- edges, quoting, infinities, NaN and the clamp in each database -------------------


def _edge_scorecard() -> Scorecard:
    """Hand-written bins with awkward names, categories and numbers."""
    third = 1 / 3
    features = (
        ScorecardFeature(
            name='limit "big"',
            kind="numeric",
            splits=(-2.5, 0.1, third, 1e15),
            points=(-12.34, 0.01, 7.5, 33.33, 45.67),
            missing_points=5.55,
            special_points=9.99,
            special_codes=(SPECIAL, -math.inf),
            labels=("a", "b", "c", "d", "e"),
        ),
        ScorecardFeature(
            name="note`s",
            kind="categorical",
            categories=(("it's", 'say "hi"', "dup"), ("back\\slash", "中文"), ("a b", "dup")),
            points=(3.21, -4.56, 7.89),
            missing_points=-1.11,
            special_points=0.0,
            labels=("x", "y", "z"),
        ),
        ScorecardFeature(
            name="switch",
            kind="numeric",
            splits=(-1.0, 1.0),
            points=(-3000.0, 0.0, 3000.0),
            missing_points=0.0,
            special_points=0.0,
            labels=("low", "mid", "high"),
        ),
        # Most of the points, so that the scores sit where PDs are neither 0 nor 1.
        ScorecardFeature(
            name="flat", kind="numeric", points=(480.0,), missing_points=470.0, special_points=0.0, labels=("all",)
        ),
    )
    return Scorecard.from_table(ScorecardTable(features=features), Calibration(intercept=-0.3, slope=0.9))


def _edge_rows() -> tuple[Columns, list[Row]]:
    third = 1 / 3
    limits: list[float | None] = [
        edge
        for split in (-2.5, 0.1, third, 1e15)
        for edge in (float(np.nextafter(split, -np.inf)), split, float(np.nextafter(split, np.inf)))
    ]
    limits += [SPECIAL, -math.inf, math.inf, math.nan, None, 0.0, -0.0, 5e-324, 1e308, -1e308]
    notes = ["it's", 'say "hi"', "dup", "back\\slash", "中文", "a b", "zzz", "", None, "It's"]
    switches = [-5.0, 0.0, 5.0, -1.0, 1.0, 0.0, 0.0]
    flats = [1.0, None, math.nan, 0.0]
    rows = [
        (i, limits[i % len(limits)], notes[i % len(notes)], switches[i % len(switches)], flats[i % len(flats)])
        for i in range(len(limits) * len(notes))
    ]
    columns: Columns = [
        ("account_id", "integer"),
        ('limit "big"', "double"),
        ("note`s", "text"),
        ("switch", "double"),
        ("flat", "double"),
    ]
    return columns, rows


def test_edges_quotes_infinities_and_nan_score_as_in_python(database):
    model = _edge_scorecard()
    columns, rows = _edge_rows()
    database.load("edge cases", columns, rows)
    statement = render_select_sql(model, table="edge cases", id_column="account_id", dialect=database.dialect)
    got = _sql_scores(database.query(statement))
    frame = pd.DataFrame(rows, columns=[name for name, _ in columns]).set_index("account_id")
    frame = frame.astype({'limit "big"': "float64", "switch": "float64", "flat": "float64", "note`s": "object"})
    expected = _python_scores(model, frame)
    assert_same_scores(got, expected, model.points_scaling.factor)
    clamped = expected["score"].isin([expected["score"].min(), expected["score"].max()])
    assert clamped.sum() > len(rows) // 3  # the clamp is reached both ways...
    assert expected["score"].nunique() > 50  # ...and the bins still tell rows apart


# --- the SQL text --------------------------------------------------------------------


def test_a_value_on_a_split_scores_in_the_bin_above():
    model = _edge_scorecard()
    connection = sqlite3.connect(":memory:")
    connection.execute('CREATE TABLE t (id INTEGER, "limit ""big""" REAL, "note`s" TEXT, switch REAL, flat REAL)')
    connection.executemany(
        "INSERT INTO t VALUES (?, ?, 'a b', 0.0, 1.0)", [(1, float(np.nextafter(0.1, -np.inf))), (2, 0.1)]
    )
    scores = dict(connection.execute(render_select_sql(model, table="t", id_column="id", include_pd=False)).fetchall())
    assert scores[2] - scores[1] == pytest.approx(0.9 * (7.5 - 0.01))


def test_numbers_are_written_as_doubles_in_every_dialect():
    model = _edge_scorecard()
    assert "1/3" not in render_score_sql(model) and repr(1 / 3) in render_score_sql(model)
    assert f"{1 / 3!r}::float8" in render_score_sql(model, dialect="postgresql")
    assert f"{1 / 3!r}D" in render_score_sql(model, dialect="spark")
    assert "--" not in render_score_sql(model, dialect="postgresql")


def test_an_unknown_dialect_is_refused():
    with pytest.raises(InputError) as caught:
        render_score_sql(_edge_scorecard(), dialect="oracle")  # type: ignore[arg-type]
    assert caught.value.code == "sql_dialect_unknown"


def test_a_scorecard_with_unsorted_splits_is_refused_with_every_problem():
    bad = ScorecardFeature(
        name="x",
        kind="numeric",
        splits=(2.0, 1.0),
        points=(1.0, math.nan, 3.0),
        missing_points=0.0,
        special_points=0.0,
        labels=("a", "b", "c"),
    )
    model = Scorecard.from_table(ScorecardTable(features=(bad,)), Calibration())
    with pytest.raises(InputError) as caught:
        render_score_sql(model)
    assert "x.splits must be strictly increasing" in str(caught.value)
    assert "x.points must be finite numbers" in str(caught.value)


# --- the command ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def scorecard_dir(trained, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("scorecard")
    save_model(
        trained.model,
        trained.metrics,
        out,
        model_id="uci_scorecard",
        training_data_sha256="0" * 64,
        trained_on="uci sample",
    )
    return out


def test_export_writes_sql_that_scores_as_the_saved_model(scorecard_dir, accounts, tmp_path):
    out = tmp_path / "score.sql"
    result = CliRunner().invoke(
        app,
        [
            "model",
            "export",
            "--model",
            str(scorecard_dir),
            "--format",
            "sql",
            "--dialect",
            "sqlite",
            "--table",
            "accounts",
            "--id",
            "ID",
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "uci_scorecard@" in result.stdout and str(out) in result.stdout
    printed = CliRunner().invoke(
        app, ["model", "export", "--model", str(scorecard_dir), "--table", "accounts", "--id", "ID"]
    )
    assert printed.exit_code == 0 and printed.stdout == out.read_text(encoding="utf-8")
    model, _ = load_model(scorecard_dir)
    sample = accounts.iloc[::30]
    connection = sqlite3.connect(":memory:")
    columns, rows = _rows(sample, nan_rows=sample["ID"] % 2 == 0)
    connection.execute(_create_table("sqlite", "accounts", columns))
    connection.executemany(f"INSERT INTO accounts VALUES ({', '.join('?' * len(columns))})", rows)
    got = _sql_scores(connection.execute(out.read_text(encoding="utf-8")).fetchall())
    assert isinstance(model, Scorecard)
    expected = _python_scores(model, features_from_table(sample, id_column="ID", source="sample"))
    assert_same_scores(got, expected, model.points_scaling.factor)


def test_export_refuses_a_gbm_model_in_one_line(trained, tmp_path):
    raw = load_uci_raw().iloc[:2000]
    inputs = inputs_from_table(raw, target="Y", id_column="ID")
    # A small forest is enough to be refused; the scorecard's figures fill the report.
    gbm = GradientBoostedModel(max_trees=20, early_stopping_rounds=5).fit(inputs.features, inputs.bad)
    save_model(
        gbm, trained.metrics, tmp_path / "gbm", model_id="gbm", training_data_sha256="0" * 64, trained_on="uci sample"
    )
    result = CliRunner().invoke(app, ["model", "export", "--model", str(tmp_path / "gbm"), "--format", "sql"])
    assert result.exit_code == 2
    assert result.stdout == ""
    assert len(result.stderr.strip().splitlines()) == 1
    assert "only scorecards export to SQL" in result.stderr and "'gbm'" in result.stderr


@pytest.mark.parametrize(
    ("option", "value", "code"),
    [("--format", "pmml", "export_format_unknown"), ("--dialect", "oracle", "sql_dialect_unknown")],
)
def test_export_refuses_an_unknown_format_or_dialect(scorecard_dir, option, value, code):
    result = CliRunner().invoke(app, ["model", "export", "--model", str(scorecard_dir), option, value])
    assert result.exit_code == 2
    assert len(result.stderr.strip().splitlines()) == 1
    assert option in result.stderr and repr(value) in result.stderr and code in result.stderr


def test_the_cli_offers_every_dialect_the_export_renders():
    from linewise.cli.model import SQL_DIALECTS as OFFERED
    from linewise.models.sql_export import SQL_DIALECTS as RENDERED

    assert OFFERED == RENDERED
