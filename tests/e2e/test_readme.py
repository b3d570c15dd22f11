"""Every command of the README's CLI tours runs and prints what the README shows.

The commands run in this process (tests/inprocess.py), as tests/cli's do: what only
the installed command in a process of its own shows is tested in test_installed_command.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
from tests.inprocess import run_linewise

README = Path(__file__).resolve().parents[2] / "README.md"
_MODEL_VERSION = re.compile(r"gbm@[0-9a-f]{12}")


def tour(number: int = 0) -> list[tuple[str, list[str]]]:
    blocks = re.findall(r"```console\n(.*?)```", README.read_text(encoding="utf-8"), re.S)
    assert len(blocks) > number, f"README has no ```console block number {number}"
    steps: list[tuple[str, list[str]]] = []
    for line in blocks[number].splitlines():
        if line.startswith("$ "):
            steps.append((line[2:], []))
        else:
            steps[-1][1].append(line.rstrip())
    return steps


def run(command: str, cwd: Path):
    program, *args = shlex.split(command)
    assert program == "linewise", command
    return run_linewise(*args, cwd=cwd)


def test_readme_tour_prints_what_the_readme_shows(tmp_path):
    steps = tour()
    assert len(steps) >= 10
    for command, expected in steps:
        result = run(command, tmp_path)
        output = [line.rstrip() for line in (result.stdout + result.stderr).rstrip("\n").splitlines()]
        assert output == expected, command
        failed = bool(expected) and expected[0].startswith("error:")
        assert result.returncode == (2 if failed else 0), command
    assert (tmp_path / "panel.parquet").exists()


@pytest.mark.slow  # trains a model
def test_readme_ledger_loop_prints_what_the_readme_shows(tmp_path):
    steps = tour(1)
    assert any(command.startswith("linewise decide") and "--apply" in command for command, _ in steps)
    for command, expected in steps:
        result = run(command, tmp_path)
        failed = bool(expected) and expected[0].startswith("error:")
        assert result.returncode == (2 if failed else 0), (command, result.stderr)
        if command.startswith("linewise model train"):
            continue  # its cross-validated figures are the machine's floating point's
        output = [line.rstrip() for line in (result.stdout + result.stderr).rstrip("\n").splitlines()]
        # So is the model's version, a digest of its trees: the same book gives the same
        # decisions on another CPU, and trees that may differ in their last bits.
        assert [_MODEL_VERSION.sub("gbm@<version>", line) for line in output] == [
            _MODEL_VERSION.sub("gbm@<version>", line) for line in expected
        ], command
