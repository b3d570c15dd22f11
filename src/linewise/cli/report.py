"""`linewise report`: the lab's results as one self-contained HTML page and one JSON of every figure.

Parsing and printing only: the page is :mod:`linewise.simulate.report`'s.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer

from linewise.cli._common import console, emit, user_errors
from linewise.cli._output import check_output_file
from linewise.errors import InputError

_SOURCES = {
    "simulation": "summary.json",
    "optimise": "optimise.json",
    "monitor": "monitor.json",
    "postloan": "postloan.json",
}


def report_command(
    simulation: Path | None = typer.Option(None, "--simulation", help="A directory linewise simulate wrote."),
    optimise: Path | None = typer.Option(None, "--optimise", help="A directory linewise optimise wrote."),
    monitor: Path | None = typer.Option(None, "--monitor", help="A directory linewise monitor wrote."),
    postloan: Path | None = typer.Option(None, "--postloan", help="A directory linewise postloan wrote."),
    out: Path = typer.Option(..., "--out", help="The HTML file to write; its figures go beside it as .json."),
    as_json: bool = typer.Option(False, "--json", help="Say what was written, as JSON."),
) -> None:
    """Write one HTML report (plots and tables, loading nothing from elsewhere) from the lab's outputs."""
    from linewise.simulate.report import lab_page

    given = {"simulation": simulation, "optimise": optimise, "monitor": monitor, "postloan": postloan}
    with user_errors():
        check_output_file(out)
        if not any(given.values()):
            raise InputError.for_field(
                "source_required",
                where="report",
                field="--simulation/--optimise/--monitor/--postloan",
                rule="at least one of them",
                value="none",
            )
        figures = {name: _read(directory, name) for name, directory in given.items() if directory is not None}
        decisions = _decisions(simulation) if simulation is not None else {}
        html = lab_page(figures, decisions)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(html, encoding="utf-8")
        figures_path = out.with_suffix(".json")
        figures_path.write_text(json.dumps(figures, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    payload = {"html": str(out), "figures": str(figures_path), "sections": list(figures)}
    emit(as_json, payload, lambda: console.print(f"written: {out} ({', '.join(figures)}) and {figures_path}"))


def _read(directory: Path, name: str) -> Any:
    from linewise.textfiles import read_json

    path = directory / _SOURCES[name]
    if not path.is_file():
        raise InputError.for_field(
            "file_not_found",
            where=f"--{name}",
            field=_SOURCES[name],
            rule=f"in the directory linewise {name if name != 'simulation' else 'simulate'} wrote",
            value=str(path),
        )
    return read_json(path)


def _decisions(directory: Path) -> dict[str, Any]:
    """The decisions simulate wrote beside its summary, by strategy label."""
    from linewise.data.files import read_decisions

    found = {}
    for path in sorted(directory.glob("decisions-*.parquet")):
        label = path.stem.split("-", 2)[-1]
        found[label] = read_decisions(path)
    return found
