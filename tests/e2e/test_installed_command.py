"""The installed ``linewise`` refuses in one line with the exit status a shell sees.

tests/cli/test_refusals.py runs every refusal in-process; this shows the same holds
for the command a user types, outside the test runner.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from tests.cli.test_refusals import BILLION_LAUGHS, UNREACHABLE_PG

LINEWISE = str(Path(sys.executable).parent / "linewise")
# The installed command in a process of its own: seconds each (make test-fast skips it).
pytestmark = pytest.mark.slow


def run(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("LINEWISE_")}
    return subprocess.run(
        [LINEWISE, *args], cwd=cwd, env={**clean, **(env or {})}, capture_output=True, text=True, check=False
    )


def test_the_installed_command_exits_3_for_an_unreachable_database_and_2_for_billion_laughs(tmp_path):
    unreachable = run("line", "show", "--account", "A1", cwd=tmp_path, env={"LINEWISE_DATABASE_URL": UNREACHABLE_PG})
    assert unreachable.returncode == 3
    assert unreachable.stderr.count("\n") == 1 and "[database_unreachable]" in unreachable.stderr
    (tmp_path / "laughs.yaml").write_text(BILLION_LAUGHS, encoding="utf-8")
    laughs = run("strategy", "validate", "laughs.yaml", cwd=tmp_path)
    assert laughs.returncode == 2
    assert laughs.stderr.count("\n") == 1 and "[yaml_alias_not_allowed]" in laughs.stderr
    assert json.dumps(laughs.stdout) == '""'
