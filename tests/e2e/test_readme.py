"""Every command of the README's CLI tour runs and prints what the README shows."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[2] / "README.md"
BIN = Path(sys.executable).parent
# The installed command in a process of its own: seconds each (make test-fast skips it).
pytestmark = pytest.mark.slow


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


def test_readme_tour_prints_what_the_readme_shows(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("LINEWISE_")}
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    env["COLUMNS"] = "120"
    steps = tour()
    assert len(steps) >= 10
    for command, expected in steps:
        result = subprocess.run(
            shlex.split(command), cwd=tmp_path, env=env, capture_output=True, text=True, check=False
        )
        output = [line.rstrip() for line in (result.stdout + result.stderr).rstrip("\n").splitlines()]
        assert output == expected, command
        failed = bool(expected) and expected[0].startswith("error:")
        assert result.returncode == (2 if failed else 0), command
    assert (tmp_path / "panel.parquet").exists()


def test_readme_ledger_loop_prints_what_the_readme_shows(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("LINEWISE_")}
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    env["COLUMNS"] = "120"
    steps = tour(1)
    assert any(command.startswith("linewise decide") and "--apply" in command for command, _ in steps)
    for command, expected in steps:
        result = subprocess.run(
            shlex.split(command), cwd=tmp_path, env=env, capture_output=True, text=True, check=False
        )
        failed = bool(expected) and expected[0].startswith("error:")
        assert result.returncode == (2 if failed else 0), (command, result.stderr)
        if command.startswith("linewise model train"):
            continue  # its cross-validated figures are the machine's floating point's
        output = [line.rstrip() for line in (result.stdout + result.stderr).rstrip("\n").splitlines()]
        assert output == expected, command
