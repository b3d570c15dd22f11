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


def tour() -> list[tuple[str, list[str]]]:
    block = re.search(r"```console\n(.*?)```", README.read_text(encoding="utf-8"), re.S)
    assert block, "README has no ```console block"
    steps: list[tuple[str, list[str]]] = []
    for line in block.group(1).splitlines():
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
        result = subprocess.run(shlex.split(command), cwd=tmp_path, env=env,
                                capture_output=True, text=True, check=False)
        output = [line.rstrip() for line in (result.stdout + result.stderr).rstrip("\n").splitlines()]
        assert output == expected, command
        failed = bool(expected) and expected[0].startswith("error:")
        assert result.returncode == (2 if failed else 0), command
    assert (tmp_path / "panel.parquet").exists()
