"""Where a command will write (``--out``), checked before it does any work.

A command that computes for minutes and then cannot write its result has wasted the
minutes; one that wrote half its output and then failed has left a mess. Each
command that writes checks its paths first, here, so that a refusal writes nothing.
"""

from __future__ import annotations

import os
from pathlib import Path

from linewise.errors import InputError

__all__ = ["check_output_directory", "check_output_file"]


def check_output_file(path: Path, *, option: str = "--out") -> None:
    """Refuse ``path`` as a file to write unless it can be: not a directory, not under a file.

    Folders that do not exist yet are fine (the command creates them). Raises
    :class:`InputError` with code ``out_is_a_directory``, ``out_under_a_file`` or
    ``out_not_writable``.
    """
    if path.is_dir():
        raise _refused("out_is_a_directory", option, "a file, not an existing directory", path)
    _check_folders(path, option)
    if path.exists() and not os.access(path, os.W_OK):
        raise _refused("out_not_writable", option, "a file linewise may write", path)


def check_output_directory(path: Path, *, option: str = "--out") -> None:
    """Refuse ``path`` as a directory to write into unless it can be: not a file, not under one.

    Raises :class:`InputError` with code ``out_is_a_file``, ``out_under_a_file`` or
    ``out_not_writable``.
    """
    if path.exists() and not path.is_dir():
        raise _refused("out_is_a_file", option, "a directory, not an existing file", path)
    _check_folders(path, option)
    if path.is_dir() and not os.access(path, os.W_OK | os.X_OK):
        raise _refused("out_not_writable", option, "a directory linewise may write into", path)


def _check_folders(path: Path, option: str) -> None:
    """The nearest existing folder above ``path`` must be a folder linewise may write into."""
    for parent in path.absolute().parents:
        if not parent.exists():
            continue
        if not parent.is_dir():
            raise _refused("out_under_a_file", option, f"a path whose folders are folders ({parent} is a file)", path)
        if not os.access(parent, os.W_OK | os.X_OK) and not path.exists():
            raise _refused("out_not_writable", option, f"in a folder linewise may write into ({parent})", path)
        return


def _refused(code: str, option: str, rule: str, path: Path) -> InputError:
    return InputError.for_field(code, where=option, field=option, rule=rule, value=str(path))
