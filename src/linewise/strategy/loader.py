"""Read a strategy file: YAML, then the spec, then the static checks, every problem at once.

Each problem names the file, the line, the field, the rule and the value, in the one
message template of linewise. A file with any error is refused whole; warnings are
returned for the caller to show.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from linewise.errors import Problem, StrategyValidationError
from linewise.strategy.checks import FieldPath, Finding, check_strategy
from linewise.strategy.spec import StrategySpec
from linewise.textfiles import parse_yaml, read_text

__all__ = [
    "DEFAULT_STRATEGY",
    "LoadedSpec",
    "default_strategy_text",
    "read_strategy",
    "read_strategy_file",
]

DEFAULT_STRATEGY = "default.yaml"


@dataclass(frozen=True)
class LoadedSpec:
    """A valid strategy file: its spec, each arm's spec and the warnings it raised."""

    source: str
    text: str
    spec: StrategySpec
    arms: dict[str, StrategySpec]
    warnings: list[Problem]


def default_strategy_text() -> str:
    """The text of the strategy shipped with linewise."""
    return resources.files("linewise.strategy").joinpath(DEFAULT_STRATEGY).read_text("utf-8")


def read_strategy_file(path: Path) -> LoadedSpec:
    """Read and check the strategy at ``path``.

    Raises :class:`~linewise.errors.InputFileError` when the file cannot be read within
    the bounds of :mod:`linewise.textfiles` (missing, too large, too deep, YAML
    aliases), and StrategyValidationError listing every problem of its content.
    """
    return read_strategy(read_text(path), str(path))


def read_strategy(text: str, source: str = "<strategy>") -> LoadedSpec:
    """Check a strategy given as YAML text; ``source`` names it in problems.

    The text is held to the bounds of :mod:`linewise.textfiles` (size, nesting, no
    aliases) before anything is built from it.
    """
    document = _parse_yaml(text, source)
    lines = document.lines
    problems = list(document.problems)
    raw = document.data
    spec = _validate(raw, (), lines, source, problems)
    arms: dict[str, StrategySpec] = {}
    warnings: list[Problem] = []
    if spec is not None:
        for index, arm in enumerate(spec.arms):
            merged = _merge(_without_arms(raw), arm.overrides)
            # The champion's settings passed, so whatever fails here is the arm's doing.
            arm_spec = _validate(merged, ("arms", index, "overrides"), lines, source, problems)
            if arm_spec is not None:
                arms[arm.name] = arm_spec
        for finding in check_strategy(spec, arms):
            target = warnings if finding.warning else problems
            target.append(_problem(source, lines, finding))
    else:
        problems += _checks_of_valid_sections(raw, problems, lines, source)
    if problems or spec is None:
        raise StrategyValidationError(source, sorted(problems, key=_by_line))
    return LoadedSpec(source, text, spec, arms, warnings)


def _checks_of_valid_sections(
    raw: Mapping[str, Any], problems: Sequence[Problem], lines: Mapping[FieldPath, int], source: str
) -> list[Problem]:
    """The static checks' errors in the sections that passed field validation.

    The broken sections are replaced by the shipped strategy's, which pass every check,
    so that one typo does not hide a ladder that falls or grades that overlap.
    """
    broken = {problem.column.split(".")[0].split("[")[0] for problem in problems}
    shipped = parse_yaml(default_strategy_text(), DEFAULT_STRATEGY).data
    patched = {
        **{key: value for key, value in raw.items() if key in StrategySpec.model_fields},
        **{key: shipped[key] for key in broken if key in shipped},
    }
    try:
        spec = StrategySpec.model_validate(patched)
    except ValidationError:
        return []
    return [
        _problem(source, lines, finding)
        for finding in check_strategy(spec, {})
        if not finding.warning and finding.path[0] not in broken and not broken.intersection(finding.depends)
    ]


# --- YAML with line numbers --------------------------------------------------------------


@dataclass(frozen=True)
class _Document:
    data: Any
    lines: dict[FieldPath, int]
    problems: list[Problem]


def _parse_yaml(text: str, source: str) -> _Document:
    try:
        document = parse_yaml(text, source)  # the nodes carry the lines
    except yaml.MarkedYAMLError as exc:
        line = exc.problem_mark.line + 1 if exc.problem_mark else None
        raise StrategyValidationError(source, [Problem(source, line, "file", "valid YAML", str(exc.problem))]) from None
    except yaml.YAMLError as exc:
        raise StrategyValidationError(source, [Problem(source, None, "file", "valid YAML", str(exc))]) from None
    node, data = document.node, document.data
    if not isinstance(data, dict) or node is None:
        raise StrategyValidationError(
            source, [Problem(source, 1, "file", "a mapping of strategy fields", type(data).__name__)]
        )
    lines: dict[FieldPath, int] = {}
    problems: list[Problem] = []
    for path, child, duplicate in _walk(node, ()):
        if duplicate:
            problems.append(
                Problem(
                    source,
                    child.start_mark.line + 1,
                    _dotted(path),
                    "given once (a repeated key would silently win)",
                    path[-1],
                )
            )
        lines.setdefault(path, child.start_mark.line + 1)
    return _Document(data, lines, problems)


def _walk(node: yaml.Node, path: FieldPath) -> Iterator[tuple[FieldPath, yaml.Node, bool]]:
    """Every node under ``node`` with its path, and whether its key was seen before."""
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key_node, value_node in node.value:
            key = str(key_node.value)
            child = (*path, key)
            yield child, key_node, key in seen
            seen.add(key)
            yield from _walk(value_node, child)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            yield (*path, index), item, False
            yield from _walk(item, (*path, index))


# --- the spec ------------------------------------------------------------------------------


def _validate(
    raw: Any, prefix: FieldPath, lines: Mapping[FieldPath, int], source: str, problems: list[Problem]
) -> StrategySpec | None:
    try:
        return StrategySpec.model_validate(raw)
    except ValidationError as exc:
        for error in exc.errors():
            path = (*prefix, *error["loc"])
            problems.append(Problem(source, _line_of(lines, path), _dotted(path), _rule(error), _value(error)))
        return None


def _rule(error: Mapping[str, Any]) -> str:
    kind, message = error["type"], str(error["msg"])
    if kind == "extra_forbidden":
        return "a field of the strategy format (is it misspelt?)"
    if kind == "missing":
        return "given"
    for prefix in ("Value error, ", "Input should be ", "Assertion failed, "):
        if message.startswith(prefix):
            message = message[len(prefix) :]
    return message


def _value(error: Mapping[str, Any]) -> Any:
    if error["type"] == "missing":
        return "nothing"
    value = error.get("input")
    return value if not isinstance(value, dict | list) else type(value).__name__


def _without_arms(raw: Mapping[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in raw.items() if key != "arms"}


def _merge(base: Mapping[str, Any], overrides: Mapping[str, Any]) -> dict[str, Any]:
    """``base`` with ``overrides`` laid over it: mappings merge, anything else replaces."""
    merged = copy.deepcopy(dict(base))
    for key, value in overrides.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


# --- problems ------------------------------------------------------------------------------


def _problem(source: str, lines: Mapping[FieldPath, int], finding: Finding) -> Problem:
    value = finding.value
    if isinstance(value, Decimal):  # as written in the file, not as Python's repr
        value = int(value) if value == value.to_integral_value() else float(value)
    return Problem(source, _line_of(lines, finding.path), _dotted(finding.path), finding.rule, value)


def _line_of(lines: Mapping[FieldPath, int], path: FieldPath) -> int | None:
    """The line of ``path``, or of its nearest ancestor written in the file."""
    for end in range(len(path), -1, -1):
        if path[:end] in lines:
            return lines[path[:end]]
    return None


def _dotted(path: FieldPath) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else f"{'.' if out else ''}{part}"
    return out or "strategy"


def _by_line(problem: Problem) -> tuple[int, str]:
    return (problem.row or 0, problem.column)
