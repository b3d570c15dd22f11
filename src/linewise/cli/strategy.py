"""`linewise strategy ...`: check, compare and explain strategy files; store, activate and list versions."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.markup import escape

from linewise.cli import _versions
from linewise.cli._common import console, emit, engine, parse_language, user_errors
from linewise.cli.user import CLI_ACTOR
from linewise.strategy import read_strategy_file

strategy_app = typer.Typer(
    help="Strategy files: validate, diff, explain; versions in the database: store, activate, list.",
    no_args_is_help=True,
)


@strategy_app.command("validate")
def validate(
    file: Path = typer.Argument(..., help="Strategy YAML file."),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
) -> None:
    """Check a strategy file: every problem with its line, warnings too; exit 2 if invalid."""
    with user_errors():
        loaded = read_strategy_file(file)
    spec = loaded.spec
    payload = {
        "strategy": spec.ref,
        "valid": True,
        "segments": [s.name for s in spec.segments],
        "grades": [g.name for g in spec.grades],
        "tiers": len(spec.ladder),
        "arms": {a.name: a.share for a in spec.arms},
        "warnings": [str(w) for w in loaded.warnings],
    }

    def render() -> None:
        console.print(
            f"{spec.ref}: valid — {len(spec.segments)} segments, "
            f"{len(spec.grades)} grades, {len(spec.ladder)} tiers, "
            f"{len(spec.arms)} arm{'s' if len(spec.arms) != 1 else ''}"
        )
        for warning in loaded.warnings:
            console.print(f"[yellow]warning:[/] {escape(str(warning))}", markup=True)

    emit(as_json, payload, render)


@strategy_app.command("diff")
def diff(
    old: Path = typer.Argument(..., help="The strategy in force."),
    new: Path = typer.Argument(..., help="The proposed strategy."),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
) -> None:
    """Say what changed from OLD to NEW, one line per change (both files are checked first)."""
    from linewise.strategy.diff import describe_changes

    with user_errors():
        before, after = read_strategy_file(old), read_strategy_file(new)
    changes = describe_changes(before.spec, after.spec)
    payload = {"old": before.spec.ref, "new": after.spec.ref, "changes": changes}

    def render() -> None:
        noun = "change" if len(changes) == 1 else "changes"
        console.print(f"{before.spec.ref} → {after.spec.ref}: {len(changes)} {noun}")
        for change in changes:
            console.print(f"  {change}")

    emit(as_json, payload, render)


@strategy_app.command("explain")
def explain(
    file: Path = typer.Argument(..., help="Strategy YAML file."),
    lang: str = typer.Option("zh", "--lang", help="Language of the text: zh or en."),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
) -> None:
    """Tell customers the strategy's rules in plain words, rendered from the file itself.

    With several arms, the text is that of the arm with the largest share.
    """
    from linewise.explain.criteria import published_criteria
    from linewise.strategy.compiled import compile_strategy

    with user_errors():
        language = parse_language(lang)
        loaded = read_strategy_file(file)
    arm, text = published_criteria(compile_strategy(loaded), language)
    payload = {"strategy": loaded.spec.ref, "arm": arm, "lang": language, "text": text}
    emit(as_json, payload, lambda: console.print(text))


@strategy_app.command("init")
def init(
    out: Path = typer.Option(..., "--out", help="The strategy file to write."),
    currency: str = typer.Option("TWD", "--currency", help="The currency of the book it is for, e.g. CNY."),
    name: str = typer.Option("default", "--id", help="The strategy's id (its version starts at 1)."),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
) -> None:
    """Write the shipped strategy as a starting point for a book in CURRENCY, checked before it is written."""
    from linewise.cli._output import check_output_file
    from linewise.inputs import parse_code
    from linewise.money import currency_exponent
    from linewise.strategy import default_strategy_text, read_strategy

    with user_errors():
        check_output_file(out)
        currency_exponent(currency)
        parse_code(name.replace("-", "_"), "--id")
        text = default_strategy_text()
        for old, new in (
            ("\nstrategy: default\n", f"\nstrategy: {name}\n"),
            ("\ncurrency: TWD\n", f"\ncurrency: {currency}\n"),
        ):
            text = text.replace(old, new, 1)
        loaded = read_strategy(text, str(out))
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text, encoding="utf-8")
    payload = {"strategy": loaded.spec.ref, "currency": currency, "out": str(out)}
    emit(
        as_json,
        payload,
        lambda: console.print(
            f"{loaded.spec.ref} ({currency}) -> {out}; amounts are in major units of {currency}: "
            "review the ladder and caps for your book, then `linewise strategy validate`"
        ),
    )


@strategy_app.command("store")
def store(
    file: Path = typer.Argument(..., help="Strategy YAML file."),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
) -> None:
    """Store a strategy file in the database under its id@version, checked first, to be activated.

    The same text stored again writes nothing; another text under a stored id@version is refused.
    """
    from datetime import UTC, datetime

    from linewise.review.versions import store_strategy_text
    from linewise.textfiles import read_text

    with user_errors():
        text = read_text(file)
        version, created = store_strategy_text(engine(), text, source=str(file), by=CLI_ACTOR, now=datetime.now(UTC))
    _versions.stored(version, created=created, as_json=as_json)


@strategy_app.command("activate")
def activate(
    ref: str = typer.Argument(..., help="A stored strategy's id@version (linewise strategy versions)."),
    by: str = typer.Option(..., "--by", help="The admin user who activates it (linewise user add --role admin)."),
    note: str | None = typer.Option(None, "--note", help="Why, for the record (at most 500 characters)."),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
) -> None:
    """Make a stored strategy the one decisions are made with (the service's too); recorded and audited."""
    with user_errors():
        _versions.activate(engine(), "strategy", ref, by=by, note=note, as_json=as_json)


@strategy_app.command("versions")
def versions(as_json: bool = typer.Option(False, "--json", help="Machine-readable output.")) -> None:
    """List the stored strategies, newest first: the active one, who stored and who last activated each."""
    with user_errors():
        _versions.versions(engine(), "strategy", as_json=as_json)
