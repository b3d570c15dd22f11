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
        result = subprocess.run(shlex.split(command), cwd=tmp_path, env=env,
                                capture_output=True, text=True, check=False)
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
        result = subprocess.run(shlex.split(command), cwd=tmp_path, env=env,
                                capture_output=True, text=True, check=False)
        failed = bool(expected) and expected[0].startswith("error:")
        assert result.returncode == (2 if failed else 0), (command, result.stderr)
        if command.startswith("linewise model train"):
            continue  # its cross-validated figures are the machine's floating point's
        output = [line.rstrip() for line in (result.stdout + result.stderr).rstrip("\n").splitlines()]
        assert output == expected, command


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (["draw", "--account", "A1", "--amount", "-5", "--term", "6"], "amount_must_be_positive"),
        (["draw", "--account", "A1", "--amount", "30000.00", "--term", "6"], "exceeds_available_limit"),
        (["repay", "--account", "A1", "--amount", "10.00", "--on", "2026-13-01"], "date_malformed"),
        (["draw", "--account", "A1", "--amount", "600.00", "--term", "6", "--purpose", "securities"],
         "purpose_not_permitted"),
        (["repay", "--account", "A1", "--amount", "10.00"], "nothing_outstanding"),
    ],
)
def test_bad_input_exits_2_with_one_line_and_writes_nothing(tmp_path, args, code):
    env = {k: v for k, v in os.environ.items() if not k.startswith("LINEWISE_")}
    linewise = str(BIN / "linewise")

    def run(*a):
        return subprocess.run([linewise, *a], cwd=tmp_path, env=env, capture_output=True,
                              text=True, check=False)

    run("db", "upgrade")
    run("line", "open", "--account", "A1", "--customer", "C1", "--limit", "20000.00")
    before = run("line", "show", "--account", "A1", "--json").stdout
    result = run(*args)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and f"[{code}]" in lines[0]
    assert run("line", "show", "--account", "A1", "--json").stdout == before


def test_a_product_file_above_the_cost_ceiling_is_refused_by_name(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("LINEWISE_")}
    product = tmp_path / "product.json"
    product.write_text('{"annual_rate": "0.30", "terms_months": [6, 12]}', encoding="utf-8")
    linewise = str(BIN / "linewise")
    subprocess.run([linewise, "db", "upgrade"], cwd=tmp_path, env=env, check=True, capture_output=True)
    subprocess.run([linewise, "line", "open", "--account", "A1", "--customer", "C1", "--limit", "9000"],
                   cwd=tmp_path, env=env, check=True, capture_output=True)
    result = subprocess.run([linewise, "draw", "--account", "A1", "--amount", "600", "--term", "6"],
                            cwd=tmp_path, env={**env, "LINEWISE_PRODUCT_FILE": str(product)},
                            capture_output=True, text=True, check=False)
    assert result.returncode == 2
    assert "product.json" in result.stderr and "annualised cost 30.00%" in result.stderr


def test_commands_on_a_database_never_upgraded_say_how_to_fix_it(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("LINEWISE_")}
    result = subprocess.run(
        [str(BIN / "linewise"), "line", "open", "--account", "A1", "--customer", "C1", "--limit", "100"],
        cwd=tmp_path, env=env, capture_output=True, text=True, check=False)
    assert result.returncode == 2
    assert "run `linewise db upgrade`" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
