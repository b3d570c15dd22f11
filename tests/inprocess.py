"""``linewise`` run in this process, answering as the installed command would.

A fresh interpreter costs a second or more before linewise does anything (imports of
pandas, LightGBM, SQLAlchemy), so the command tests run the Typer app through its test
runner and get back what a process gives: the exit status, stdout and stderr. What only
a real process shows (the entry point, the exit status the shell sees, the README tour)
is tested as the installed command in ``tests/e2e``.
"""

from __future__ import annotations

import os
import subprocess
import traceback
from collections.abc import Mapping
from contextlib import chdir
from pathlib import Path

from typer.testing import CliRunner

from linewise.cli.main import app

__all__ = ["run_linewise"]


def run_linewise(*args: str, cwd: Path, env: Mapping[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """``linewise ARGS`` run in ``cwd`` with no ``LINEWISE_*`` setting but those in ``env``.

    The terminal is 120 columns wide unless ``env`` says otherwise. An exception that
    escapes the command is on stderr as the traceback Python prints, with status 1, as
    it would be from the installed command, so that "no traceback" can be asserted.
    """
    settings: dict[str, str | None] = {name: None for name in os.environ if name.startswith("LINEWISE_")}
    settings.update({"COLUMNS": "120", **(env or {})})
    with chdir(cwd):
        result = CliRunner().invoke(app, list(args), env=settings)
    stderr = result.stderr
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        stderr += "".join(traceback.format_exception(result.exception))
    return subprocess.CompletedProcess(["linewise", *args], result.exit_code, result.stdout, stderr)
