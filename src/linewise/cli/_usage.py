"""Command-line usage errors (a missing option, a word where a number goes) as one line with a code.

Typer's own report of a usage error is a framed box over several lines, with no code;
every other refusal of linewise is one line ending in its code (README, "Bad input").
The root command runs in typer's non-standalone mode and tells the error itself, so
that a caller, or a script reading stderr, sees the same shape for every bad input.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any, NoReturn

from typer import Abort, rich_utils
from typer._click.exceptions import (
    BadOptionUsage,
    BadParameter,
    ClickException,
    MissingParameter,
    NoArgsIsHelpError,
    NoSuchOption,
    UsageError,
)
from typer.core import TyperGroup

from linewise.cli._common import EXIT_BAD_INPUT, print_error

__all__ = ["OneLineErrorsGroup"]

# What pydantic (which parses typer's options) says is wrong, and the code it is told by.
_WHOLE_NUMBER = ("int_parsing", "int_from_float", "int_type", "int_parsing_size")
_CODES = {
    **dict.fromkeys(_WHOLE_NUMBER, "option_not_a_whole_number"),
    "greater_than": "option_out_of_range",
    "greater_than_equal": "option_out_of_range",
    "less_than": "option_out_of_range",
    "less_than_equal": "option_out_of_range",
}


class OneLineErrorsGroup(TyperGroup):
    """The root command: usage errors are one ``error:`` line with a code, exit status 2."""

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        windows_expand_args: bool = True,
        **extra: Any,
    ) -> Any:
        """Run the command line; a usage error is told in one line and exits 2."""
        extra["windows_expand_args"] = windows_expand_args
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode, **extra)
        given = list(sys.argv[1:] if args is None else args)
        if any("\x00" in arg for arg in given):
            # No shell can pass a NUL byte (C strings end there); only a program calling
            # linewise in-process can, and no path, id or amount holds one.
            _refuse(
                "command line: arguments must be free of NUL characters; got "
                f"{next(arg for arg in given if chr(0) in arg)!r} [argument_has_nul]"
            )
        try:
            status = super().main(given, prog_name, complete_var, False, **extra)
        except NoArgsIsHelpError as exc:
            rich_utils.rich_format_error(exc)
            sys.exit(exc.exit_code)
        except UsageError as exc:
            _refuse(usage_line(exc, given))
        except ClickException as exc:
            _refuse(f"command line: {exc.format_message()} [usage_invalid]")
        except Abort:
            print_error("aborted")
            sys.exit(1)
        sys.exit(status if isinstance(status, int) else 0)


def _refuse(line: str) -> NoReturn:
    print_error(line)
    sys.exit(EXIT_BAD_INPUT)


def usage_line(exc: UsageError, given: Sequence[str]) -> str:
    """The one line (ending in its code) that tells a usage error."""
    command = exc.ctx.command_path if exc.ctx is not None else "linewise"
    if isinstance(exc, MissingParameter) and exc.param is not None:
        name = _name(exc.param.opts, exc.param.name)
        return f"{name}: {name} must be given; got nothing [option_missing]"
    if isinstance(exc, BadParameter) and exc.param is not None:
        name = _name(exc.param.opts, exc.param.name)
        problem = _first_problem(exc)
        rule = (
            "a whole number (digits 0-9)"
            if problem.get("type") in _WHOLE_NUMBER
            else str(problem.get("msg", exc.message)).removeprefix("Input should be ")
        )
        value = problem.get("input", _raw_value(exc.param.opts, given))
        code = _CODES.get(str(problem.get("type")), "option_invalid")
        return f"{name}: {name} must be {rule}; got {value!r} [{code}]"
    if isinstance(exc, BadOptionUsage) and exc.option_name.startswith("-"):
        name = exc.option_name
        return f"{name}: {name} must be as `{command} --help` shows; got {exc.message!r} [option_misused]"
    if isinstance(exc, NoSuchOption):
        known = sorted(exc.possibilities or [])
        rule = f"one of {known}" if known else f"an option `{command} --help` lists"
        return f"{command}: option must be {rule}; got {exc.option_name!r} [option_unknown]"
    return f"{command}: arguments must be as `{command} --help` shows; got {exc.format_message()!r} [usage_invalid]"


def _name(opts: Sequence[str], fallback: str | None) -> str:
    long = [opt for opt in opts if opt.startswith("--")]
    if long:
        return long[0]
    return (fallback or "argument").upper()


def _first_problem(exc: BadParameter) -> dict[str, Any]:
    """Pydantic's first error behind a bad value (the rule and the value), if that is the cause."""
    errors = getattr(exc.__cause__, "errors", None)
    found = errors() if callable(errors) else []
    return dict(found[0]) if found else {}


def _raw_value(opts: Sequence[str], given: Sequence[str]) -> str | None:
    """The text given for an option, when the error does not carry it."""
    for position, arg in enumerate(given):
        for opt in opts:
            if arg == opt and position + 1 < len(given):
                return given[position + 1]
            if arg.startswith(f"{opt}="):
                return arg.split("=", 1)[1]
    return None
