"""`linewise model ...`: train, score, report and export risk models; store, activate and list versions."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
import typer
from rich.markdown import Markdown
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from linewise.cli import _versions
from linewise.cli._common import console, emit, engine, parse_date, user_errors
from linewise.cli._output import check_output_directory, check_output_file
from linewise.data import read_portfolio, read_table, write_table
from linewise.errors import InputError
from linewise.features import REGISTRY, compute_features

if TYPE_CHECKING:
    from linewise.models.inputs import ModelInputs
    from linewise.models.sql_export import SqlDialect

# The models package imports scikit-learn, LightGBM and optbinning (about 1.5 s): each
# command imports them when it runs, so that `linewise line show` does not wait.
SQL_DIALECTS: tuple[SqlDialect, ...] = ("sqlite", "postgresql", "spark")

model_app = typer.Typer(
    help="Risk models: train, score, report, export; versions in the database: store, activate, list.",
    no_args_is_help=True,
)
EXPORT_FORMATS = ("sql",)


def _split(text: str | None) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()] if text else []


def _special_codes(text: str | None) -> list[float]:
    codes = []
    for part in _split(text):
        try:
            codes.append(float(part))
        except ValueError:
            raise InputError.for_field(
                "special_code_not_a_number",
                where="--special",
                field="--special",
                rule="numbers separated by commas, such as -999,-1",
                value=part,
            ) from None
    return codes


def _one_source(data: Path | None, portfolio: Path | None, data_form: str) -> None:
    """Exactly one of --data and --portfolio must be given."""
    if (data is None) == (portfolio is None):
        given = [name for name, path in (("--data", data), ("--portfolio", portfolio)) if path is not None]
        raise InputError.for_field(
            "data_or_portfolio_required",
            where="--data/--portfolio",
            field="the input",
            rule=f"either {data_form} or --portfolio DIR, not both",
            value=given,
        )


def _load_inputs(
    data: Path | None,
    portfolio: Path | None,
    *,
    target: str | None,
    bad: str,
    id_column: str | None,
    exclude: str | None,
    as_of: str | None,
) -> tuple[ModelInputs, str]:
    from linewise.models.inputs import (
        inputs_from_portfolio,
        inputs_from_table,
        portfolio_outcome_as_of,
    )

    _one_source(data, portfolio, "--data FILE (any table with a target)")
    if portfolio is not None:
        loaded = read_portfolio(portfolio)
        when = parse_date(as_of, "--as-of") if as_of else portfolio_outcome_as_of(loaded)
        return inputs_from_portfolio(loaded, when), f"{portfolio} as of {pd.Timestamp(when).date()}"
    assert data is not None
    if not target:
        raise InputError.for_field(
            "target_required",
            where="--target",
            field="--target",
            rule="the target column's name, given with --data",
            value=target,
        )
    table = read_table(data)
    inputs = inputs_from_table(
        table, target=target, bad_value=bad, id_column=id_column, exclude=_split(exclude), source=str(data)
    )
    return inputs, str(data)


@model_app.command("train")
def model_train(
    out: Path = typer.Option(..., "--out", help="Directory for the model artefact."),
    data: Path | None = typer.Option(None, "--data", help="CSV or Parquet with a binary target."),
    portfolio: Path | None = typer.Option(None, "--portfolio", help="A portfolio directory."),
    target: str | None = typer.Option(None, "--target", help="Target column (with --data)."),
    bad: str = typer.Option("1", "--bad", help="The target value that means default."),
    id_column: str | None = typer.Option(None, "--id", help="Id column (not a feature)."),
    exclude: str | None = typer.Option(None, "--exclude", help="Columns to leave out, comma-separated."),
    special: str | None = typer.Option(None, "--special", help="Special codes, e.g. -999,-1 (own bins)."),
    kind: str = typer.Option("scorecard", "--kind", help="scorecard or gbm."),
    cv: int = typer.Option(5, "--cv", help="Cross-validation folds (stratified, shuffled, seed 0)."),
    as_of: str | None = typer.Option(None, "--as-of", help="Feature date (with --portfolio)."),
    model_id: str | None = typer.Option(None, "--id-name", help="Model id (default: <kind>)."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Train a scorecard or a gradient-boosted model with cross-validated figures."""
    from linewise.models.artifacts import save_model
    from linewise.models.kinds import model_kind
    from linewise.models.training import train_model, training_data_hash

    with user_errors():
        check_output_directory(out)
        model_kind(kind, where="--kind")
        special_codes = _special_codes(special)
        inputs, trained_on = _load_inputs(
            data, portfolio, target=target, bad=bad, id_column=id_column, exclude=exclude, as_of=as_of
        )
        monotone = {name: REGISTRY[name].risk_direction.sign for name in inputs.features.columns if name in REGISTRY}
        with Progress(
            TextColumn(f"training {kind}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.description}"),
            TimeElapsedColumn(),
            console=console,
            transient=True,
            disable=as_json,
        ) as progress:
            task = progress.add_task("", total=cv + 1)

            def advance(message: str) -> None:
                progress.update(task, advance=1, description=message)

            trained = train_model(
                inputs, kind=kind, folds=cv, monotone=monotone, special_codes=special_codes, progress=advance
            )
        manifest = save_model(
            trained.model,
            trained.metrics,
            out,
            model_id=model_id or kind,
            training_data_sha256=training_data_hash(inputs),
            trained_on=trained_on,
        )
        payload = _summary(manifest, trained.metrics, out)
        emit(as_json, payload, lambda: _print_summary(payload))


def _summary(manifest: dict[str, Any], metrics: dict[str, Any], out: Path) -> dict[str, Any]:
    cv = metrics["cv"]
    return {
        "model": manifest["model"],
        "kind": metrics["kind"],
        "out": str(out),
        "n_rows": metrics["n_rows"],
        "bad_rate": metrics["bad_rate"],
        "features_used": len(manifest["features"]),
        "cv_auc": f"{cv['auc_mean']:.4f} ± {cv['auc_std']:.4f}",
        "cv_ks": f"{cv['ks_mean']:.4f} ± {cv['ks_std']:.4f}",
        "brier_out_of_fold": metrics["out_of_fold"]["brier"],
    }


def _print_summary(payload: dict[str, Any]) -> None:
    table = Table(
        show_header=False, title=f"model {payload['model']} written to {payload['out']}", title_justify="left"
    )
    for key, value in payload.items():
        if key not in ("model", "out"):
            table.add_row(key.replace("_", " "), f"{value:,}" if isinstance(value, int) else str(value))
    console.print(table)


@model_app.command("score")
def model_score(
    model_dir: Path = typer.Option(..., "--model", help="A model directory."),
    out: Path = typer.Option(..., "--out", help="Parquet file for the scores."),
    data: Path | None = typer.Option(None, "--data", help="CSV or Parquet with the model's features."),
    portfolio: Path | None = typer.Option(None, "--portfolio", help="A portfolio directory."),
    id_column: str | None = typer.Option(None, "--id", help="Id column of --data."),
    as_of: str | None = typer.Option(None, "--as-of", help="Feature date (with --portfolio)."),
    contributions: bool = typer.Option(False, "--contributions", help="Add per-feature contributions."),
) -> None:
    """Score accounts: PD, score points and (optionally) per-feature contributions."""
    from linewise.models.artifacts import load_model
    from linewise.models.inputs import categorical_features, features_from_table

    with user_errors():
        check_output_file(out)
        model, manifest = load_model(model_dir)
        _one_source(data, portfolio, "--data FILE")
        if portfolio is not None:
            loaded = read_portfolio(portfolio)
            when = parse_date(as_of, "--as-of") if as_of else loaded.months[-1]
            features = compute_features(loaded.panel, loaded.customers, when)
        else:
            assert data is not None
            features = features_from_table(
                read_table(data), id_column=id_column, source=str(data), text_columns=categorical_features(model)
            )
        scored = pd.DataFrame(
            {"pd": model.predict_proba(features), "score": model.score(features)}, index=features.index.astype("str")
        )
        if contributions:
            parts = model.contributions(features).add_prefix("contribution_")
            scored = scored.join(parts.set_axis(scored.index))
        scored.index.name = str(features.index.name) if features.index.name is not None else "row"
        write_table(scored.reset_index(), out)
        console.print(f"{len(scored):,} accounts scored with {manifest['model']} into {out}")


@model_app.command("report")
def model_report(
    model_dir: Path = typer.Argument(..., help="A model directory."),
    as_json: bool = typer.Option(False, "--json", help="Print metrics.json instead."),
) -> None:
    """Show a model's report (cross-validated figures, calibration, features)."""
    from linewise.models.artifacts import load_model

    with user_errors():
        _, manifest = load_model(model_dir)
        if as_json:
            typer.echo((model_dir / "metrics.json").read_text(encoding="utf-8"), nl=False)
            return
        console.print(Markdown((model_dir / "report.md").read_text(encoding="utf-8")))
        console.print(f"model {manifest['model']}")


@model_app.command("export")
def model_export(
    model_dir: Path = typer.Option(..., "--model", help="A model directory (a scorecard)."),
    export_format: str = typer.Option("sql", "--format", help="Export format: sql."),
    dialect: str = typer.Option("sqlite", "--dialect", help="sqlite, postgresql or spark."),
    table: str = typer.Option("accounts", "--table", help="Table (or schema.table) of features."),
    id_column: str = typer.Option("account_id", "--id", help="Id column of --table."),
    include_pd: bool = typer.Option(True, "--pd/--no-pd", help="Add the PD column."),
    out: Path | None = typer.Option(None, "--out", help="File for the SQL (default: print it)."),
) -> None:
    """Export a scorecard as one SQL statement: score (and PD) for every row of a table."""
    from linewise.models.artifacts import load_model
    from linewise.models.sql_export import render_select_sql

    with user_errors():
        if export_format not in EXPORT_FORMATS:
            raise InputError.for_field(
                "export_format_unknown",
                where="--format",
                field="format",
                rule=f"one of {list(EXPORT_FORMATS)}",
                value=export_format,
            )
        chosen = next((name for name in SQL_DIALECTS if name == dialect), None)
        if chosen is None:
            raise InputError.for_field(
                "sql_dialect_unknown",
                where="--dialect",
                field="dialect",
                rule=f"one of {list(SQL_DIALECTS)}",
                value=dialect,
            )
        if out is not None:
            check_output_file(out)
        model, manifest = load_model(model_dir)
        statement = render_select_sql(model, table=table, id_column=id_column, dialect=chosen, include_pd=include_pd)
        columns = "score and PD" if include_pd else "score"
        named = " ".join(table.split())  # the comment stays one line
        text = f"-- {manifest['model']}: {columns} for every row of {named} ({chosen})\n{statement};\n"
        if out is None:
            typer.echo(text, nl=False)
            return
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text, encoding="utf-8")
        console.print(f"SQL of {manifest['model']} ({chosen}) written to {out}")


@model_app.command("store")
def model_store(
    model_dir: Path = typer.Argument(..., help="A model directory (linewise model train)."),
    currency: str | None = typer.Option(
        None, "--currency", help="The currency of the book it scores, when its manifest names none (e.g. CNY)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
) -> None:
    """Store a model directory's files in the database under its id@version, checked to load, to be activated.

    The same files stored again write nothing; other files under a stored id@version are refused.
    """
    from datetime import UTC, datetime

    from linewise.cli.user import CLI_ACTOR
    from linewise.review.versions import store_model_dir

    with user_errors():
        version, created = store_model_dir(engine(), model_dir, currency=currency, by=CLI_ACTOR, now=datetime.now(UTC))
    _versions.stored(version, created=created, as_json=as_json)


@model_app.command("activate")
def model_activate(
    ref: str = typer.Argument(..., help="A stored model's id@version (linewise model versions)."),
    by: str = typer.Option(..., "--by", help="The admin user who activates it (linewise user add --role admin)."),
    note: str | None = typer.Option(None, "--note", help="Why, for the record (at most 500 characters)."),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
) -> None:
    """Make a stored model the one decisions are made with (the service's too); recorded and audited."""
    with user_errors():
        _versions.activate(engine(), "model", ref, by=by, note=note, as_json=as_json)


@model_app.command("versions")
def model_versions(as_json: bool = typer.Option(False, "--json", help="Machine-readable output.")) -> None:
    """List the stored models, newest first: the active one, who stored and who last activated each."""
    with user_errors():
        _versions.versions(engine(), "model", as_json=as_json)
